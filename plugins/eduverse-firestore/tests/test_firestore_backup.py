"""SQLite to Firestore and back through the portable backup: both backends hold the same data.

``eduverse export`` / ``eduverse import`` go only through the storage port, so a store copied
from SQLite into Firestore and exported again must give the very same records (and counters,
which the import rebuilds from the logs and compares).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

from eduverse_core.default_plugins.sqlite_storage import MEMORY, SQLiteStorage
from eduverse_core.models import Outcome, PauseState, Rating, Reflection
from eduverse_core.services.backup import export_records, import_records
from eduverse_core.services.reflections import replacement_deltas
from eduverse_core.services.submissions import submission_counters
from eduverse_core.storage import (
    KST,
    T0,
    Storage,
    complete,
    count_failure,
    make_classroom,
    make_membership,
    make_question,
    make_submission,
    make_user,
)
from eduverse_firestore.storage import FirestoreStorage


def populate(*stores: Storage) -> None:
    """A small school, the same in every store, through the port and with the services' own
    counter functions (each record is made once: the helpers number what they make)."""
    teacher = make_user(id="prof", role="instructor", email="prof@example.org")
    students = [make_user(id=f"s{n}", email=f"s{n}@example.org") for n in range(3)]
    room = make_classroom(id="room", instructor_id="prof", pack_id="logicore")
    lab = make_classroom(id="lab", instructor_id="prof", pack_id="logicore")
    memberships = [
        make_membership("room", "s0"),
        make_membership("room", "s1"),
        make_membership("lab", "s2"),
    ]
    question = make_question(class_id="room", student_id="s0", created_at=T0)
    logs = [
        make_submission(
            id=f"log-{n}",
            student_id=student,
            class_id=klass,
            outcome=outcome,
            at=(T0 + timedelta(minutes=n)).astimezone(KST),
        )
        for n, (student, klass, outcome) in enumerate(
            [
                ("s0", "room", Outcome.PASSED),
                ("s0", "room", Outcome.FAILED),
                ("s1", "room", Outcome.PASSED),
                ("s2", "lab", Outcome.ERROR),
            ]
        )
    ]
    reflections = [
        Reflection(
            student_id=student,
            class_id=klass,
            pack_id="logicore",
            week=1,
            ratings={"w1-hello": Rating(comprehension=4, application=3)},
            at=T0,
        )
        for student, klass in (("s0", "room"), ("s2", "lab"))
    ]
    pause = PauseState(week=1, cycle="w1-hello", scene="coding", at=T0)
    for storage in stores:
        for user in (teacher, *students):
            storage.create_user(user)
        storage.create_classroom(room)
        storage.create_classroom(lab)
        for membership in memberships:
            storage.join_classroom(membership)
        storage.add_question(question)
        for log in logs:
            passed = log.outcome is Outcome.PASSED
            mutate = complete("w1-hello") if passed else count_failure("w1-hello:beginner")
            storage.record_submission(log, submission_counters(log), mutate)
        for reflection in reflections:
            storage.save_reflection(reflection, replacement_deltas)
        storage.update_progress(
            "s1", "logicore", lambda p: p.model_copy(update={"pause_state": pause})
        )


def export_text(storage: Storage) -> str:
    out = io.StringIO()
    export_records(storage, ["logicore"], out, page_size=2)
    return out.getvalue()


def body(text: str) -> list[str]:
    return text.splitlines()[1:]  # the header holds the export's own time


def test_sqlite_to_firestore_and_back_keeps_every_record(storage: FirestoreStorage) -> None:
    source = SQLiteStorage(MEMORY)
    populate(source)
    original = export_text(source)

    report = import_records(storage, iter(io.StringIO(original)))
    assert report.conflict_count == 0 and report.warnings == []
    assert report.scopes_checked > 0
    from_firestore = export_text(storage)
    assert body(from_firestore) == body(original)

    back = SQLiteStorage(MEMORY)
    import_records(back, iter(io.StringIO(from_firestore)))
    assert body(export_text(back)) == body(original)
    for scope in ("class:room", "class:lab", "user:s0:logicore"):
        assert storage.get_counters(scope) == source.get_counters(scope)
    source.close()
    back.close()


def test_firestore_and_sqlite_answer_every_query_alike(storage: FirestoreStorage) -> None:
    sqlite = SQLiteStorage(MEMORY)
    populate(sqlite, storage)
    queries: list[Callable[[Storage], object]] = [
        lambda s: s.list_users(),
        lambda s: s.list_users(role="instructor"),
        lambda s: s.list_classrooms("prof"),
        lambda s: s.list_members("room"),
        lambda s: s.list_questions(class_id="room"),
        lambda s: s.list_submissions(class_id="room", limit=2),
        lambda s: s.list_submissions(student_id="s0", after="log-0"),
        lambda s: s.list_reflections(pack_id="logicore"),
        lambda s: s.list_progress(["s0", "s1", "s2", "nobody"], "logicore"),
        lambda s: s.get_counters("class:room"),
    ]
    for query in queries:
        assert query(storage) == query(sqlite)
    sqlite.close()
