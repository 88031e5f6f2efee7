"""Progress moves only on a server-graded pass; hints unlock on failures; logs and aggregates
are written together."""

from __future__ import annotations

import pytest

from eduverse_core import Eduverse, NotFound, PermissionDenied, ValidationFailed
from eduverse_core.models import Classroom, Outcome, PauseState, User

from fakes import EventRecorder, InProcessGrader


def submit(ev: Eduverse, user: User, week: int, cycle: str, answer: int, track: str = "beginner"):  # type: ignore[no-untyped-def]
    return ev.submissions.submit(user, "tiny", week, cycle, track, f"answer = {answer}\n")


def test_new_learner_starts_at_week_one_cycle_one(ev: Eduverse, student: User) -> None:
    progress = ev.progress.get(student)
    assert (progress.week, progress.cycle, progress.completed) == (1, 1, [])


def test_passing_the_current_cycle_advances(ev: Eduverse, student: User) -> None:
    result = submit(ev, student, 1, "w1-a", 1)
    assert result.grade.outcome is Outcome.PASSED
    assert (result.progress.week, result.progress.cycle) == (1, 2)
    assert result.progress.completed == ["w1-a"]


def test_passing_the_last_cycle_of_a_week_moves_to_the_next_week(
    ev: Eduverse, student: User
) -> None:
    submit(ev, student, 1, "w1-a", 1)
    result = submit(ev, student, 1, "w1-b", 2)
    assert (result.progress.week, result.progress.cycle) == (2, 1)


def test_passing_the_last_cycle_finishes_the_pack(ev: Eduverse, student: User) -> None:
    for week, cycle, answer in [(1, "w1-a", 1), (1, "w1-b", 2), (2, "w2-a", 3), (2, "w2-b", 4)]:
        result = submit(ev, student, week, cycle, answer)
    assert result.progress.finished is True
    assert len(result.progress.completed) == 4


def test_a_cycle_ahead_cannot_be_submitted(ev: Eduverse, student: User) -> None:
    with pytest.raises(PermissionDenied) as info:
        submit(ev, student, 2, "w2-a", 3)
    assert info.value.code == "cycle_locked"


def test_revisiting_an_earlier_cycle_never_moves_back(ev: Eduverse, student: User) -> None:
    submit(ev, student, 1, "w1-a", 1)
    submit(ev, student, 1, "w1-b", 2)
    result = submit(ev, student, 1, "w1-a", 1)
    assert (result.progress.week, result.progress.cycle) == (2, 1)


def test_cycle_may_be_named_by_position(ev: Eduverse, student: User) -> None:
    result = ev.submissions.submit(student, "tiny", 1, "1", "beginner", "answer = 1")
    assert result.cycle.id == "w1-a"


def test_failed_submission_counts_and_unlocks_hints_progressively(
    ev: Eduverse, student: User
) -> None:
    first = submit(ev, student, 1, "w1-a", 99)
    assert first.grade.outcome is Outcome.FAILED
    assert "answer should be 1" in first.grade.message or "answer는 1" in first.grade.message
    assert [h.text for h in first.hints] == ["first hint"]
    second = submit(ev, student, 1, "w1-a", 98)
    assert [h.text for h in second.hints] == ["first hint", "second hint"]
    assert second.progress.failed_attempts == {"w1-a:beginner": 2}
    assert (second.progress.week, second.progress.cycle) == (1, 1)


def test_hints_are_counted_per_track(ev: Eduverse, student: User) -> None:
    submit(ev, student, 1, "w1-a", 99, track="advanced")
    result = submit(ev, student, 1, "w1-a", 99, track="beginner")
    assert result.progress.failed_attempts == {"w1-a:advanced": 1, "w1-a:beginner": 1}


def test_grader_error_is_not_an_attempt(
    ev: Eduverse, student: User, grader: InProcessGrader
) -> None:
    grader.forced = Outcome.GRADER_ERROR
    result = submit(ev, student, 1, "w1-a", 1)
    assert result.counted is False
    assert ev.storage.list_submissions(student_id=student.id) == []
    assert ev.storage.get_counters(f"user:{student.id}:tiny") == {}


def test_submission_is_logged_with_class_and_outcome(
    ev: Eduverse, student: User, classroom: Classroom
) -> None:
    ev.classes.join(student, classroom.invite_code)
    submit(ev, student, 1, "w1-a", 5)
    (log,) = ev.storage.list_submissions(student_id=student.id)
    assert log.class_id == classroom.id
    assert log.outcome is Outcome.FAILED
    assert log.code == "answer = 5\n"
    counters = ev.storage.get_counters(f"class:{classroom.id}")
    assert counters["submissions"] == 1 and counters["passed"] == 0
    assert counters["cycle:1:w1-a:failures"] == 1


def test_submission_emits_events(ev: Eduverse, student: User, recorder: EventRecorder) -> None:
    submit(ev, student, 1, "w1-a", 1)
    assert "submission-graded" in recorder.names()
    assert "cycle-completed" in recorder.names()
    graded = next(e for e in recorder.events if e.name == "submission-graded")
    assert graded.actor_id == student.id and graded.data["outcome"] == "passed"
    assert "code" not in graded.data


def test_unknown_track_week_or_cycle_is_not_found(ev: Eduverse, student: User) -> None:
    with pytest.raises(NotFound):
        ev.submissions.submit(student, "tiny", 1, "w1-a", "expert", "answer = 1")
    with pytest.raises(NotFound):
        ev.submissions.submit(student, "tiny", 9, "w1-a", "beginner", "answer = 1")
    with pytest.raises(NotFound):
        ev.submissions.submit(student, "tiny", 1, "nope", "beginner", "answer = 1")
    with pytest.raises(NotFound):
        ev.submissions.submit(student, "tiny", 1, "7", "beginner", "answer = 1")


def test_oversized_code_is_refused(ev: Eduverse, student: User) -> None:
    with pytest.raises(ValidationFailed):
        ev.submissions.submit(student, "tiny", 1, "w1-a", "beginner", "#" * 70_000)


def test_run_without_tests_returns_output_and_records_nothing(ev: Eduverse, student: User) -> None:
    result = ev.submissions.run(student, "print('hello')")
    assert result.outcome is Outcome.PASSED and result.stdout == "hello\n"
    assert ev.storage.list_submissions(student_id=student.id) == []


def test_week_intro_is_marked_once(ev: Eduverse, student: User) -> None:
    ev.progress.mark_intro_seen(student, "tiny", 1)
    progress = ev.progress.mark_intro_seen(student, "tiny", 1)
    assert progress.intros_seen == [1]
    with pytest.raises(NotFound):
        ev.progress.mark_intro_seen(student, "tiny", 7)


def test_coding_intro_marker(ev: Eduverse, student: User) -> None:
    assert ev.progress.mark_coding_intro_seen(student, "tiny").coding_intro_seen is True


def test_pause_state_set_and_clear(ev: Eduverse, student: User) -> None:
    state = PauseState(week=1, cycle="w1-a", scene="lecture")
    assert ev.progress.set_pause(student, "tiny", state).pause_state == state
    assert ev.progress.clear_pause(student, "tiny").pause_state is None


def test_pause_on_a_cycle_not_reached_is_refused(ev: Eduverse, student: User) -> None:
    with pytest.raises(PermissionDenied):
        ev.progress.set_pause(student, "tiny", PauseState(week=2, cycle="w2-b", scene="task"))


def test_live_code_is_limited_to_64_kib(ev: Eduverse, student: User) -> None:
    ev.progress.save_live_code(student, "tiny", "x" * 65536)
    with pytest.raises(ValidationFailed):
        ev.progress.save_live_code(student, "tiny", "x" * 65537)
    assert ev.progress.get(student).last_active is not None


def test_feedback_scene_names_the_learner_with_html_escaped(ev: Eduverse) -> None:
    eve = ev.accounts.create_user("eve@example.org", "<b>Eve</b>", "long enough")
    result = ev.submissions.submit(eve, "tiny", 1, "w1-a", "beginner", "answer = 1", "en")
    assert result.feedback.character == "alex"
    assert "&lt;b&gt;Eve&lt;/b&gt;" in result.feedback.content
    assert "<b>Eve" not in result.feedback.content


def test_failure_feedback_carries_the_error_message(ev: Eduverse, student: User) -> None:
    result = submit(ev, student, 1, "w1-a", 42)
    assert result.feedback.character == "sena"
    assert "answer" in result.feedback.content and "1" in result.feedback.content
