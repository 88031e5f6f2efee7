"""Helpers shared by the browser tests (fixtures live in conftest.py)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from http_json import ok_json, request_json
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


# -- HTTP API helpers (the instructor tests drive the learner's side through the API) -----------
def api_request(
    server_url: str,
    method: str,
    path: str,
    body: object = None,
    token: str | None = None,
) -> tuple[int, object]:
    """Call the JSON API; returns (status, decoded JSON or text). Never raises on 4xx/5xx."""
    return request_json(server_url, method, path, body, token)


def api_call(
    server_url: str, method: str, path: str, body: object = None, token: str | None = None
) -> dict:
    """Like api_request, but the call must succeed (2xx); returns the JSON body."""
    payload = ok_json(server_url, method, path, body, token)
    assert isinstance(payload, dict), payload
    return payload


def api_sign_up(server_url: str, name: str, *, role: str = "student") -> dict:
    """Sign up through the API; returns the session answer ({token, user, …})."""
    body = {"email": unique_email(f"api-{role}"), "name": name, "password": PASSWORD, "role": role}
    return api_call(server_url, "POST", "/api/auth/signup", body)


# -- helpers for the learner-flow tests (API calls with a bearer token, pack solutions) ---------
def page_token(page: Page) -> str:
    """The bearer token the app stored for the user logged in on ``page``."""
    token = page.evaluate("() => localStorage.getItem('eduverse.token')")
    assert token, "nobody is logged in on this page"
    return str(token)


def call_api(
    page: Page, method: str, path: str, token: str | None = None, body: object = None
) -> dict:
    """Call the JSON API from the page's context; fails the test on an error status."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = page.request.fetch(path, method=method, headers=headers, data=body)
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    answer: dict = response.json()
    return answer


def instructor_with_class(page: Page, name: str = "Prof. Test") -> tuple[str, str]:
    """Sign an instructor up through the API and create a class: (token, invite code)."""
    signup = call_api(
        page,
        "POST",
        "/api/auth/signup",
        body={
            "email": unique_email("teacher"),
            "name": name,
            "password": PASSWORD,
            "role": "instructor",
        },
    )
    token = str(signup["token"])
    created = call_api(
        page, "POST", "/api/classes", token, {"subject": "Python 1", "year": 2025, "semester": "1"}
    )
    return token, str(created["class"]["invite_code"])


def solution(ev: Eduverse, week: int, position: int, track: str = "beginner") -> str:
    """The reference solution of a cycle (1-based position) of the bundled course."""
    cycle = ev.pack("logicore").weeks[week - 1].cycles[position - 1]
    return str(getattr(cycle, track).solution)


def api_submit(page: Page, token: str, week: int, position: int, code: str) -> dict:
    """Submit ``code`` for a cycle of the bundled course (beginner track, English) through the
    API, as the page's learner; the answer."""
    body = {"pack_id": "logicore", "week": week, "cycle": position, "track": "beginner",
            "code": code, "locale": "en"}  # fmt: skip
    return call_api(page, "POST", "/api/submissions", token, body)


def pass_cycles(page: Page, ev: Eduverse, week: int, positions: list[int]) -> None:
    """Pass cycles with their reference solutions through the API, as the page's learner."""
    token = page_token(page)
    for position in positions:
        answer = api_submit(page, token, week, position, solution(ev, week, position))
        assert answer["outcome"] == "passed", answer["message"]


def logged_in_page(new_page: PageFactory, token: str | None, **options: object) -> Page:
    """A page whose app starts in English and logged in with ``token`` (None: logged out);
    ``options`` go to the browser context (``viewport``, ``reduced_motion``…)."""
    page = new_page(**{"locale": "en-GB", **options})
    script = "localStorage.setItem('eduverse.locale', 'en');"
    if token:
        script += f"localStorage.setItem('eduverse.token', {json.dumps(token)});"
    page.add_init_script(script)
    return page
