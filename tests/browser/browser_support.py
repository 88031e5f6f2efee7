"""Helpers shared by the browser tests (fixtures live in conftest.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from playwright.sync_api import Page
from werkzeug.serving import BaseWSGIServer

from eduverse_core import Eduverse

PASSWORD = "correct horse battery"
_numbers = itertools.count(1)


@dataclass
class LiveServer:
    url: str
    ev: Eduverse
    server: BaseWSGIServer = field(repr=False)


PageFactory = Callable[..., Page]


def unique_email(prefix: str) -> str:
    return f"{prefix}{next(_numbers)}@example.org"


def sign_up(page: Page, name: str, *, role: str = "student", email: str | None = None) -> str:
    """Sign up through the form; returns the e-mail used. Ends on the role's home page."""
    address = email or unique_email(role)
    page.goto("/#/signup")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("I am a").select_option(role)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/#/instructor" if role == "instructor" else "**/#/learn")
    return address
