"""Classes: creation, invite codes, join/leave, members, deletion, authorization."""

from __future__ import annotations

import pytest

from eduverse_core import Conflict, Eduverse, NotFound, PermissionDenied, ValidationFailed
from eduverse_core.models import INVITE_ALPHABET, ClassDetails, Classroom, User
from eduverse_core.services.classes import generate_invite_code


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
    ev.classes.join(other_student, classroom.invite_code)
    ev.progress.save_live_code(student, "tiny", "print('hi')", "w1-a")
    members = {m.user.id: m for m in ev.classes.members(instructor, classroom.id)}
    assert members[student.id].online is True
    assert members[other_student.id].online is False
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
