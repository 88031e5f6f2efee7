"""Helpers for web tests: an app on the test Eduverse and authenticated requests."""

from __future__ import annotations

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
