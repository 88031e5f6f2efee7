"""JSON over real HTTP for the tests that talk to a running server (browser, reliability and
deployment tests): one request, the status and the decoded body."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def request_json(
    base: str, method: str, path: str, body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    """Send one request; return (status, decoded JSON, or the text when it is not JSON).
    Never raises on 4xx/5xx; a server that cannot be reached raises ``URLError``."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Accept", "application/json")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    text = raw.decode("utf-8-sig")
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text


def ok_json(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    """Like :func:`request_json`, but the answer must be a success; returns its body."""
    status, payload = request_json(base, method, path, body, token)
    assert 200 <= status < 300, f"{method} {path} answered {status}: {payload}"
    return payload
