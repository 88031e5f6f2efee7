"""Questions, reflections, and analytics served from aggregates."""

from __future__ import annotations

import pytest

from eduverse_core import Eduverse, NotFound, PermissionDenied, ValidationFailed
from eduverse_core.models import Classroom, Rating, ReflectionFeedback, SceneContext, User

CONTEXT = SceneContext(week=1, cycle="w1-a", scene="lecture", character="sena", excerpt="x = 1")


@pytest.fixture
def member(ev: Eduverse, student: User, classroom: Classroom) -> User:
    ev.classes.join(student, classroom.invite_code)
    return student


def test_ask_requires_a_class(ev: Eduverse, student: User) -> None:
    with pytest.raises(PermissionDenied) as info:
        ev.questions.ask(student, "Why?", CONTEXT)
    assert info.value.code == "not_in_class"


def test_question_flow_ask_answer_seen(
    ev: Eduverse, member: User, instructor: User, classroom: Classroom
) -> None:
    question = ev.questions.ask(member, "  What is a variable?  ", CONTEXT)
    assert question.text == "What is a variable?"
    assert [q.id for q in ev.questions.inbox(instructor, classroom.id, True)] == [question.id]
    answered = ev.questions.answer(instructor, question.id, "A name for a value.")
    assert answered.resolved and answered.answered_by == instructor.id
    assert ev.questions.inbox(instructor, classroom.id, unresolved_only=True) == []
    assert ev.questions.mine(member)[0].answer == "A name for a value."
    assert ev.questions.mark_answer_seen(member, question.id).notified is True


def test_only_the_class_instructor_answers(
    ev: Eduverse, member: User, other_instructor: User
) -> None:
    question = ev.questions.ask(member, "Q", CONTEXT)
    with pytest.raises(PermissionDenied):
        ev.questions.answer(other_instructor, question.id, "A")
    with pytest.raises(PermissionDenied):
        ev.questions.answer(member, question.id, "A")


def test_another_student_cannot_mark_an_answer_seen(
    ev: Eduverse, member: User, other_student: User, instructor: User
) -> None:
    question = ev.questions.ask(member, "Q", CONTEXT)
    ev.questions.answer(instructor, question.id, "A")
    with pytest.raises(NotFound):
        ev.questions.mark_answer_seen(other_student, question.id)


def test_empty_question_is_refused(ev: Eduverse, member: User) -> None:
    with pytest.raises(ValidationFailed):
        ev.questions.ask(member, "   ", CONTEXT)


def ratings(c: int, a: int) -> dict[str, Rating]:
    return {"w1-a": Rating(comprehension=c, application=a)}


def test_reflection_resubmission_replaces_and_averages_follow(
    ev: Eduverse, member: User, other_student: User, instructor: User, classroom: Classroom
) -> None:
    ev.classes.join(other_student, classroom.invite_code)
    ev.reflections.submit(member, "tiny", 1, ratings(1, 1), ReflectionFeedback())
    ev.reflections.submit(member, "tiny", 1, ratings(5, 3), ReflectionFeedback(curious="loops"))
    ev.reflections.submit(other_student, "tiny", 1, ratings(3, 5), ReflectionFeedback())
    assert len(ev.reflections.mine(member)) == 1
    report = ev.analytics.class_report(instructor, classroom.id)
    (avg,) = report.reflections
    assert (avg.comprehension, avg.application, avg.count) == (4.0, 4.0, 2)
    assert report.feedback[0].curious == ["loops"]


def test_reflection_for_a_cycle_of_another_week_is_refused(ev: Eduverse, member: User) -> None:
    with pytest.raises(ValidationFailed):
        ev.reflections.submit(
            member,
            "tiny",
            1,
            {"w2-a": Rating(comprehension=1, application=1)},
            ReflectionFeedback(),
        )


def test_class_report_counts_rates_and_most_failed(
    ev: Eduverse, member: User, other_student: User, instructor: User, classroom: Classroom
) -> None:
    ev.classes.join(other_student, classroom.invite_code)
    for user, answers in [(member, [7, 8, 1]), (other_student, [9, 1])]:
        for answer in answers:
            ev.submissions.submit(user, "tiny", 1, "w1-a", "beginner", f"answer = {answer}")
    ev.submissions.submit(member, "tiny", 1, "w1-b", "beginner", "answer = 0")
    report = ev.analytics.class_report(instructor, classroom.id)
    assert (report.submissions, report.passed) == (6, 2)
    assert report.success_rate == pytest.approx(2 / 6, abs=1e-3)
    assert report.weeks[0].submissions == 6 and report.weeks[1].submissions == 0
    assert report.weeks[1].success_rate is None
    assert [(r.cycle, r.failures) for r in report.most_failed] == [("w1-a", 3), ("w1-b", 1)]
    rows = {r.user_id: r for r in report.students}
    assert rows[member.id].completed == 1 and rows[member.id].cycle == 2


def test_growth_shows_my_weeks(ev: Eduverse, member: User) -> None:
    ev.submissions.submit(member, "tiny", 1, "w1-a", "beginner", "answer = 0")
    ev.submissions.submit(member, "tiny", 1, "w1-a", "beginner", "answer = 1")
    ev.reflections.submit(member, "tiny", 1, ratings(4, 2), ReflectionFeedback(meaningful="x"))
    growth = ev.analytics.growth(member)
    assert (growth.submissions, growth.passed, growth.completed) == (2, 1, 1)
    week1 = growth.weeks[0]
    assert week1.success_rate == 0.5
    assert (week1.comprehension, week1.application) == (4.0, 2.0)
    assert week1.feedback is not None and week1.feedback["meaningful"] == "x"
    assert growth.weeks[1].comprehension is None


def test_student_cannot_read_class_analytics(
    ev: Eduverse, member: User, classroom: Classroom
) -> None:
    with pytest.raises(PermissionDenied):
        ev.analytics.class_report(member, classroom.id)
