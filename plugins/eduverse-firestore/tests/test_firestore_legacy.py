"""`eduverse migrate legacy-firestore` against the emulator: the original system's collections
in one project, converted into EduVerse's storage (a SQLite file here; any backend works),
idempotently, with a report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from google.cloud import firestore
from werkzeug.security import generate_password_hash

from eduverse_core import Eduverse, Settings
from eduverse_core.cli import cli
from eduverse_firestore.emulator import Emulator, new_project
from eduverse_firestore.legacy import read_legacy_documents, register

ALICE, PROF = "alice@school.example", "kim@school.example"
WHEN = datetime(2025, 9, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def legacy_project(emulator: Emulator) -> Iterator[str]:
    """A project holding the original system's layout."""
    project = new_project()
    client = firestore.Client(project=project)
    client.collection("users").document(ALICE).set(
        {
            "name": "Alice",
            "role": "student",
            "passwordHash": generate_password_hash("alice's password", method="pbkdf2:sha256"),
            "createdAt": WHEN,
            "progress": {"week": 1, "cycle": 2},
            "classId": "class-1",
            "liveCode": "print('hi')",
        }
    )
    client.collection("users").document(PROF).set(
        {"name": "Kim", "role": "professor", "password": "plain old password", "createdAt": WHEN}
    )
    client.collection("users").document("broken@school.example").set({"role": "student"})
    client.collection("classes").document("class-1").set(
        {
            "inviteCode": "ABC234",
            "instructorEmail": PROF,
            "students": [ALICE],
            "details": {"subject": "Python", "year": "2025", "semester": "2"},
            "createdAt": WHEN,
        }
    )
    client.collection("questions").document("q1").set(
        {
            "studentEmail": ALICE,
            "classId": "class-1",
            "question": "Why?",
            "answer": "Because.",
            "isResolved": True,
            "createdAt": WHEN,
        }
    )
    client.collection("submission_logs").document("log-1").set(
        {
            "email": ALICE,
            "week": 1,
            "cycle": 1,
            "code": "print(1)",
            "success": True,
            "timestamp": WHEN,
        }
    )
    client.collection("scenarios").document("week_1").set({"title": "content, not data"})
    client.close()  # type: ignore[no-untyped-call]
    yield project


def run(target: Path, *args: str) -> tuple[int, str]:
    register(cli)
    env = {
        "EDUVERSE_STORAGE": f"sqlite:///{target}",
        "EDUVERSE_LOAD_ENTRY_POINTS": "0",
        "EDUVERSE_SECRET_KEY": "legacy-migration-test-key-0123456789",
    }
    result = CliRunner().invoke(cli, ["migrate", "legacy-firestore", *args], env=env)
    return result.exit_code, result.output


def test_reader_returns_every_legacy_document(legacy_project: str) -> None:
    found = {(d.collection, d.doc_id) for d in read_legacy_documents(legacy_project)}
    assert ("users", ALICE) in found and ("classes", "class-1") in found
    assert ("submission_logs", "log-1") in found and ("scenarios", "week_1") in found
    assert len(found) == 7


def test_migration_converts_reports_and_is_idempotent(legacy_project: str, tmp_path: Path) -> None:
    target = tmp_path / "migrated.db"
    code, dry = run(target, "--source-project", legacy_project, "--dry-run")
    assert code == 0, dry
    assert "1 account locked" in dry and "broken@school.example" in dry  # no password at all
    settings = Settings(storage=f"sqlite:///{target}", load_entry_points=False)
    with Eduverse(settings) as ev:
        assert ev.storage.list_users() == []  # a dry run stores nothing

    code, first = run(target, "--source-project", legacy_project)
    assert code == 0 and "users: 3 converted" in first, first
    with Eduverse(settings) as ev:
        users = {u.email: u for u in ev.storage.list_users()}
        assert set(users) == {ALICE, PROF, "broken@school.example"}
        assert users[PROF].role == "instructor"
        assert "plain old password" not in users[PROF].password_hash
        ev.sessions.log_in(ALICE, "alice's password", "test")
        ev.sessions.log_in(PROF, "plain old password", "test")
        (classroom,) = ev.storage.list_classrooms()
        assert classroom.invite_code == "ABC234"
        assert [m.user_id for m in ev.storage.list_members(classroom.id)] == [users[ALICE].id]
        (question,) = ev.storage.list_questions(class_id=classroom.id)
        assert question.answer == "Because."
        assert len(ev.storage.list_submissions(student_id=users[ALICE].id)) == 1
        progress = ev.storage.get_progress(users[ALICE].id, "logicore")
        assert progress is not None and progress.cycle == 2 and progress.live_code == "print('hi')"

    code, again = run(target, "--source-project", legacy_project, "--json")
    sections = json.loads(again)["sections"]
    assert code == 0
    assert all(section["converted"] == 0 for section in sections.values()), sections
    assert sections["users"]["already_present"] == 3
    assert sections["submission_logs"]["already_present"] == 1
    with Eduverse(settings) as ev:
        assert len(ev.storage.list_users()) == 3
        assert len(ev.storage.list_submissions()) == 1
