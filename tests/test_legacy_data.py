"""Converting the original system's Firestore user data (``services/legacy_data.py``).

One realistic legacy data set, written the way the original stored it (camelCase fields,
e-mails as user document ids, Firestore timestamps, ISO strings and epoch milliseconds side
by side, 1-based cycle positions), with a few broken documents mixed in, is migrated into a
fresh SQLite store against the bundled ``logicore`` course. The tests then use the store the
way the application does: logging in, reading classes, questions, counters and progress.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.security import generate_password_hash

from eduverse_core import Eduverse, Settings
from eduverse_core.default_plugins.sqlite_storage import SQLiteStorage
from eduverse_core.errors import AuthenticationFailed
from eduverse_core.models import INVITE_ALPHABET, Outcome, ScenarioPack
from eduverse_core.passwords import needs_rehash
from eduverse_core.services import legacy_data
from eduverse_core.services.legacy_data import (
    KNOWN_FIELDS,
    SECTIONS,
    LegacyDocument,
    MigrationReport,
    legacy_record_id,
    legacy_user_id,
    migrate_legacy,
    parse_legacy_time,
)
from eduverse_core.services.reflections import reflection_counters
from eduverse_core.services.submissions import submission_counters
from eduverse_core.storage import Storage, counters_total

KST = timezone(timedelta(hours=9), "KST")
PROF, TA = "prof.kim@logicore.ac.kr", "lee.ta@logicore.ac.kr"
ADA, BOB, CAROL, DAVE, EVE = (
    f"{name}@student.ac.kr" for name in ("ada", "bob", "carol", "dave", "eve")
)
PASSWORDS = {
    PROF: "kim-professor-2024",
    TA: "teach-me-2024",
    ADA: "ada-lovelace-1815",
    BOB: "bob-secret-1",
    DAVE: "dave-scrypt-pass",
}
W1 = ["w01-hello-print", "w01-banner", "w01-comments", "w01-variables", "w01-welcome-script"]


def at(day: int, hour: int = 10) -> datetime:
    """A time in the spring 2024 term, in Korean time (as the original ran)."""
    return datetime(2024, 3, day, hour, tzinfo=KST)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def doc(collection: str, doc_id: str, **data: Any) -> LegacyDocument:
    return LegacyDocument(collection, doc_id, data)


@cache
def legacy_hash(password: str, method: str) -> str:
    """A Werkzeug hash as the original's Flask app made them (computed once per test run)."""
    return generate_password_hash(password, method)


def legacy_documents() -> list[LegacyDocument]:
    """The legacy data set: two instructors, two classes, five students, their history, the
    course content and broken documents. Order is scrambled on purpose: the migration must
    not depend on it."""
    return [
        # -- submission logs (before the users they name: order must not matter) -----------
        doc("submission_logs", "log-a1", email=ADA, week=1, cycle=1, code="print('hi')",
            success=True, message="", timestamp=at(4, 10)),
        doc("submission_logs", "log-a2", email=ADA, week=1, cycle=2, code="print(x)",
            success=False, errorMessage="NameError: name 'x' is not defined",
            timestamp=at(4, 11)),
        doc("submission_logs", "log-a3", email=ADA, week=1, cycle=2, code="print('==')",
            success=False, message="AssertionError: 배너가 달라요", timestamp=at(4, 12)),
        doc("submission_logs", "log-a4", email=ADA, week=1, cycle=2, code="print('=' * 10)",
            success=True, timestamp=ms(at(4, 13))),
        doc("submission_logs", "log-a5", studentEmail=ADA, week="2", cycle="1", track="adv",
            code="print(type(1))", success=True, createdAt="2024-03-11T01:00:00Z"),
        doc("submission_logs", "log-b1", email=BOB, week=1, cycle=1, code="print('hello')",
            outcome="failed", message="출력이 달라요", timestamp=at(5)),
        doc("submission_logs", "log-b2", email=BOB, week=1, cycle="w01-hello-print",
            code="print('Hello')", outcome="passed", timestamp=at(5, 11)),
        doc("submission_logs", "log-d1", email=DAVE, week=1, cycle=1, code="print(1)",
            success=True, classId="classB", timestamp=at(6)),
        # broken logs
        doc("submission_logs", "log-bad-week", email=ADA, week=14, cycle=1, success=True,
            timestamp=at(7)),
        doc("submission_logs", "log-bad-cycle", email=ADA, week=1, cycle=9, success=True,
            timestamp=at(7)),
        doc("submission_logs", "log-no-verdict", email=ADA, week=1, cycle=1, timestamp=at(7)),
        doc("submission_logs", "log-grader", email=BOB, week=1, cycle=1,
            outcome="grader_error", timestamp=at(7)),
        doc("submission_logs", "log-ghost", email="ghost@student.ac.kr", week=1, cycle=1,
            success=True, timestamp=at(7)),
        # -- users ---------------------------------------------------------------------------
        doc("users", PROF, name="김 교수", role="professor",
            passwordHash=legacy_hash(PASSWORDS[PROF], "pbkdf2:sha256:1000"),
            createdAt=at(1)),
        doc("users", TA, name="이 조교", role="instructor", password=PASSWORDS[TA],
            createdAt="2024-03-01T09:00:00Z"),
        doc("users", "Ada@Student.ac.kr", name="  Ada   Lovelace ", role="student",
            passwordHash=legacy_hash(PASSWORDS[ADA], "pbkdf2:sha256:1000"),
            createdAt=ms(at(2)), progress={"week": 2, "cycle": 3}, classId="classA",
            pauseState={"week": 2, "cycle": 3, "scene": "coding", "track": "advanced"},
            liveCode="name = input()\nprint(name.upper())", seenCodingIntros=True,
            lastLogin=at(20)),
        doc("users", BOB, name="Bob", role="student", password=PASSWORDS[BOB],
            createdAt=at(2), progress={"week": 1, "cycle": 6}, seenCodingIntros=["w1"]),
        doc("users", CAROL, name="Carol", role="student", createdAt=at(3),
            progress={"week": 1, "cycle": 1}),
        doc("users", DAVE, name="Dave", role="student",
            passwordHash=legacy_hash(PASSWORDS[DAVE], "scrypt"),
            createdAt={"_seconds": int(at(3).timestamp()), "_nanoseconds": 0},
            progress={"week": 1, "cycle": 3}, classId="classB",
            completedCycles=["w01-hello-print", "w01-banner", "w09-gone"],
            pauseState={"week": 3, "cycle": 1, "scene": "task"}),
        doc("users", EVE, name="Eve", role="admin", password="eve-password",
            createdAt=at(3)),
        # broken users
        doc("users", "not-an-email", name="Nobody", password="whatever-123"),
        doc("users", "ADA@student.ac.kr", name="Ada again", password="another-pass"),
        # -- classes -------------------------------------------------------------------------
        doc("classes", "classA", inviteCode="abc-def", instructorEmail=PROF,
            students=[ADA, BOB, CAROL, "ghost@student.ac.kr"],
            details={"subject": "Python 기초", "year": "2024", "semester": "1",
                     "department": "컴퓨터공학과", "section": "A"},
            createdAt=at(1, 12)),
        doc("classes", "classB", inviteCode="LO1O1L", instructorEmail=TA, students=[DAVE, ADA],
            details={"subject": "Python 심화", "year": 2024, "semester": 2},
            createdAt=at(1, 13)),
        doc("classes", "classX", inviteCode="XYZXYZ", instructorEmail=ADA,
            details={"subject": "Fake", "year": 2024, "semester": "1"}),
        doc("classes", "classY", inviteCode="QRSTUV",
            details={"subject": "Orphan", "year": 2024, "semester": "1"}),
        # -- questions -----------------------------------------------------------------------
        doc("questions", "q-answered", studentEmail=ADA, classId="classA",
            question="print와 return의 차이가 뭔가요?", answer="print는 화면에 보여 주고…",
            isResolved=True, isNotified=False, createdAt=at(5),
            answeredAt="2024-03-05T12:00:00+09:00",
            context={"week": 2, "cycle": 3, "scene": "lecture", "character": "prof-kim",
                     "excerpt": "문자열 메서드"}),
        doc("questions", "q-open", studentEmail=BOB, text="for 문이 끝나지 않아요",
            isResolved=False, createdAt=at(6), context={"week": 1, "cycle": "2"}),
        doc("questions", "q-ghost", studentEmail="ghost@student.ac.kr", classId="classA",
            question="유령 질문", createdAt=at(6)),
        doc("questions", "q-empty", studentEmail=ADA, classId="classA", question="  ",
            createdAt=at(6)),
        # -- reflections ---------------------------------------------------------------------
        doc("reflections", f"{ADA}_week1",
            ratings={"1": {"comprehension": 4, "application": 3},
                     "w01-banner": {"comprehension": 5, "application": 5},
                     "9": {"comprehension": 1, "application": 1}},
            meaningful="print가 재밌었다", difficult="변수", curious="클래스",
            createdAt=at(8)),
        doc("reflections", "r-bob-1", email=BOB, week=1,
            ratings={"1": {"comprehension": 5, "application": "4"}},
            feedback={"meaningful": "다시 쓴 회고", "difficult": "", "curious": "함수"},
            createdAt=at(9)),
        doc("reflections", "r-bob-1-draft", email=BOB, week=1,
            ratings={"1": {"comprehension": 2, "application": 2}}, createdAt=at(8)),
        doc("reflections", "r-week-99", email=ADA, week=99, createdAt=at(9)),
        # -- content and strangers -----------------------------------------------------------
        doc("scenarios", "week_1", week=1, cycles=[]),
        doc("scenarios", "week_2", week=2, cycles=[]),
        doc("analytics_cache", "daily", hits=3),
    ]  # fmt: skip


# -- fixtures and helpers ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def logicore() -> ScenarioPack:
    """The bundled logicore course, loaded once for the module."""
    with Eduverse(Settings(storage="sqlite://:memory:", load_entry_points=False)) as instance:
        return instance.pack("logicore")


@pytest.fixture
def ev(logicore: ScenarioPack) -> Iterator[Eduverse]:
    """A fresh in-memory store with the logicore course."""
    settings = Settings(
        storage="sqlite://:memory:", load_entry_points=False, disabled_plugins=("bundled_packs",)
    )
    with Eduverse(settings) as instance:
        instance.register_pack(logicore)
        yield instance


@pytest.fixture
def migrated(ev: Eduverse, logicore: ScenarioPack) -> MigrationReport:
    return migrate_legacy(ev.storage, legacy_documents(), pack_id="logicore", pack=logicore)


def uid(email: str) -> str:
    return legacy_user_id(email)


def lines(issues: list[Any]) -> list[str]:
    return [str(issue) for issue in issues]


def counts(report: MigrationReport) -> dict[str, tuple[int, int, int]]:
    """(converted, already present, not converted) per section."""
    return {
        name: (s.converted, s.already_present, len(s.failed)) for name, s in report.sections.items()
    }


def snapshot(storage: Storage) -> dict[str, Any]:
    """Everything the store holds that the migration writes, comparable with ``==``."""
    users = storage.list_users()
    ids = [u.id for u in users]
    classes = storage.list_classrooms()
    scopes = [f"class:{c.id}" for c in classes] + [f"user:{i}:logicore" for i in ids]
    return {
        "users": users,
        "classes": classes,
        "members": {c.id: storage.list_members(c.id) for c in classes},
        "questions": storage.list_questions(),
        "logs": storage.list_submissions(),
        "reflections": storage.list_reflections(),
        "progress": storage.list_progress(ids, "logicore"),
        "counters": {scope: storage.get_counters(scope) for scope in scopes},
    }


# -- the report -------------------------------------------------------------------------------
def test_report_counts_every_section(migrated: MigrationReport) -> None:
    assert counts(migrated) == {
        "users": (7, 0, 2),
        "classes": (2, 0, 2),
        "memberships": (4, 0, 1),
        "questions": (2, 0, 2),
        "submission_logs": (8, 0, 5),
        "reflections": (2, 0, 2),
        "progress": (4, 0, 0),
    }
    assert migrated.converted == 29 and migrated.already_present == 0
    assert len(migrated.failed) == 14 and not migrated.dry_run


def test_report_names_each_unconverted_document_with_its_reason(
    migrated: MigrationReport,
) -> None:
    assert lines(migrated.failed) == [
        "users/not-an-email: neither the document id nor `email` is an e-mail address",
        "users/ADA@student.ac.kr: same e-mail as users/Ada@Student.ac.kr",
        "classes/classX: instructorEmail ada@student.ac.kr is a student account",
        "classes/classY: no instructor e-mail",
        "classes/classA: student ghost@student.ac.kr has no migrated account",
        "questions/q-ghost: student ghost@student.ac.kr has no migrated account",
        "questions/q-empty: no question text",
        "submission_logs/log-bad-week: week 14 not in pack logicore",
        "submission_logs/log-bad-cycle: week 1 of pack logicore has no cycle 9 (it has 5)",
        "submission_logs/log-no-verdict: neither success nor outcome: the verdict is unknown",
        "submission_logs/log-grader: a grader error is not an attempt: not converted",
        "submission_logs/log-ghost: student ghost@student.ac.kr has no migrated account",
        "reflections/r-week-99: week 99 not in pack logicore",
        "reflections/r-bob-1-draft: superseded by reflections/r-bob-1 (a later one for that week)",
    ]


def test_report_notes_what_was_converted_with_a_caveat(migrated: MigrationReport) -> None:
    assert lines(migrated["users"].notes) == [
        "users/carol@student.ac.kr: no password or hash — account created locked",
        "users/eve@student.ac.kr: unknown role 'admin': made a student",
    ]
    assert migrated.locked_accounts == [CAROL]
    (class_b,) = lines(migrated["classes"].notes)
    assert class_b.startswith(
        f"classes/classB: invite code 'LO1O1L' is not 6 characters of {INVITE_ALPHABET}: new code "
    )
    assert lines(migrated["memberships"].notes) == [
        "users/Ada@Student.ac.kr: ada@student.ac.kr is also listed in legacy-classB:"
        " joined its classId"
    ]
    assert lines(migrated["reflections"].notes) == [
        "reflections/ada@student.ac.kr_week1: rating '9' dropped:"
        " week 1 of pack logicore has no cycle 9 (it has 5)"
    ]
    assert lines(migrated["progress"].notes) == [
        "users/bob@student.ac.kr: progress.cycle 6 is past week 1's 5 cycles: moved on to week 2",
        "users/dave@student.ac.kr: completedCycles not in pack logicore: w09-gone dropped;"
        " pauseState dropped: w03-if-status lies ahead of the progress",
    ]
    assert dict(migrated["users"].ignored_fields) == {"lastLogin": 1}
    assert migrated.skipped == [
        "analytics_cache: 1 document skipped — not a collection of the original system this"
        " migration knows",
        "scenarios: 2 documents skipped — course content, not user data: convert the course"
        " with `eduverse pack import-legacy`",
    ]


def test_report_as_text_and_data(migrated: MigrationReport) -> None:
    text = migrated.to_text()
    assert text.startswith("Legacy data → pack logicore\n")
    assert "users: 7 converted, 0 already present, 2 could not be converted\n" in text
    assert "  ✗ submission_logs/log-bad-week: week 14 not in pack logicore\n" in text
    assert "  · ignored fields: lastLogin (1)\n" in text
    assert "1 account locked (no usable password)" in text and CAROL in text
    data = migrated.to_dict()
    assert list(data["sections"]) == list(SECTIONS)
    assert data["sections"]["submission_logs"]["converted"] == 8
    assert data["locked_accounts"] == [CAROL]


# -- accounts ---------------------------------------------------------------------------------
def test_users_log_in_with_their_legacy_password(ev: Eduverse, migrated: MigrationReport) -> None:
    for email, password in PASSWORDS.items():
        user = ev.accounts.log_in(email.upper(), password)
        assert user.id == uid(email)
        assert not needs_rehash(user.password_hash)  # re-hashed at this first log-in
    with pytest.raises(AuthenticationFailed):
        ev.accounts.log_in(ADA, "not-her-password")


def test_legacy_hashes_are_kept_and_plain_passwords_hashed(
    ev: Eduverse, migrated: MigrationReport
) -> None:
    stored = {u.email: u for u in ev.storage.list_users()}
    assert stored[PROF].password_hash.startswith("pbkdf2:sha256:1000$")  # kept as it was
    assert stored[DAVE].password_hash.startswith("scrypt$32768$8$1$")  # Werkzeug scrypt
    for email in (TA, BOB, EVE):
        password_hash = stored[email].password_hash
        assert password_hash.startswith("scrypt$")
        assert {**PASSWORDS, EVE: "eve-password"}[email] not in password_hash
        assert "plain$" not in password_hash


def test_users_keep_their_identity_and_role(ev: Eduverse, migrated: MigrationReport) -> None:
    users = {u.email: u for u in ev.storage.list_users()}
    assert sorted(users) == sorted([PROF, TA, ADA, BOB, CAROL, DAVE, EVE])
    assert {e for e, u in users.items() if u.role == "instructor"} == {PROF, TA}
    assert users[ADA].id == uid(ADA) and users[ADA].name == "Ada Lovelace"
    assert users[PROF].name == "김 교수"
    assert users[PROF].created_at == at(1)
    assert users[TA].created_at == datetime(2024, 3, 1, 9, tzinfo=UTC)
    assert users[ADA].created_at == at(2)  # epoch milliseconds
    assert users[DAVE].created_at == at(3)  # {_seconds, _nanoseconds}


def test_a_locked_account_opens_with_the_instructors_password_reset(
    ev: Eduverse, migrated: MigrationReport
) -> None:
    for attempt in ("", "Carol", "carol@student.ac.kr"):
        with pytest.raises(AuthenticationFailed):
            ev.accounts.log_in(CAROL, attempt)
    prof = ev.accounts.log_in(PROF, PASSWORDS[PROF])
    temporary = ev.classes.reset_member_password(prof, "legacy-classA", uid(CAROL))
    assert ev.accounts.log_in(CAROL, temporary).id == uid(CAROL)


# -- classes and questions --------------------------------------------------------------------
def test_classes_with_their_instructor_invite_code_and_members(
    ev: Eduverse, migrated: MigrationReport
) -> None:
    storage = ev.storage
    class_a = storage.get_classroom_by_invite_code("ABCDEF")
    assert class_a is not None and class_a.id == legacy_record_id("classA")
    assert (class_a.instructor_id, class_a.pack_id) == (uid(PROF), "logicore")
    assert class_a.name == "2024-1 Python 기초 컴퓨터공학과 (A)"
    assert class_a.created_at == at(1, 12)
    class_b = storage.get_classroom("legacy-classB")
    assert class_b is not None and class_b.instructor_id == uid(TA)
    assert class_b.invite_code != "LO1O1L" and len(class_b.invite_code) == 6
    assert class_b.details.semester == "2"
    members = {c: {m.user_id for m in storage.list_members(c)} for c in (class_a.id, class_b.id)}
    assert members == {
        class_a.id: {uid(ADA), uid(BOB), uid(CAROL)},  # Ada's classId beats classB's list
        class_b.id: {uid(DAVE)},
    }
    prof = ev.accounts.log_in(PROF, PASSWORDS[PROF])
    assert [c.id for c in ev.classes.list_mine(prof)] == [class_a.id]
    ada = ev.accounts.log_in(ADA, PASSWORDS[ADA])
    assert ev.classes.my_class(ada) == class_a


def test_questions_keep_their_answers_and_context(ev: Eduverse, migrated: MigrationReport) -> None:
    prof = ev.accounts.log_in(PROF, PASSWORDS[PROF])
    inbox = {q.id: q for q in ev.questions.inbox(prof, "legacy-classA")}
    assert sorted(inbox) == ["legacy-q-answered", "legacy-q-open"]
    answered, still_open = inbox["legacy-q-answered"], inbox["legacy-q-open"]
    assert answered.student_id == uid(ADA)
    assert answered.text == "print와 return의 차이가 뭔가요?"
    assert answered.answer == "print는 화면에 보여 주고…"
    assert (answered.resolved, answered.notified, answered.answered_by) == (True, False, prof.id)
    assert answered.answered_at == at(5, 12)
    assert answered.context.week == 2 and answered.context.cycle == "w02-string-methods"
    assert (answered.context.scene, answered.context.excerpt) == ("lecture", "문자열 메서드")
    assert still_open.student_id == uid(BOB)  # no classId: Bob's class
    assert (still_open.answer, still_open.resolved, still_open.answered_by) == (None, False, None)
    assert still_open.context.cycle == "w01-banner"  # position 2 of week 1


# -- submissions and reflections --------------------------------------------------------------
def test_logs_map_positions_verdicts_and_classes(ev: Eduverse, migrated: MigrationReport) -> None:
    logs = {log.id: log for log in ev.storage.list_submissions()}
    assert sorted(logs) == sorted(
        legacy_record_id(i)
        for i in ("log-a1", "log-a2", "log-a3", "log-a4", "log-a5", "log-b1", "log-b2", "log-d1")
    )
    verdicts = {i: logs[f"legacy-{i}"].outcome for i in ("log-a1", "log-a2", "log-a3", "log-b1")}
    assert verdicts == {
        "log-a1": Outcome.PASSED,
        "log-a2": Outcome.ERROR,  # an exception in the learner's code
        "log-a3": Outcome.FAILED,  # an assertion: the learner's logic
        "log-b1": Outcome.FAILED,
    }
    a5 = logs["legacy-log-a5"]
    assert (a5.week, a5.cycle, a5.track) == (2, "w02-types", "advanced")
    assert a5.at == datetime(2024, 3, 11, 1, tzinfo=UTC)
    assert logs["legacy-log-a4"].at == at(4, 13)  # epoch milliseconds
    assert logs["legacy-log-a2"].message == "NameError: name 'x' is not defined"
    assert logs["legacy-log-b2"].cycle == "w01-hello-print"  # given as an id
    assert logs["legacy-log-a1"].class_id == "legacy-classA"  # the student's class
    assert logs["legacy-log-d1"].class_id == "legacy-classB"  # its classId
    assert {log.pack_id for log in logs.values()} == {"logicore"}


def test_counters_equal_a_recount_of_logs_and_reflections(
    ev: Eduverse, migrated: MigrationReport
) -> None:
    storage = ev.storage
    recount = counters_total(
        *(submission_counters(log) for log in storage.list_submissions()),
        *(reflection_counters(r) for r in storage.list_reflections()),
    )
    assert "class:legacy-classA" in recount and f"user:{uid(ADA)}:logicore" in recount
    for scope, expected in recount.items():
        assert storage.get_counters(scope) == expected, scope
    assert storage.get_counters(f"user:{uid(ADA)}:logicore")["submissions"] == 5


def test_reflections_keep_the_latest_per_week(ev: Eduverse, migrated: MigrationReport) -> None:
    ada = ev.storage.get_reflection(uid(ADA), "logicore", 1)  # e-mail and week from the id
    assert ada is not None and ada.class_id == "legacy-classA"
    assert {c: (r.comprehension, r.application) for c, r in ada.ratings.items()} == {
        "w01-hello-print": (4, 3),
        "w01-banner": (5, 5),
    }
    assert (ada.feedback.meaningful, ada.feedback.curious) == ("print가 재밌었다", "클래스")
    assert ada.at == at(8)
    bob = ev.storage.get_reflection(uid(BOB), "logicore", 1)
    assert bob is not None and bob.feedback.meaningful == "다시 쓴 회고"  # not the draft
    assert {c: (r.comprehension, r.application) for c, r in bob.ratings.items()} == {
        "w01-hello-print": (5, 4)
    }


# -- progress ---------------------------------------------------------------------------------
def test_progress_is_mapped_to_cycle_ids(ev: Eduverse, migrated: MigrationReport) -> None:
    ada_user = ev.accounts.log_in(ADA, PASSWORDS[ADA])
    ada = ev.progress.get(ada_user, "logicore")
    assert (ada.week, ada.cycle, ada.finished) == (2, 3, False)
    assert ada.completed == [*W1, "w02-types", "w02-arithmetic"]  # all before the position
    assert (ada.intros_seen, ada.coding_intro_seen) == ([1, 2], True)
    assert ada.failed_attempts == {"w01-banner:beginner": 2}  # from the replayed logs
    assert ada.pause_state is not None
    pause = ada.pause_state
    assert (pause.week, pause.cycle, pause.scene, pause.track) == (
        2,
        "w02-string-methods",
        "coding",
        "advanced",
    )
    assert ada.live_code == "name = input()\nprint(name.upper())"
    assert ada.live_code_cycle == "w02-string-methods"
    # The learner resumes where they were: the paused cycle is open, the next one is not.
    ev.progress.ensure_reachable(ada_user, "logicore", 2, "w02-string-methods")


def test_progress_edge_cases(ev: Eduverse, migrated: MigrationReport) -> None:
    everyone = ev.storage.list_progress([uid(e) for e in (BOB, CAROL, DAVE, EVE)], "logicore")
    assert sorted(everyone) == sorted([uid(BOB), uid(CAROL), uid(DAVE)])  # Eve has none
    bob, carol, dave = everyone[uid(BOB)], everyone[uid(CAROL)], everyone[uid(DAVE)]
    assert (bob.week, bob.cycle, bob.completed) == (2, 1, W1)  # cycle 6 of a 5-cycle week
    assert (bob.intros_seen, bob.coding_intro_seen) == ([1], True)  # a non-empty list
    assert bob.failed_attempts == {"w01-hello-print:beginner": 1}
    assert (carol.week, carol.cycle, carol.completed, carol.intros_seen) == (1, 1, [], [])
    assert carol.coding_intro_seen is False
    assert (dave.week, dave.cycle) == (1, 3)
    assert dave.completed == ["w01-hello-print", "w01-banner"]  # as given, unknown id dropped
    assert dave.pause_state is None  # it lay ahead of his progress
    assert dave.coding_intro_seen is True  # he completed cycles


# -- idempotence and dry runs -----------------------------------------------------------------
def test_a_second_run_stores_nothing_and_reports_everything_present(
    ev: Eduverse, logicore: ScenarioPack, migrated: MigrationReport
) -> None:
    before = snapshot(ev.storage)
    again = migrate_legacy(ev.storage, legacy_documents(), pack_id="logicore", pack=logicore)
    assert snapshot(ev.storage) == before
    assert counts(again) == {
        name: (0, s.converted, len(s.failed)) for name, s in migrated.sections.items()
    }
    assert lines(again.failed) == lines(migrated.failed)  # broken documents stay broken
    assert all(not s.notes for s in again.sections.values())
    assert again.locked_accounts == []


def test_a_run_after_log_ins_leaves_the_new_state_alone(
    ev: Eduverse, logicore: ScenarioPack, migrated: MigrationReport
) -> None:
    ada = ev.accounts.log_in(ADA, PASSWORDS[ADA])  # re-hashes her password
    ev.progress.mark_intro_seen(ada, "logicore", 3)
    before = snapshot(ev.storage)
    again = migrate_legacy(ev.storage, legacy_documents(), pack_id="logicore", pack=logicore)
    assert again.converted == 0
    assert snapshot(ev.storage) == before


def test_dry_run_writes_nothing_and_reports_what_a_run_would_do(
    ev: Eduverse, logicore: ScenarioPack
) -> None:
    empty = snapshot(ev.storage)
    dry = migrate_legacy(
        ev.storage, legacy_documents(), pack_id="logicore", pack=logicore, dry_run=True
    )
    assert snapshot(ev.storage) == empty
    assert dry.dry_run and "(dry run: nothing was written)" in dry.to_text()
    assert "7 would be converted" in dry.to_text()
    real = migrate_legacy(ev.storage, legacy_documents(), pack_id="logicore", pack=logicore)
    assert counts(dry) == counts(real)
    assert lines(dry.failed) == lines(real.failed)
    assert dry.locked_accounts == real.locked_accounts
    migrated = snapshot(ev.storage)
    again = migrate_legacy(
        ev.storage, legacy_documents(), pack_id="logicore", pack=logicore, dry_run=True
    )
    assert snapshot(ev.storage) == migrated
    assert again.converted == 0 and again.already_present == real.converted


# -- other stores and data --------------------------------------------------------------------
def test_an_email_already_used_by_another_account_is_not_merged(
    ev: Eduverse, logicore: ScenarioPack
) -> None:
    existing = ev.accounts.create_user(ADA, "Ada (new)", "a-new-password")
    report = migrate_legacy(ev.storage, legacy_documents(), pack_id="logicore", pack=logicore)
    assert (
        f"users/Ada@Student.ac.kr: e-mail already belongs to account {existing.id}, which this"
        " migration did not create: nothing of this user is converted (merge them by hand)"
    ) in lines(report.failed)
    assert "submission_logs/log-a1: student ada@student.ac.kr has no migrated account" in lines(
        report.failed
    )
    assert ev.storage.get_user(uid(ADA)) is None
    assert ev.storage.list_submissions(student_id=existing.id) == []
    assert ev.storage.get_progress(existing.id, "logicore") is None
    assert ev.accounts.log_in(ADA, "a-new-password").id == existing.id


def test_without_the_pack_positions_are_reported_as_unmappable(ev: Eduverse) -> None:
    report = migrate_legacy(ev.storage, legacy_documents(), pack_id="logicore")
    failed = lines(report["submission_logs"].failed)
    assert (
        "submission_logs/log-a1: cycle 1 of week 1: no pack given to map positions to ids" in failed
    )
    assert report["submission_logs"].converted == 1  # log-b2 names its cycle by id
    assert lines(report["progress"].failed) == [
        f"users/{e}: no pack given: positions cannot be mapped to cycle ids"
        for e in ("Ada@Student.ac.kr", BOB, CAROL, DAVE)
    ]
    assert report["users"].converted == 7 and report["classes"].converted == 2


def test_a_pack_that_is_not_pack_id_is_refused(ev: Eduverse, logicore: ScenarioPack) -> None:
    with pytest.raises(ValueError, match="pack 'logicore' given for pack_id 'other'"):
        migrate_legacy(ev.storage, [], pack_id="other", pack=logicore)


def test_mistyped_documents_are_reported_never_fatal(ev: Eduverse, logicore: ScenarioPack) -> None:
    junk = [
        LegacyDocument("users", "odd@x.org", ["not", "a", "map"]),  # type: ignore[arg-type]
        doc("users", "typed@x.org", name=42, role=["student"], passwordHash=12345,
            password=None, createdAt="yesterday", progress="week 3", pauseState=[1],
            liveCode=7, seenCodingIntros="maybe", completedCycles="all"),
        doc("users", "hash@x.org", passwordHash="md5$salt$abc", role="teacher"),
        doc("classes", "c1", instructorEmail="hash@x.org", details="big class",
            students="typed@x.org", inviteCode=None),
        doc("questions", "q1", studentEmail="typed@x.org", classId="c1", question=["?"],
            text="ok?", context=[], isResolved="yes", createdAt={"seconds": "x"}),
        doc("submission_logs", "l1", email="typed@x.org", week=None, cycle=1, success=True),
        doc("submission_logs", "l2", email=["typed@x.org"], week=1, cycle=1, success=True),
        doc("submission_logs", "l3", email="typed@x.org", week=1.0, cycle="1", success="true",
            code={"x": 1}, track="expert", timestamp=-1e20),
        doc("reflections", "r1", email="typed@x.org", week="1", ratings=[1, 2],
            feedback="great"),
        doc("reflections", "r2", email="typed@x.org", week=2,
            ratings={"1": "five", "2": {"comprehension": 9, "application": 1}}),
    ]  # fmt: skip
    report = migrate_legacy(ev.storage, junk, pack_id="logicore", pack=logicore)
    assert lines(report.failed) == [
        "users/odd@x.org: not a map of fields",
        "classes/c1: students is not a list",
        "submission_logs/l1: no week",
        "submission_logs/l2: no student e-mail",
    ]
    assert counts(report) == {
        "users": (2, 0, 1),
        "classes": (1, 0, 0),
        "memberships": (0, 0, 1),
        "questions": (1, 0, 0),
        "submission_logs": (1, 0, 2),
        "reflections": (2, 0, 0),
        "progress": (1, 0, 0),
    }
    notes = {
        f"{name}:{issue.source}": issue.reason
        for name, section in report.sections.items()
        for issue in section.notes
    }
    typed = notes["users:users/typed@x.org"]
    assert "unknown role ['student']: made a student" in typed
    assert "passwordHash is not text — account created locked" in typed
    assert "createdAt: 'yesterday' is not a time; the migration time is used" in typed
    assert (
        "passwordHash is in a form that cannot be verified — account created locked"
        in (notes["users:users/hash@x.org"])
    )
    assert report.locked_accounts == ["typed@x.org", "hash@x.org"]
    assert "no inviteCode: new code" in notes["classes:classes/c1"]
    assert (
        "unknown track 'expert': beginner is assumed" in notes["submission_logs:submission_logs/l3"]
    )
    assert "rating '2' dropped: scores must be from 1 to 5" in notes["reflections:reflections/r2"]
    assert notes["progress:users/typed@x.org"].startswith(
        "progress 'week 3' is not a map: starts at the beginning;"
    )
    hash_user = ev.storage.get_user(uid("hash@x.org"))
    assert hash_user is not None and hash_user.role == "instructor"  # "teacher"
    classroom = ev.storage.get_classroom("legacy-c1")
    assert classroom is not None and classroom.details.subject == "Class c1"
    question = ev.storage.get_question("legacy-q1")
    assert question is not None and (question.text, question.context.week) == ("ok?", 1)
    (log,) = ev.storage.list_submissions()
    assert (log.id, log.cycle, log.track, log.code) == (
        "legacy-l3",
        "w01-hello-print",
        "beginner",
        "",
    )
    progress = ev.storage.get_progress(uid("typed@x.org"), "logicore")
    assert progress is not None and (progress.week, progress.cycle, progress.live_code) == (
        1,
        1,
        "",
    )


# Values the original could hold in any field: the right type, the wrong one, or nonsense.
EMAILS = st.sampled_from([ADA, BOB, PROF, "x@y.org", "NOT AN E-MAIL"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 20),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    EMAILS,
    st.sampled_from(["1", "2", "w01-banner", "student", "professor", "ABCDEF", "2024"]),
    st.datetimes(timezones=st.sampled_from([None, UTC, KST])),
)
NESTED_KEYS = ["week", "cycle", "scene", "track", "comprehension", "application", "subject",
               "year", "semester", "email", "seconds", "1", "2"]  # fmt: skip
MAPS = st.dictionaries(st.sampled_from(NESTED_KEYS), SCALARS, max_size=4)
VALUES = SCALARS | st.lists(SCALARS | MAPS, max_size=3) | MAPS


@st.composite
def legacy_document(draw: st.DrawFn) -> LegacyDocument:
    collection = draw(st.sampled_from([*KNOWN_FIELDS, "scenarios"]))
    fields = sorted(KNOWN_FIELDS.get(collection, {"week"}))
    data = draw(st.dictionaries(st.sampled_from(fields), VALUES, max_size=len(fields)))
    doc_id = draw(EMAILS if collection == "users" else st.sampled_from(["a", "b", "c/d", "한"]))
    return LegacyDocument(collection, doc_id, data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents=st.lists(legacy_document(), max_size=12))
def test_any_legacy_data_is_reported_never_fatal_and_idempotent(
    logicore: ScenarioPack, documents: list[LegacyDocument]
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(legacy_data, "hash_password", lambda password: "scrypt$fast$test")
        storage = SQLiteStorage.from_url("sqlite://:memory:")
        try:
            dry = migrate_legacy(
                storage, documents, pack_id="logicore", pack=logicore, dry_run=True
            )
            first = migrate_legacy(storage, documents, pack_id="logicore", pack=logicore)
            second = migrate_legacy(storage, documents, pack_id="logicore", pack=logicore)
        finally:
            storage.close()
    assert counts(dry) == counts(first)
    for collection in ("users", "classes", "questions", "submission_logs", "reflections"):
        section = first[collection]
        assert section.total == sum(d.collection == collection for d in documents)
    assert second.converted == 0
    assert second.already_present == first.converted + first.already_present


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        (datetime(2024, 3, 4, 9, tzinfo=KST), datetime(2024, 3, 4, tzinfo=UTC)),
        (datetime(2024, 3, 4, 0, 0), datetime(2024, 3, 4, tzinfo=UTC)),  # naive: UTC
        ("2024-03-04T09:00:00+09:00", datetime(2024, 3, 4, tzinfo=UTC)),
        ("2024-03-04T00:00:00Z", datetime(2024, 3, 4, tzinfo=UTC)),
        (1709510400000, datetime(2024, 3, 4, tzinfo=UTC)),  # epoch milliseconds
        (1709510400, datetime(2024, 3, 4, tzinfo=UTC)),  # epoch seconds
        ("1709510400000", datetime(2024, 3, 4, tzinfo=UTC)),
        ({"seconds": 1709510400, "nanoseconds": 0}, datetime(2024, 3, 4, tzinfo=UTC)),
        ({"_seconds": 1709510400, "_nanoseconds": 5000}, datetime(2024, 3, 4, 0, 0, 0, 5, UTC)),
    ],
)
def test_parse_legacy_time(value: Any, expected: datetime | None) -> None:
    assert parse_legacy_time(value) == expected


@pytest.mark.parametrize("value", ["yesterday", {"seconds": "x"}, [2024], True, 1e30])
def test_parse_legacy_time_refuses_what_is_not_a_time(value: Any) -> None:
    with pytest.raises(ValueError, match="is not a"):
        parse_legacy_time(value)


def test_legacy_ids_are_stable_and_url_safe() -> None:
    assert legacy_user_id(ADA) == legacy_user_id(ADA) != legacy_user_id(BOB)
    assert legacy_user_id(ADA).startswith("legacy-") and len(legacy_user_id(ADA)) == 39
    assert legacy_record_id("Xy_9-a") == "legacy-Xy_9-a"
    odd = legacy_record_id("한글 id/with slash")
    assert odd.startswith("legacy-~") and odd == legacy_record_id("한글 id/with slash")
