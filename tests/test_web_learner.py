"""The learner API over HTTP: who may call what, and what a learner sees of their own data."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from test_openapi import assert_conforms
from web_support import call, documented_matrix, matrix_statuses, row

from eduverse_core import Eduverse
from eduverse_core.models import (
    ClassDetails,
    Classroom,
    Outcome,
    PauseState,
    Progress,
    ScenarioPack,
    SceneContext,
    User,
)
from eduverse_core.services.progress import current_position

from fakes import InProcessGrader, make_pack


# -- the world every authorization test runs in --------------------------------------------------
@pytest.fixture
def answered(ev: Eduverse, callers: dict[str, User | None], instructor: User) -> str:
    """The id of the member's question, answered by the class's instructor."""
    member = callers["member"]
    assert member is not None
    question = ev.questions.ask(member, "Why?", SceneContext(week=1, cycle="w1-a"))
    ev.questions.answer(instructor, question.id, "Because.")
    return question.id


MINE = row(401, 200, 200, 200, 200)
STUDENTS = row(401, 200, 200, 403, 403)
PASS_W1A = {
    "pack_id": "tiny",
    "week": 1,
    "cycle": "w1-a",
    "track": "beginner",
    "code": "answer = 1",
}
RATINGS = {"w1-a": {"comprehension": 4, "application": 3}}
QUESTION = {"text": "What is a variable?", "context": {"week": 1, "cycle": "w1-a"}}

# (method, url template, body, expected status per caller). `{invite_code}` and
# `{question_id}` are filled from the world; the table must match docs/api.md.
MATRIX: list[tuple[str, str, Any, dict[str, int]]] = [
    ("GET", "/api/progress", None, MINE),
    ("POST", "/api/submissions", PASS_W1A, MINE),
    ("GET", "/api/hints?pack=tiny&week=1&cycle=w1-a", None, MINE),
    ("POST", "/api/run", {"code": "print(1)"}, MINE),
    ("PUT", "/api/progress/live-code", {"code": "x = 1", "cycle_id": "w1-a"}, MINE),
    ("PUT", "/api/progress/pause", {"week": 1, "cycle": "w1-a", "scene": "task"}, MINE),
    ("DELETE", "/api/progress/pause", None, MINE),
    ("POST", "/api/progress/intro-seen", {"week": 1}, MINE),
    ("POST", "/api/progress/coding-intro-seen", {}, MINE),
    ("POST", "/api/classes/join", {"invite_code": "{invite_code}"}, STUDENTS),
    ("POST", "/api/classes/leave", None, STUDENTS),
    ("POST", "/api/questions", QUESTION, row(401, 201, 201, 403, 403)),
    ("GET", "/api/questions/mine", None, MINE),
    ("POST", "/api/questions/{question_id}/seen", None, row(401, 200, 404, 404, 404)),
    ("PUT", "/api/reflections/{week}", {"ratings": RATINGS}, MINE),
    ("GET", "/api/reflections/mine", None, MINE),
    ("GET", "/api/growth", None, MINE),
]


def fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: fill(v, names) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("method", "template", "body", "expected"),
    MATRIX,
    ids=[f"{m} {t}" for m, t, _, _ in MATRIX],
)
def test_authorization_matrix(
    ev: Eduverse,
    client: FlaskClient,
    callers: dict[str, User | None],
    classroom: Classroom,
    answered: str,
    method: str,
    template: str,
    body: Any,
    expected: dict[str, int],
) -> None:
    names = {"invite_code": classroom.invite_code, "question_id": answered, "week": "1"}
    url = fill(template, names)
    assert matrix_statuses(client, ev, callers, method, url, fill(body, names)) == expected


def test_the_documented_matrix_is_the_tested_one() -> None:
    tested = {(m, t.split("?")[0]): expected for m, t, _, expected in MATRIX}
    assert documented_matrix("Learner API") == tested


# -- helpers -------------------------------------------------------------------------------------
@pytest.fixture
def doc(client: FlaskClient) -> dict[str, Any]:
    document = client.get("/api/openapi.json").json
    assert isinstance(document, dict)
    return document


def submit(
    client: FlaskClient, ev: Eduverse, user: User, week: int, cycle: str | int, answer: int
) -> Any:
    body = {**PASS_W1A, "week": week, "cycle": cycle, "code": f"answer = {answer}\n"}
    return call(client, ev, user, "POST", "/api/submissions", body)


def pass_through(client: FlaskClient, ev: Eduverse, user: User, *cycles: str) -> None:
    answers = {"w1-a": (1, 1), "w1-b": (1, 2), "w2-a": (2, 3), "w2-b": (2, 4)}
    for cycle in cycles:
        week, answer = answers[cycle]
        assert submit(client, ev, user, week, cycle, answer).json["outcome"] == "passed"


def register_html_pack(ev: Eduverse) -> None:
    """Pack "html": the tiny pack whose w1-a hints are localised and carry unsafe HTML."""
    data = make_pack("html").model_dump(by_alias=True, exclude_none=True)
    data["weeks"][0]["cycles"][0]["beginner"]["hints"] = [
        {
            "after_failures": 1,
            "text": {
                "ko": "<b>힌트</b>",
                "en": '<b>Hint</b><script>alert(1)</script><a href="javascript:x()">x</a>',
            },
        }
    ]
    ev.register_pack(ScenarioPack.model_validate(data))


# -- progress ------------------------------------------------------------------------------------
def test_a_new_learner_starts_at_the_first_cycle_and_never_sees_live_code(
    ev: Eduverse, client: FlaskClient, student: User, doc: dict[str, Any]
) -> None:
    ev.progress.save_live_code(student, "tiny", "secret = 1", "w1-a")
    response = call(client, ev, student, "GET", "/api/progress")
    assert response.status_code == 200
    progress = response.json["progress"]
    assert progress["pack_id"] == "tiny"
    assert progress["current"] == {"week": 1, "cycle_id": "w1-a", "position": 1}
    assert (progress["completed"], progress["finished"], progress["pause_state"]) == (
        [],
        False,
        None,
    )
    assert "live_code" not in progress and "secret" not in response.get_data(as_text=True)
    assert_conforms(doc, "/api/progress", "get", response)


def test_progress_defaults_to_the_pack_of_the_learners_class(
    ev: Eduverse, client: FlaskClient, student: User, instructor: User
) -> None:
    ev.register_pack(make_pack("second"))
    details = ClassDetails(subject="Other course", year=2026, semester="2")
    classroom = ev.classes.create(instructor, details, pack_id="second")
    assert call(client, ev, student, "GET", "/api/progress").json["progress"]["pack_id"] == "tiny"
    ev.classes.join(student, classroom.invite_code)
    assert call(client, ev, student, "GET", "/api/progress").json["progress"]["pack_id"] == "second"
    explicit = call(client, ev, student, "GET", "/api/progress?pack=tiny")
    assert explicit.json["progress"]["pack_id"] == "tiny"


def test_progress_of_an_unknown_pack_is_404(
    ev: Eduverse, client: FlaskClient, student: User, doc: dict[str, Any]
) -> None:
    response = call(client, ev, student, "GET", "/api/progress?pack=nope")
    assert response.status_code == 404 and response.json["ok"] is False
    assert_conforms(doc, "/api/progress", "get", response)
    assert call(client, ev, student, "GET", "/api/progress?pack=x&extra=1").status_code == 422


# -- submissions ---------------------------------------------------------------------------------
def test_a_pass_advances_and_points_to_the_next_cycle(
    ev: Eduverse, client: FlaskClient, student: User, doc: dict[str, Any]
) -> None:
    response = submit(client, ev, student, 1, "w1-a", 1)
    assert response.status_code == 200
    data = response.json
    assert (data["outcome"], data["counted"], data["hints"]) == ("passed", True, [])
    assert data["next"] == {"week": 1, "cycle_id": "w1-b"}
    assert data["progress"]["current"] == {"week": 1, "cycle_id": "w1-b", "position": 2}
    assert data["progress"]["completed"] == ["w1-a"]
    assert data["feedback"]["character"] == "alex" and data["feedback"]["character_name"] == "Alex"
    assert_conforms(doc, "/api/submissions", "post", response)


def test_a_failure_stays_on_the_cycle_and_unlocks_hints(
    ev: Eduverse, client: FlaskClient, student: User, doc: dict[str, Any]
) -> None:
    first = submit(client, ev, student, 1, "w1-a", 7)
    assert first.status_code == 200
    data = first.json
    assert (data["outcome"], data["counted"]) == ("failed", True)
    assert "answer should be 1" in data["message"] or "answer는 1" in data["message"]
    assert data["next"] == {"week": 1, "cycle_id": "w1-a"}
    assert data["hints"] == ["first hint"]
    assert data["progress"]["failed_attempts"] == {"w1-a:beginner": 1}
    assert data["feedback"]["character"] == "sena"
    assert_conforms(doc, "/api/submissions", "post", first)
    second = submit(client, ev, student, 1, "w1-a", 7)
    assert second.json["hints"] == ["first hint", "second hint"]


def test_a_runtime_error_is_reported_with_its_message(
    ev: Eduverse, client: FlaskClient, student: User
) -> None:
    body = {**PASS_W1A, "code": "answer = 1 / 0"}
    data = call(client, ev, student, "POST", "/api/submissions", body).json
    assert data["outcome"] == "error" and "ZeroDivisionError" in data["message"]
    assert data["next"] == {"week": 1, "cycle_id": "w1-a"}


def test_hints_are_localised_and_sanitised(
    ev: Eduverse, client: FlaskClient, student: User
) -> None:
    register_html_pack(ev)
    body = {**PASS_W1A, "pack_id": "html", "code": "answer = 0", "locale": "en"}
    hints = call(client, ev, student, "POST", "/api/submissions", body).json["hints"]
    assert hints == ["<b>Hint</b><a>x</a>"]
    korean = call(client, ev, student, "POST", "/api/submissions", {**body, "locale": "ko"})
    assert korean.json["hints"] == ["<b>힌트</b>"]
    default = {k: v for k, v in body.items() if k != "locale"}
    assert call(client, ev, student, "POST", "/api/submissions", default).json["hints"] == [
        "<b>힌트</b>"
    ]


def test_a_cycle_ahead_is_403_cycle_locked_by_id_or_position(
    ev: Eduverse, client: FlaskClient, student: User, doc: dict[str, Any]
) -> None:
    ahead = submit(client, ev, student, 1, "w1-b", 2)
    assert ahead.status_code == 403 and ahead.json["code"] == "cycle_locked"
    assert_conforms(doc, "/api/submissions", "post", ahead)
    assert submit(client, ev, student, 1, 2, 2).json["code"] == "cycle_locked"
    assert submit(client, ev, student, 2, "w2-a", 3).json["code"] == "cycle_locked"
    progress = ev.progress.get(student)
    assert (progress.week, progress.cycle, progress.completed) == (1, 1, [])


def test_a_reached_cycle_may_be_revisited_without_moving_back(
    ev: Eduverse, client: FlaskClient, student: User
) -> None:
    pass_through(client, ev, student, "w1-a", "w1-b")
    again = submit(client, ev, student, 1, 1, 1)
    assert again.status_code == 200 and again.json["outcome"] == "passed"
    assert again.json["next"] == {"week": 1, "cycle_id": "w1-b"}  # replay in order
    assert again.json["progress"]["current"] == {"week": 2, "cycle_id": "w2-a", "position": 1}
    assert submit(client, ev, student, 2, "w2-b", 4).json["code"] == "cycle_locked"


def test_the_last_pass_finishes_the_pack_with_no_next_cycle(
    ev: Eduverse, client: FlaskClient, student: User
) -> None:
    pass_through(client, ev, student, "w1-a", "w1-b", "w2-a")
    last = submit(client, ev, student, 2, "w2-b", 4).json
    assert last["next"] is None and last["progress"]["finished"] is True
    assert len(last["progress"]["completed"]) == 4


def test_a_grader_failure_is_not_counted(
    ev: Eduverse, client: FlaskClient, student: User, grader: InProcessGrader
) -> None:
    grader.forced = Outcome.GRADER_ERROR
    data = submit(client, ev, student, 1, "w1-a", 1).json
    assert (data["outcome"], data["counted"], data["hints"]) == ("grader_error", False, [])
    assert data["next"] == {"week": 1, "cycle_id": "w1-a"}
    assert data["progress"]["failed_attempts"] == {}
    assert ev.analytics.growth(student).submissions == 0


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"pack_id": "nope"}, 404, "not_found"),
        ({"week": 9}, 404, "week_not_found"),
        ({"cycle": "w9-z"}, 404, "cycle_not_found"),
        ({"cycle": 5}, 404, "cycle_not_found"),
        ({"cycle": 0}, 422, "invalid_request"),
        ({"cycle": True}, 422, "invalid_request"),
        ({"track": "expert"}, 422, "invalid_request"),
        ({"code": None}, 422, "invalid_request"),
        ({"student_id": "someone"}, 422, "invalid_request"),
        ({"code": "x" * (64 * 1024 + 1)}, 400, "code_too_large"),
        ({"code": "é" * (32 * 1024 + 1)}, 400, "code_too_large"),
    ],
)
def test_a_bad_submission_is_a_clean_error(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    doc: dict[str, Any],
    change: dict[str, Any],
    status: int,
    code: str,
) -> None:
    response = call(client, ev, student, "POST", "/api/submissions", {**PASS_W1A, **change})
    assert (response.status_code, response.json["code"]) == (status, code)
    assert_conforms(doc, "/api/submissions", "post", response)


def test_code_of_exactly_64_kib_is_graded_and_a_huge_body_is_413(
    ev: Eduverse, client: FlaskClient, student: User
) -> None:
    code = "answer = 1\n" + "#" * (64 * 1024 - 12) + "\n"
    assert len(code.encode()) == 64 * 1024
    assert (
        call(client, ev, student, "POST", "/api/submissions", {**PASS_W1A, "code": code}).json[
            "outcome"
        ]
        == "passed"
    )
    huge = {**PASS_W1A, "code": "x" * 300_000}
    response = call(client, ev, student, "POST", "/api/submissions", huge)
    assert response.status_code == 413 and response.json["ok"] is False


def test_a_submission_needs_a_json_object(ev: Eduverse, client: FlaskClient, student: User) -> None:
    assert call(client, ev, student, "POST", "/api/submissions", [1]).status_code == 422
    headers = {"Authorization": f"Bearer {ev.sessions.issue(student).token}"}
    text = client.post("/api/submissions", data="answer = 1", headers=headers)
    assert text.status_code == 415


# -- running code --------------------------------------------------------------------------------
def test_run_returns_output_and_records_nothing(
    ev: Eduverse, client: FlaskClient, student: User, doc: dict[str, Any]
) -> None:
    response = call(client, ev, student, "POST", "/api/run", {"code": "print('hi')"})
    assert response.status_code == 200
    assert (response.json["outcome"], response.json["stdout"]) == ("passed", "hi\n")
    assert_conforms(doc, "/api/run", "post", response)
    broken = call(client, ev, student, "POST", "/api/run", {"code": "1/0", "locale": "ko"})
    assert broken.json["outcome"] == "error" and "ZeroDivisionError" in broken.json["message"]
    assert ev.storage.get_progress(student.id, "tiny") is None
    assert ev.analytics.growth(student).submissions == 0
    too_big = call(client, ev, student, "POST", "/api/run", {"code": "x" * (64 * 1024 + 1)})
    assert (too_big.status_code, too_big.json["code"]) == (400, "code_too_large")


# -- live code, pause, intros --------------------------------------------------------------------
def test_live_code_is_saved_for_the_instructor(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    instructor: User,
    classroom: Classroom,
    doc: dict[str, Any],
) -> None:
    ev.classes.join(student, classroom.invite_code)
    body = {"code": "answer = 41", "cycle_id": "w1-a"}
    response = call(client, ev, student, "PUT", "/api/progress/live-code", body)
    assert response.status_code == 200 and response.json["last_active"]
    assert_conforms(doc, "/api/progress/live-code", "put", response)
    watched = ev.classes.member_progress(instructor, classroom.id, student.id)
    assert (watched.live_code, watched.live_code_cycle) == ("answer = 41", "w1-a")
    unknown = call(
        client, ev, student, "PUT", "/api/progress/live-code", {"code": "", "cycle_id": "zz"}
    )
    assert (unknown.status_code, unknown.json["code"]) == (404, "cycle_not_found")
    big = call(client, ev, student, "PUT", "/api/progress/live-code", {"code": "x" * 70_000})
    assert (big.status_code, big.json["code"]) == (400, "code_too_large")


def test_pause_is_stored_by_cycle_id_and_cleared(
    ev: Eduverse, client: FlaskClient, student: User, doc: dict[str, Any]
) -> None:
    body = {"week": 1, "cycle": 1, "scene": "lecture", "track": "advanced"}
    response = call(client, ev, student, "PUT", "/api/progress/pause", body)
    assert response.status_code == 200
    pause = response.json["progress"]["pause_state"]
    assert (pause["cycle"], pause["scene"], pause["track"]) == ("w1-a", "lecture", "advanced")
    assert_conforms(doc, "/api/progress/pause", "put", response)
    cleared = call(client, ev, student, "DELETE", "/api/progress/pause")
    assert cleared.status_code == 200 and cleared.json["progress"]["pause_state"] is None
    assert_conforms(doc, "/api/progress/pause", "delete", cleared)


def test_pausing_in_a_cycle_ahead_is_403(ev: Eduverse, client: FlaskClient, student: User) -> None:
    body = {"week": 2, "cycle": "w2-b", "scene": "task"}
    response = call(client, ev, student, "PUT", "/api/progress/pause", body)
    assert (response.status_code, response.json["code"]) == (403, "cycle_locked")
    long_scene = {"week": 1, "cycle": "w1-a", "scene": "x" * 41}
    assert call(client, ev, student, "PUT", "/api/progress/pause", long_scene).status_code == 422


def test_intro_flags_are_recorded_once(
    ev: Eduverse, client: FlaskClient, student: User, doc: dict[str, Any]
) -> None:
    for _ in range(2):
        response = call(client, ev, student, "POST", "/api/progress/intro-seen", {"week": 2})
    assert response.json["progress"]["intros_seen"] == [2]
    assert_conforms(doc, "/api/progress/intro-seen", "post", response)
    missing = call(client, ev, student, "POST", "/api/progress/intro-seen", {"week": 7})
    assert (missing.status_code, missing.json["code"]) == (404, "week_not_found")
    coding = call(client, ev, student, "POST", "/api/progress/coding-intro-seen", {})
    assert coding.json["progress"]["coding_intro_seen"] is True
    assert_conforms(doc, "/api/progress/coding-intro-seen", "post", coding)


# -- my class ------------------------------------------------------------------------------------
def test_join_normalises_the_code_and_moves_between_classes(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    classroom: Classroom,
    other_classroom: Classroom,
    doc: dict[str, Any],
) -> None:
    typed = f"{classroom.invite_code[:3].lower()}-{classroom.invite_code[3:].lower()}"
    response = call(client, ev, student, "POST", "/api/classes/join", {"invite_code": typed})
    assert response.status_code == 200
    assert response.json["class"] == {
        "id": classroom.id,
        "name": classroom.name,
        "pack_id": "tiny",
    }
    assert_conforms(doc, "/api/classes/join", "post", response)
    body = {"invite_code": other_classroom.invite_code}
    call(client, ev, student, "POST", "/api/classes/join", body)
    assert ev.classes.my_class(student) == other_classroom


def test_join_with_an_unknown_or_empty_code_is_a_clean_error(
    ev: Eduverse, client: FlaskClient, student: User, doc: dict[str, Any]
) -> None:
    unknown = call(client, ev, student, "POST", "/api/classes/join", {"invite_code": "ZZZZZZ"})
    assert (unknown.status_code, unknown.json["code"]) == (404, "invite_code_not_found")
    assert_conforms(doc, "/api/classes/join", "post", unknown)
    empty = call(client, ev, student, "POST", "/api/classes/join", {"invite_code": " "})
    assert (empty.status_code, empty.json["code"]) == (400, "invalid_invite_code")


def test_leave_detaches_and_leaving_again_is_404(
    ev: Eduverse, client: FlaskClient, student: User, classroom: Classroom, doc: dict[str, Any]
) -> None:
    ev.classes.join(student, classroom.invite_code)
    left = call(client, ev, student, "POST", "/api/classes/leave")
    assert left.status_code == 200 and left.json == {"ok": True}
    assert_conforms(doc, "/api/classes/leave", "post", left)
    assert ev.classes.my_class(student) is None
    again = call(client, ev, student, "POST", "/api/classes/leave")
    assert (again.status_code, again.json["code"]) == (404, "not_in_class")


# -- questions -----------------------------------------------------------------------------------
def test_a_question_goes_to_the_askers_class(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    instructor: User,
    classroom: Classroom,
    doc: dict[str, Any],
) -> None:
    ev.classes.join(student, classroom.invite_code)
    body = {**QUESTION, "context": {**QUESTION["context"], "scene": "lecture", "excerpt": "x = 1"}}
    response = call(client, ev, student, "POST", "/api/questions", body)
    assert response.status_code == 201
    question = response.json["question"]
    assert question["class_id"] == classroom.id and question["resolved"] is False
    assert question["context"]["scene"] == "lecture"
    assert "student_id" not in question
    assert_conforms(doc, "/api/questions", "post", response)
    assert [q.id for q in ev.questions.inbox(instructor, classroom.id)] == [question["id"]]


def test_asking_without_a_class_or_with_a_bad_text_is_refused(
    ev: Eduverse, client: FlaskClient, student: User, classroom: Classroom
) -> None:
    lonely = call(client, ev, student, "POST", "/api/questions", QUESTION)
    assert (lonely.status_code, lonely.json["code"]) == (403, "not_in_class")
    ev.classes.join(student, classroom.invite_code)
    blank = call(client, ev, student, "POST", "/api/questions", {**QUESTION, "text": "  "})
    assert (blank.status_code, blank.json["code"]) == (400, "empty_question")
    too_long = {**QUESTION, "text": "?" * 4001}
    assert call(client, ev, student, "POST", "/api/questions", too_long).status_code == 422
    for context in ({"week": 0}, {"week": 1, "class_id": "x"}, {"week": 1, "scene": "s" * 41}):
        body = {**QUESTION, "context": context}
        assert call(client, ev, student, "POST", "/api/questions", body).status_code == 422


def test_my_questions_are_only_mine_newest_first(
    ev: Eduverse,
    client: FlaskClient,
    callers: dict[str, User | None],
    doc: dict[str, Any],
) -> None:
    member, outsider = callers["member"], callers["outsider"]
    assert member is not None and outsider is not None
    for text in ("first", "second"):
        call(client, ev, member, "POST", "/api/questions", {**QUESTION, "text": text})
    call(client, ev, outsider, "POST", "/api/questions", {**QUESTION, "text": "theirs"})
    response = call(client, ev, member, "GET", "/api/questions/mine")
    assert [q["text"] for q in response.json["questions"]] == ["second", "first"]
    assert_conforms(doc, "/api/questions/mine", "get", response)


def test_only_the_asker_marks_an_answer_seen(
    ev: Eduverse,
    client: FlaskClient,
    callers: dict[str, User | None],
    answered: str,
    doc: dict[str, Any],
) -> None:
    member, outsider = callers["member"], callers["outsider"]
    assert member is not None and outsider is not None
    url = f"/api/questions/{answered}/seen"
    stranger = call(client, ev, outsider, "POST", url)
    assert (stranger.status_code, stranger.json["code"]) == (404, "question_not_found")
    seen = call(client, ev, member, "POST", url)
    assert seen.status_code == 200 and seen.json["question"]["notified"] is True
    assert seen.json["question"]["answer"] == "Because."
    assert_conforms(doc, "/api/questions/{question_id}/seen", "post", seen)
    missing = call(client, ev, member, "POST", "/api/questions/nope/seen")
    assert missing.status_code == 404


def test_an_unanswered_question_cannot_be_marked_seen(
    ev: Eduverse, client: FlaskClient, callers: dict[str, User | None]
) -> None:
    member = callers["member"]
    assert member is not None
    asked = call(client, ev, member, "POST", "/api/questions", QUESTION).json["question"]
    response = call(client, ev, member, "POST", f"/api/questions/{asked['id']}/seen")
    assert (response.status_code, response.json["code"]) == (400, "not_answered")


# -- reflections and growth ----------------------------------------------------------------------
def test_a_reflection_resubmission_replaces_it(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    instructor: User,
    classroom: Classroom,
    doc: dict[str, Any],
) -> None:
    ev.classes.join(student, classroom.invite_code)
    first = {"ratings": RATINGS, "feedback": {"meaningful": "loops"}}
    response = call(client, ev, student, "PUT", "/api/reflections/1", first)
    assert response.status_code == 200
    assert response.json["reflection"]["feedback"]["meaningful"] == "loops"
    assert_conforms(doc, "/api/reflections/{week}", "put", response)
    second = {"ratings": {"w1-a": {"comprehension": 2, "application": 2}}}
    call(client, ev, student, "PUT", "/api/reflections/1", second)
    mine = call(client, ev, student, "GET", "/api/reflections/mine")
    assert_conforms(doc, "/api/reflections/mine", "get", mine)
    reflections = mine.json["reflections"]
    assert len(reflections) == 1 and reflections[0]["ratings"]["w1-a"]["comprehension"] == 2
    assert reflections[0]["feedback"]["meaningful"] == ""
    averages = ev.analytics.class_report(instructor, classroom.id).reflections
    assert [(a.cycle, a.comprehension, a.count) for a in averages] == [("w1-a", 2.0, 1)]


@pytest.mark.parametrize(
    ("url", "body", "status"),
    [
        ("/api/reflections/1", {"ratings": {"w1-a": {"comprehension": 6, "application": 1}}}, 422),
        ("/api/reflections/1", {"ratings": {"w1-a": {"comprehension": 1}}}, 422),
        ("/api/reflections/1", {"ratings": {"w2-a": {"comprehension": 1, "application": 1}}}, 400),
        ("/api/reflections/1", {"ratings": {}, "feedback": {"curious": "x" * 4001}}, 422),
        ("/api/reflections/1", {"ratings": {}, "student_id": "x"}, 422),
        ("/api/reflections/9", {"ratings": {}}, 404),
        ("/api/reflections/0", {"ratings": {}}, 404),
        ("/api/reflections/-1", {"ratings": {}}, 404),
        ("/api/reflections/1", {"ratings": {}, "pack_id": "nope"}, 404),
    ],
)
def test_a_bad_reflection_is_a_clean_error(
    ev: Eduverse, client: FlaskClient, student: User, url: str, body: Any, status: int
) -> None:
    response = call(client, ev, student, "PUT", url, body)
    assert response.status_code == status and response.json["ok"] is False


def test_growth_shows_my_submissions_and_ratings_per_week(
    ev: Eduverse, client: FlaskClient, student: User, doc: dict[str, Any]
) -> None:
    submit(client, ev, student, 1, "w1-a", 0)
    pass_through(client, ev, student, "w1-a")
    body = {"ratings": RATINGS, "feedback": {"difficult": "loops"}}
    call(client, ev, student, "PUT", "/api/reflections/1", body)
    response = call(client, ev, student, "GET", "/api/growth")
    assert response.status_code == 200
    assert_conforms(doc, "/api/growth", "get", response)
    growth = response.json["growth"]
    assert (growth["pack_id"], growth["submissions"], growth["passed"]) == ("tiny", 2, 1)
    assert growth["completed"] == 1
    week1, week2 = growth["weeks"]
    assert (week1["success_rate"], week1["comprehension"], week1["application"]) == (0.5, 4, 3)
    assert week1["feedback"]["difficult"] == "loops"
    assert (week2["submissions"], week2["success_rate"], week2["feedback"]) == (0, None, None)
    unknown = call(client, ev, student, "GET", "/api/growth?pack=nope")
    assert unknown.status_code == 404


# -- the service additions these endpoints rely on -------------------------------------------------
def test_service_learner_pack_prefers_the_given_then_the_class_pack(
    ev: Eduverse, student: User, instructor: User
) -> None:
    ev.register_pack(make_pack("second"))
    assert ev.progress.learner_pack(student).id == "tiny"
    details = ClassDetails(subject="S", year=2026, semester="1")
    classroom = ev.classes.create(instructor, details, pack_id="second")
    ev.classes.join(student, classroom.invite_code)
    assert ev.progress.learner_pack(student).id == "second"
    assert ev.progress.learner_pack(student, "tiny").id == "tiny"
    assert ev.reflections.mine(student) == [] and ev.analytics.growth(student).pack_id == "second"
    assert ev.progress.mark_coding_intro_seen(student, None).pack_id == "second"


def test_service_set_pause_stores_a_position_as_the_cycle_id(ev: Eduverse, student: User) -> None:
    progress = ev.progress.set_pause(student, None, PauseState(week=1, cycle="1", scene="task"))
    assert progress.pause_state is not None and progress.pause_state.cycle == "w1-a"


def test_service_submission_result_names_the_next_cycle(ev: Eduverse, student: User) -> None:
    failed = ev.submissions.submit(student, "tiny", 1, "w1-a", "beginner", "answer = 0")
    assert failed.next_cycle == (1, "w1-a")
    passed = ev.submissions.submit(student, "tiny", 1, "w1-a", "beginner", "answer = 1")
    assert passed.next_cycle == (1, "w1-b")
    passed = ev.submissions.submit(student, "tiny", 1, "w1-b", "beginner", "answer = 2")
    assert passed.next_cycle == (2, "w2-a")


def test_service_current_position_is_clamped_to_a_pack_that_shrank() -> None:
    pack = make_pack()
    assert (
        current_position(pack, Progress(user_id="u", pack_id="tiny", week=2, cycle=2)).cycle_id
        == "w2-b"
    )
    beyond_week = Progress(user_id="u", pack_id="tiny", week=5, cycle=1)
    assert current_position(pack, beyond_week).cycle_id == "w2-b"
    beyond_cycle = Progress(user_id="u", pack_id="tiny", week=1, cycle=9)
    assert current_position(pack, beyond_cycle).position == 2


def test_unlocked_hints_can_be_read_again_and_locked_cycles_are_refused(
    ev: Eduverse, client: FlaskClient, student: User
) -> None:
    url = "/api/hints?pack=tiny&week=1&cycle=w1-a&track=beginner&locale=en"
    assert call(client, ev, student, "GET", url).json["hints"] == []
    submit(client, ev, student, 1, "w1-a", -1)
    assert call(client, ev, student, "GET", url).json["hints"] == ["first hint"]
    submit(client, ev, student, 1, "w1-a", -1)
    assert call(client, ev, student, "GET", url).json["hints"] == ["first hint", "second hint"]
    ahead = call(client, ev, student, "GET", "/api/hints?pack=tiny&week=2&cycle=w2-a")
    assert ahead.status_code == 403 and ahead.json["code"] == "cycle_locked"
    unknown = call(client, ev, student, "GET", "/api/hints?pack=tiny&week=1&cycle=nope")
    assert unknown.status_code == 404
    assert call(client, ev, student, "GET", "/api/hints?pack=tiny").status_code == 422
