"""The built-in answer to "who is calling": a bearer token checked by the session service."""

from __future__ import annotations

from typing import Any

from eduverse_core import Eduverse, hookimpl
from eduverse_core.models import User


def bearer_token(request: Any) -> str | None:
    """The token of ``Authorization: Bearer <token>``, if the request has one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


@hookimpl(trylast=True)
def eduverse_web_actor_from_request(eduverse: Eduverse, request: Any) -> User | None:
    token = bearer_token(request)
    return eduverse.sessions.resolve(token) if token is not None else None
