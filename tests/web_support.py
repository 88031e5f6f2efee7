"""Helpers for web tests: an app on the test Eduverse and authenticated requests."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from eduverse_core import Eduverse
from eduverse_core.models import User


def token_for(ev: Eduverse, user: User) -> str:
    return ev.sessions.issue(user).token


def auth(ev: Eduverse, user: User | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(ev, user)}"} if user is not None else {}


def call(
    client: FlaskClient,
    ev: Eduverse,
    user: User | None,
    method: str,
    url: str,
    json: Any = None,
) -> TestResponse:
    return client.open(url, method=method, json=json, headers=auth(ev, user))


# -- authorization matrices ------------------------------------------------------------------
CALLERS = ("anonymous", "member", "outsider", "instructor", "other_instructor")
API_DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"
_ROW = re.compile(r"\| `(\w+) (\S+)` \|((?: \d{3} \|){5})$")


def row(anonymous: int, member: int, outsider: int, instructor: int, other: int) -> dict[str, int]:
    """Expected statuses for the five callers, in the order of the docs' columns."""
    return dict(zip(CALLERS, (anonymous, member, outsider, instructor, other), strict=True))


def documented_matrix(section: str) -> dict[tuple[str, str], dict[str, int]]:
    """The matrix rows of ``## <section>`` in docs/api.md, by (method, path)."""
    rows: dict[tuple[str, str], dict[str, int]] = {}
    inside = False
    for line in API_DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            inside = line == f"## {section}"
            continue
        match = _ROW.match(line) if inside else None
        if match:
            statuses = [int(s) for s in match.group(3).replace("|", " ").split()]
            rows[(match.group(1), match.group(2))] = row(*statuses)
    return rows


def matrix_statuses(
    client: FlaskClient,
    ev: Eduverse,
    callers: dict[str, User | None],
    method: str,
    url: str,
    body: Callable[[str], Any] | Any = None,
    order: tuple[str, ...] = CALLERS,
) -> dict[str, int]:
    """The status each caller gets for one request, called in ``order``. ``body`` is the JSON
    body, or a function of the caller's name giving it (e.g. a fresh e-mail per caller)."""
    return {
        caller: call(
            client, ev, callers[caller], method, url, body(caller) if callable(body) else body
        ).status_code
        for caller in order
    }
