"""Accounts under pressure: an instructor resets a member's forgotten password, sessions end
on password change, reset and log-out, and no password or token ever reaches the logs."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient
from web_support import auth, call

from eduverse_core import Eduverse
from eduverse_core.models import Classroom, User

from fakes import PASSWORD, EventRecorder


def log_in(client: FlaskClient, email: str, password: str) -> int:
    return client.post("/api/auth/login", json={"email": email, "password": password}).status_code


def test_instructor_resets_a_members_password(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    instructor: User,
    classroom: Classroom,
    recorder: EventRecorder,
) -> None:
    ev.classes.join(student, classroom.invite_code)
    old_headers = auth(ev, student)
    response = call(
        client,
        ev,
        instructor,
        "POST",
        f"/api/classes/{classroom.id}/members/{student.id}/password-reset",
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    temporary = response.json["temporary_password"]
    assert len(temporary) >= 12 and temporary not in ev.accounts.get(student.id).password_hash
    assert client.get("/api/me", headers=old_headers).status_code == 401  # sessions ended
    assert log_in(client, student.email, PASSWORD) == 401
    assert log_in(client, student.email, temporary) == 200
    assert "password-reset" in recorder.names()
    # The learner then picks their own.
    fresh = auth(ev, ev.accounts.get(student.id))
    changed = client.post(
        "/api/me/password",
        json={"old_password": temporary, "new_password": "my own new password"},
        headers=fresh,
    )
    assert changed.status_code == 200
    assert log_in(client, student.email, "my own new password") == 200


def test_reset_is_only_for_members_of_the_instructors_class(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    other_student: User,
    instructor: User,
    classroom: Classroom,
    other_classroom: Classroom,
) -> None:
    ev.classes.join(other_student, other_classroom.invite_code)
    url = f"/api/classes/{classroom.id}/members/{other_student.id}/password-reset"
    answer = call(client, ev, instructor, "POST", url)
    assert answer.status_code == 404 and answer.json["code"] == "not_a_member"
    assert log_in(client, other_student.email, PASSWORD) == 200  # untouched
    unknown = call(
        client, ev, instructor, "POST", f"/api/classes/{classroom.id}/members/nope/password-reset"
    )
    assert unknown.status_code == 404


def test_password_change_and_logout_end_sessions(
    ev: Eduverse, client: FlaskClient, student: User
) -> None:
    first = client.post("/api/auth/login", json={"email": student.email, "password": PASSWORD})
    second = client.post("/api/auth/login", json={"email": student.email, "password": PASSWORD})
    one = {"Authorization": f"Bearer {first.json['token']}"}
    two = {"Authorization": f"Bearer {second.json['token']}"}
    assert client.post("/api/auth/logout", headers=one).status_code == 200
    assert client.get("/api/me", headers=one).status_code == 401
    assert client.get("/api/me", headers=two).status_code == 200
    body = {"old_password": PASSWORD, "new_password": "another long password"}
    assert client.post("/api/me/password", json=body, headers=two).status_code == 200
    assert client.get("/api/me", headers=two).status_code == 401


def test_no_password_or_token_reaches_the_logs(
    ev: Eduverse,
    client: FlaskClient,
    instructor: User,
    classroom: Classroom,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "unforgettable-Secret-42"
    with caplog.at_level(logging.DEBUG):
        signed = client.post(
            "/api/auth/signup",
            json={"email": "logs@example.org", "name": "Logs", "password": secret},
        )
        token = signed.json["token"]
        client.post("/api/auth/login", json={"email": "logs@example.org", "password": "wrong pw!"})
        client.post("/api/auth/login", json={"email": "logs@example.org", "password": secret})
        member = ev.accounts.get(signed.json["user"]["id"])
        ev.classes.join(member, classroom.invite_code)
        reset = call(
            client,
            ev,
            instructor,
            "POST",
            f"/api/classes/{classroom.id}/members/{member.id}/password-reset",
        ).json["temporary_password"]
        client.get("/api/me", headers={"Authorization": "Bearer forged.token.value"})
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {record.__dict__!r}" for record in caplog.records
    )
    for value in (secret, "wrong pw!", token, reset, "forged.token.value"):
        assert value not in logged
