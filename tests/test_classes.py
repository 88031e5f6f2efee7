"""Classes: creation, invite codes, join/leave, members, deletion, authorization, the
instructor's monitor feed and exports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from eduverse_core import Conflict, Eduverse, NotFound, PermissionDenied, ValidationFailed
from eduverse_core.models import (
    INVITE_ALPHABET,
    ClassDetails,
    Classroom,
    Membership,
    SceneContext,
    User,
    utcnow,
)
from eduverse_core.services.classes import (
    MONITOR_LOOKBACK,
    decode_cursor,
    encode_cursor,
    generate_invite_code,
)


def test_create_class_gives_a_six_character_unambiguous_code(classroom: Classroom) -> None:
    assert len(classroom.invite_code) == 6
    assert set(classroom.invite_code) <= set(INVITE_ALPHABET)
    assert not set(classroom.invite_code) & set("01OIL")
    assert classroom.name == "2026-1 Python (A)"
    assert classroom.pack_id == "tiny"


def test_student_cannot_create_a_class(ev: Eduverse, student: User) -> None:
    details = ClassDetails(subject="X", year=2026, semester="1")
    with pytest.raises(PermissionDenied):
        ev.classes.create(student, details)


def test_create_class_with_unknown_pack_is_not_found(ev: Eduverse, instructor: User) -> None:
    details = ClassDetails(subject="X", year=2026, semester="1")
    with pytest.raises(NotFound):
        ev.classes.create(instructor, details, pack_id="nope")


def test_create_class_retries_when_the_invite_code_is_taken(
    ev: Eduverse, instructor: User, classroom: Classroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = iter([classroom.invite_code, "ZZZZZZ"])
    monkeypatch.setattr("eduverse_core.services.classes.generate_invite_code", lambda: next(codes))
    second = ev.classes.create(instructor, ClassDetails(subject="Y", year=2026, semester="2"))
    assert second.invite_code == "ZZZZZZ"


def test_generated_codes_vary() -> None:
    assert len({generate_invite_code() for _ in range(50)}) > 45


def test_join_with_unknown_invite_code_is_404_naming_the_code(ev: Eduverse, student: User) -> None:
    with pytest.raises(NotFound) as info:
        ev.classes.join(student, "QQQQQQ")
    assert "QQQQQQ" in info.value.message
    assert info.value.code == "invite_code_not_found"


def test_join_accepts_lower_case_and_dashes(
    ev: Eduverse, student: User, classroom: Classroom
) -> None:
    code = classroom.invite_code
    typed = f"{code[:3].lower()}-{code[3:].lower()}"
    assert ev.classes.join(student, typed).id == classroom.id
    assert ev.classes.my_class(student) == classroom


def test_empty_invite_code_is_validation_failed(ev: Eduverse, student: User) -> None:
    with pytest.raises(ValidationFailed):
        ev.classes.join(student, "  ")


def test_instructor_cannot_join_a_class(
    ev: Eduverse, other_instructor: User, classroom: Classroom
) -> None:
    with pytest.raises(PermissionDenied):
        ev.classes.join(other_instructor, classroom.invite_code)


def test_joining_another_class_leaves_the_first(
    ev: Eduverse, student: User, instructor: User, classroom: Classroom
) -> None:
    second = ev.classes.create(instructor, ClassDetails(subject="Y", year=2026, semester="2"))
    ev.classes.join(student, classroom.invite_code)
    ev.classes.join(student, second.invite_code)
    assert [m.user.id for m in ev.classes.members(instructor, classroom.id)] == []
    assert [m.user.id for m in ev.classes.members(instructor, second.id)] == [student.id]


def test_leave_without_a_class_is_not_found(ev: Eduverse, student: User) -> None:
    with pytest.raises(NotFound):
        ev.classes.leave(student)


def test_regenerated_code_replaces_the_old_one(
    ev: Eduverse, student: User, instructor: User, classroom: Classroom
) -> None:
    updated = ev.classes.regenerate_invite_code(instructor, classroom.id)
    assert updated.invite_code != classroom.invite_code
    with pytest.raises(NotFound):
        ev.classes.join(student, classroom.invite_code)
    assert ev.classes.join(student, updated.invite_code).id == classroom.id


def test_another_instructor_cannot_see_or_change_the_class(
    ev: Eduverse, other_instructor: User, classroom: Classroom
) -> None:
    for action in (
        lambda: ev.classes.get(other_instructor, classroom.id),
        lambda: ev.classes.members(other_instructor, classroom.id),
        lambda: ev.classes.regenerate_invite_code(other_instructor, classroom.id),
        lambda: ev.classes.delete(other_instructor, classroom.id),
        lambda: ev.analytics.class_report(other_instructor, classroom.id),
    ):
        with pytest.raises(PermissionDenied):
            action()


def test_delete_class_detaches_members(
    ev: Eduverse, student: User, instructor: User, classroom: Classroom
) -> None:
    ev.classes.join(student, classroom.invite_code)
    ev.classes.delete(instructor, classroom.id)
    assert ev.classes.my_class(student) is None
    assert ev.classes.list_mine(instructor) == []
    with pytest.raises(NotFound):
        ev.classes.get(instructor, classroom.id)


def test_members_show_progress_and_online_status(
    ev: Eduverse, student: User, other_student: User, instructor: User, classroom: Classroom
) -> None:
    ev.classes.join(student, classroom.invite_code)
    joined(ev, other_student, classroom, utcnow() - timedelta(hours=1))
    ev.progress.save_live_code(student, "tiny", "print('hi')", "w1-a")
    members = {m.user.id: m for m in ev.classes.members(instructor, classroom.id)}
    assert members[student.id].online is True
    assert members[other_student.id].online is False  # joined an hour ago, no step since
    assert members[other_student.id].progress is None
    ev.classes.join(other_student, classroom.invite_code)  # joining is done in the app
    members = {m.user.id: m for m in ev.classes.members(instructor, classroom.id)}
    assert members[other_student.id].online is True
    assert members[other_student.id].progress is None
    live = ev.classes.member_progress(instructor, classroom.id, student.id)
    assert live.live_code == "print('hi')"


def test_member_progress_of_a_non_member_is_not_found(
    ev: Eduverse, other_student: User, instructor: User, classroom: Classroom
) -> None:
    with pytest.raises(NotFound):
        ev.classes.member_progress(instructor, classroom.id, other_student.id)


def test_unknown_class_is_not_found(ev: Eduverse, instructor: User) -> None:
    with pytest.raises(NotFound):
        ev.classes.get(instructor, "missing")


def test_invite_code_conflict_is_reported_after_many_collisions(
    ev: Eduverse, instructor: User, classroom: Classroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "eduverse_core.services.classes.generate_invite_code", lambda: classroom.invite_code
    )
    with pytest.raises(Conflict):
        ev.classes.create(instructor, ClassDetails(subject="Y", year=2026, semester="2"))


# -- the instructor's monitor feed, class page and exports -------------------------------------
def spy(monkeypatch: pytest.MonkeyPatch, ev: Eduverse, method: str) -> list[dict[str, Any]]:
    """Record the keyword arguments of each call of a storage method."""
    calls: list[dict[str, Any]] = []
    original: Callable[..., Any] = getattr(ev.storage, method)

    def recording(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(ev.storage, method, recording)
    return calls


def joined(ev: Eduverse, user: User, classroom: Classroom, moment: datetime) -> None:
    ev.storage.join_classroom(Membership(class_id=classroom.id, user_id=user.id, joined_at=moment))


def active(ev: Eduverse, user: User, moment: datetime, code: str = "") -> None:
    ev.storage.update_progress(
        user.id, "tiny", lambda p: p.model_copy(update={"last_active": moment, "live_code": code})
    )


def changed_ids(ev: Eduverse, instructor: User, classroom: Classroom, since: str) -> list[str]:
    return [a.user_id for a in ev.classes.monitor(instructor, classroom.id, since).changed]


def test_monitor_without_a_cursor_shows_every_member(
    ev: Eduverse, student: User, other_student: User, instructor: User, classroom: Classroom
) -> None:
    ev.classes.join(student, classroom.invite_code)
    ev.classes.join(other_student, classroom.invite_code)
    ev.progress.save_live_code(student, "tiny", "answer = 1", "w1-a")
    feed = ev.classes.monitor(instructor, classroom.id)
    assert feed.member_ids == [student.id, other_student.id]
    assert [a.user_id for a in feed.changed] == [student.id, other_student.id]
    assert feed.online_ids == [student.id, other_student.id]  # (joining is activity too)
    mine = feed.changed[0].progress
    assert mine is not None and mine.live_code == "answer = 1"
    assert feed.changed[1].progress is None
    assert feed.unanswered_questions == 0 and feed.newest_question_at is None


def test_monitor_shows_only_members_changed_since_the_cursor(
    ev: Eduverse, student: User, other_student: User, instructor: User, classroom: Classroom
) -> None:
    start = utcnow() - timedelta(hours=2)
    joined(ev, student, classroom, start)
    joined(ev, other_student, classroom, start + timedelta(minutes=1))
    active(ev, student, start + timedelta(minutes=10))
    active(ev, other_student, start + timedelta(minutes=20))
    cursor = ev.classes.monitor(instructor, classroom.id).cursor
    assert decode_cursor(cursor) == start + timedelta(minutes=20)
    # Nothing new: only the latest change, which lies within the look-back, comes again.
    assert changed_ids(ev, instructor, classroom, cursor) == [other_student.id]
    ev.progress.save_live_code(student, "tiny", "answer = 2", "w1-b")
    fresh = ev.classes.monitor(instructor, classroom.id, cursor)
    assert [a.user_id for a in fresh.changed] == [student.id, other_student.id]
    assert changed_ids(ev, instructor, classroom, fresh.cursor) == [student.id]


def test_monitor_looks_back_for_writes_that_commit_late(
    ev: Eduverse, student: User, other_student: User, instructor: User, classroom: Classroom
) -> None:
    start = utcnow() - timedelta(hours=1)
    joined(ev, student, classroom, start)
    joined(ev, other_student, classroom, start)
    active(ev, other_student, start + timedelta(minutes=30))
    cursor = ev.classes.monitor(instructor, classroom.id).cursor
    # A write stamped just before the cursor that committed after the poll is still seen …
    active(ev, student, decode_cursor(cursor) - MONITOR_LOOKBACK / 2)
    assert student.id in changed_ids(ev, instructor, classroom, cursor)
    # … one stamped well before it was seen by that poll already.
    active(ev, student, decode_cursor(cursor) - MONITOR_LOOKBACK * 2)
    assert student.id not in changed_ids(ev, instructor, classroom, cursor)


def test_monitor_cursor_never_moves_back_when_a_member_leaves(
    ev: Eduverse, student: User, other_student: User, instructor: User, classroom: Classroom
) -> None:
    ev.classes.join(other_student, classroom.invite_code)
    ev.classes.join(student, classroom.invite_code)
    cursor = ev.classes.monitor(instructor, classroom.id).cursor
    ev.classes.leave(student)
    after = ev.classes.monitor(instructor, classroom.id, cursor)
    assert after.cursor == cursor
    assert after.member_ids == [other_student.id]


def test_monitor_counts_unanswered_questions(
    ev: Eduverse, student: User, instructor: User, classroom: Classroom
) -> None:
    ev.classes.join(student, classroom.invite_code)
    first = ev.questions.ask(student, "Why?", SceneContext(week=1))
    second = ev.questions.ask(student, "How?", SceneContext(week=1))
    ev.questions.answer(instructor, first.id, "Because.")
    feed = ev.classes.monitor(instructor, classroom.id)
    assert feed.unanswered_questions == 1
    assert feed.newest_question_at == second.created_at


@pytest.mark.parametrize("cursor", ["", "nope!", "AAAA", "__________8", "//////////8"])
def test_monitor_rejects_a_cursor_it_did_not_make(
    ev: Eduverse, instructor: User, classroom: Classroom, cursor: str
) -> None:
    with pytest.raises(ValidationFailed) as info:
        ev.classes.monitor(instructor, classroom.id, cursor)
    assert info.value.code == "invalid_cursor"


def test_cursor_round_trips_to_the_microsecond() -> None:
    moment = utcnow()
    assert decode_cursor(encode_cursor(moment)) == moment


def test_monitor_reads_every_members_progress_in_one_query_and_no_accounts(
    ev: Eduverse, instructor: User, classroom: Classroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        ev.storage.join_classroom(Membership(class_id=classroom.id, user_id=f"learner-{n}"))
    bulk = spy(monkeypatch, ev, "list_progress")
    single = spy(monkeypatch, ev, "get_progress")
    accounts = spy(monkeypatch, ev, "get_user")
    feed = ev.classes.monitor(instructor, classroom.id)
    assert len(feed.changed) == 5
    assert len(bulk) == 1 and single == [] and accounts == []


def test_detail_and_counts_show_the_class_with_its_members(
    ev: Eduverse, student: User, instructor: User, classroom: Classroom
) -> None:
    empty = ev.classes.create(instructor, ClassDetails(subject="Y", year=2026, semester="2"))
    ev.classes.join(student, classroom.invite_code)
    view = ev.classes.detail(instructor, classroom.id)
    assert view.classroom == classroom
    assert [m.user.id for m in view.members] == [student.id]
    counted = [
        (c.classroom.id, c.member_count) for c in ev.classes.list_mine_with_counts(instructor)
    ]
    assert counted == [(classroom.id, 1), (empty.id, 0)]


def test_submission_export_reads_page_by_page_as_it_is_iterated(
    ev: Eduverse,
    student: User,
    instructor: User,
    classroom: Classroom,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ev.classes.join(student, classroom.invite_code)
    for n in range(5):
        ev.submissions.submit(student, "tiny", 1, "w1-a", "beginner", f"answer = {-n}")
    pages = spy(monkeypatch, ev, "list_submissions")
    single = spy(monkeypatch, ev, "get_user")
    bulk = spy(monkeypatch, ev, "get_users")
    export = ev.classes.submission_export(instructor, classroom.id, page_size=2)
    assert export.classroom == classroom and pages == []  # nothing read before iterating
    rows = list(export.rows)
    assert [log.code for log, _ in rows] == [f"answer = {-n}" for n in range(5)]
    assert all(author == student for _, author in rows)
    assert [(call["limit"], call["after"]) for call in pages] == [
        (2, None),
        (2, rows[1][0].id),
        (2, rows[3][0].id),
    ]
    # The authors a page brings are read at once, each only once: here one read for three pages.
    assert [call["user_ids"] for call in bulk] == [[student.id]] and single == []


def test_submission_export_keeps_logs_of_deleted_accounts_without_an_author(
    ev: Eduverse, student: User, instructor: User, classroom: Classroom
) -> None:
    ev.classes.join(student, classroom.invite_code)
    ev.submissions.submit(student, "tiny", 1, "w1-a", "beginner", "answer = 1")
    ev.storage.get_users = lambda user_ids: {}  # type: ignore[method-assign]
    rows = list(ev.classes.submission_export(instructor, classroom.id).rows)
    assert [(log.student_id, author) for log, author in rows] == [(student.id, None)]


def test_the_instructor_views_are_for_the_class_instructor_only(
    ev: Eduverse, student: User, other_instructor: User, classroom: Classroom
) -> None:
    ev.classes.join(student, classroom.invite_code)
    with pytest.raises(PermissionDenied):
        ev.classes.list_mine_with_counts(student)
    for actor in (student, other_instructor):
        with pytest.raises(PermissionDenied):
            ev.classes.detail(actor, classroom.id)
        with pytest.raises(PermissionDenied):
            ev.classes.monitor(actor, classroom.id)
        with pytest.raises(PermissionDenied):
            ev.classes.submission_export(actor, classroom.id)
    with pytest.raises(NotFound):
        ev.classes.monitor(other_instructor, "missing")
