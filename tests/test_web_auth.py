"""Auth over HTTP: sign-up, log-in, tokens, logout, password change, rate limiting."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from web_support import auth, documented_matrix, matrix_statuses, row

from eduverse_core import Eduverse
from eduverse_core.models import User, utcnow

from fakes import PASSWORD


def login(client: FlaskClient, email: str, password: str, address: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/auth/login",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_signup_returns_a_token_and_never_a_password(client: FlaskClient) -> None:
    body = {"email": "New@Example.org", "name": "New", "password": "long enough"}
    response = client.post("/api/auth/signup", json=body)
    assert response.status_code == 201
    data = response.json
    assert data["ok"] is True and data["token"].startswith("v1.")
    assert data["user"]["email"] == "new@example.org"
    text = response.get_data(as_text=True)
    assert "long enough" not in text and "password" not in text and "scrypt" not in text


def test_signup_with_unknown_field_is_422_naming_it(client: FlaskClient) -> None:
    body = {"email": "a@example.org", "name": "A", "password": "long enough", "admin": True}
    response = client.post("/api/auth/signup", json=body)
    assert response.status_code == 422
    assert "admin" in response.json["error"] and response.json["ok"] is False


def test_signup_errors_are_clean_json(client: FlaskClient, student: User) -> None:
    taken = {"email": "student@example.org", "name": "X", "password": "long enough"}
    assert client.post("/api/auth/signup", json=taken).status_code == 409
    short = {"email": "b@example.org", "name": "X", "password": "short"}
    assert client.post("/api/auth/signup", json=short).status_code == 400
    teacher = {
        "email": "c@example.org",
        "name": "X",
        "password": "long enough",
        "role": "instructor",
    }
    assert client.post("/api/auth/signup", json=teacher).status_code == 403
    not_json = client.post("/api/auth/signup", data="email=x", content_type="text/plain")
    assert not_json.status_code == 415 and not_json.json["ok"] is False
    broken = client.post("/api/auth/signup", data="{", content_type="application/json")
    assert broken.status_code == 422
    listed = client.post("/api/auth/signup", json=[1, 2])
    assert listed.status_code == 422


def test_oversized_body_is_413(client: FlaskClient) -> None:
    body = {"email": "a@example.org", "name": "A", "password": "x" * 300_000}
    response = client.post("/api/auth/signup", json=body)
    assert response.status_code == 413 and response.json["ok"] is False


def test_login_then_me(client: FlaskClient, student: User) -> None:
    response = login(client, "student@example.org", PASSWORD)
    assert response.status_code == 200
    token = response.json["token"]
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json["user"]["id"] == student.id and me.json["class"] is None
    assert me.json["pack_id"] == "tiny"


def test_me_without_or_with_a_bad_token_is_401(client: FlaskClient) -> None:
    assert client.get("/api/me").status_code == 401
    bad = client.get("/api/me", headers={"Authorization": "Bearer v1.abc.def"})
    assert bad.status_code == 401 and bad.json["code"] == "invalid_token"
    other = client.get("/api/me", headers={"Authorization": "Basic abc"})
    assert other.status_code == 401


def test_a_tampered_token_is_refused(ev: Eduverse, client: FlaskClient, student: User) -> None:
    token = ev.sessions.issue(student).token
    version, payload, signature = token.split(".")
    forged = f"{version}.{payload[:-2]}xx.{signature}"
    assert client.get("/api/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_a_token_from_another_secret_is_refused(client: FlaskClient, student: User) -> None:
    from fakes import InProcessGrader, TestPlugin, test_settings

    with Eduverse(
        test_settings(secret_key="other"), plugins=[TestPlugin(InProcessGrader())]
    ) as other:
        other.storage.create_user(student)
        token = other.sessions.issue(student).token
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_expired_token_is_refused(ev: Eduverse, student: User) -> None:
    import pytest

    from eduverse_core import AuthenticationFailed

    session = ev.sessions.issue(student, now=utcnow() - timedelta(days=2))
    with pytest.raises(AuthenticationFailed) as info:
        ev.sessions.resolve(session.token)
    assert info.value.code == "token_expired"


def test_logout_revokes_the_token(ev: Eduverse, client: FlaskClient, student: User) -> None:
    headers = auth(ev, student)
    assert client.post("/api/auth/logout", headers=headers).status_code == 200
    again = client.get("/api/me", headers=headers)
    assert again.status_code == 401 and again.json["code"] == "token_revoked"


def test_password_change_kills_old_tokens_and_returns_a_new_one(
    ev: Eduverse, client: FlaskClient, student: User
) -> None:
    old = auth(ev, student)
    body = {"old_password": PASSWORD, "new_password": "brand new secret"}
    response = client.post("/api/me/password", json=body, headers=old)
    assert response.status_code == 200
    assert client.get("/api/me", headers=old).status_code == 401
    fresh = {"Authorization": f"Bearer {response.json['token']}"}
    assert client.get("/api/me", headers=fresh).status_code == 200


def test_failed_logins_are_rate_limited_per_account(client: FlaskClient, student: User) -> None:
    for i in range(10):
        assert login(client, "student@example.org", "wrong", f"10.0.1.{i}").status_code == 401
    blocked = login(client, "student@example.org", PASSWORD, "10.0.2.1")
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.json["code"] == "too_many_attempts"


def test_failed_logins_are_rate_limited_per_address(
    client: FlaskClient, student: User, other_student: User
) -> None:
    for i in range(10):
        assert login(client, f"nobody{i}@example.org", "wrong", "10.9.9.9").status_code == 401
    assert login(client, "other@example.org", PASSWORD, "10.9.9.9").status_code == 429
    assert login(client, "other@example.org", PASSWORD, "10.9.9.8").status_code == 200


# -- the authorization matrix of docs/api.md's first section ---------------------------------
PUBLIC = row(200, 200, 200, 200, 200)
MINE = row(401, 200, 200, 200, 200)
PUBLIC_MATRIX: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/healthz", PUBLIC),
    ("GET", "/readyz", PUBLIC),
    ("GET", "/api/openapi.json", PUBLIC),
    ("POST", "/api/auth/signup", row(201, 201, 201, 201, 201)),
    ("POST", "/api/auth/login", PUBLIC),
    ("POST", "/api/auth/logout", MINE),
    ("GET", "/api/me", MINE),
    ("POST", "/api/me/password", MINE),
    ("GET", "/api/packs", PUBLIC),
    ("GET", "/api/packs/{pack_id}", PUBLIC),
    ("GET", "/api/packs/{pack_id}/weeks/{week}", MINE),
]


def public_body(template: str, caller: str) -> Any:
    if template == "/api/auth/signup":
        return {"email": f"new-{caller}@example.org", "name": caller, "password": "long enough"}
    if template == "/api/auth/login":
        return {"email": "student@example.org", "password": PASSWORD}
    if template == "/api/me/password":
        return {"old_password": PASSWORD, "new_password": "a different one"}
    return None


@pytest.mark.parametrize(
    ("method", "template", "expected"), PUBLIC_MATRIX, ids=[f"{m} {t}" for m, t, _ in PUBLIC_MATRIX]
)
def test_authorization_matrix(
    ev: Eduverse,
    client: FlaskClient,
    callers: dict[str, User | None],
    method: str,
    template: str,
    expected: dict[str, int],
) -> None:
    url = template.format(pack_id="tiny", week=1)
    body = functools.partial(public_body, template)
    assert matrix_statuses(client, ev, callers, method, url, body) == expected


def test_the_documented_matrix_is_the_tested_one() -> None:
    tested = {(m, t): expected for m, t, expected in PUBLIC_MATRIX}
    assert documented_matrix("Authentication, health and packs") == tested


def test_every_endpoint_is_in_some_matrix(client: FlaskClient) -> None:
    from webapp.api import api

    documented: set[tuple[str, str]] = set()
    for section in ("Authentication, health and packs", "Learner API", "Instructor API"):
        documented |= set(documented_matrix(section))
    declared = {(op.method, op.openapi_path) for op in api.operations}
    assert declared - documented == set()
