"""The instructor API over HTTP: who may call what, and what the class's instructor sees, watches,
answers and exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from test_openapi import assert_conforms
from web_support import CALLERS, auth, call, documented_matrix, matrix_statuses, row
from werkzeug.test import TestResponse

from eduverse_core import Eduverse
from eduverse_core.models import (
    ClassDetails,
    Classroom,
    Membership,
    Rating,
    ReflectionFeedback,
    SceneContext,
    User,
    utcnow,
)
from webapp.api import api
from webapp.instructor import csv_cell

NEW_CLASS = {"subject": "Data", "year": 2026, "semester": "2", "section": "B"}


# -- the world every authorization test runs in --------------------------------------------------
@pytest.fixture
def question_id(ev: Eduverse, callers: dict[str, User | None]) -> str:
    """The id of an unanswered question the member asked in ``classroom``."""
    member = callers["member"]
    assert member is not None
    return ev.questions.ask(member, "Why?", SceneContext(week=1, cycle="w1-a")).id


OWNER = row(401, 403, 403, 200, 403)
MATRIX: list[tuple[str, str, Any, dict[str, int]]] = [
    ("POST", "/api/classes", NEW_CLASS, row(401, 403, 403, 201, 201)),
    ("GET", "/api/classes", None, row(401, 403, 403, 200, 200)),
    ("GET", "/api/classes/{class_id}", None, OWNER),
    ("DELETE", "/api/classes/{class_id}", None, OWNER),
    ("POST", "/api/classes/{class_id}/invite-code", None, OWNER),
    ("GET", "/api/classes/{class_id}/members", None, OWNER),
    ("GET", "/api/classes/{class_id}/members/{user_id}/live-code", None, OWNER),
    ("POST", "/api/classes/{class_id}/members/{user_id}/password-reset", None, OWNER),
    ("GET", "/api/classes/{class_id}/monitor", None, OWNER),
    ("GET", "/api/classes/{class_id}/questions", None, OWNER),
    ("POST", "/api/questions/{question_id}/answer", {"answer": "Because."}, OWNER),
    ("GET", "/api/classes/{class_id}/analytics", None, OWNER),
    ("GET", "/api/classes/{class_id}/export/progress.csv", None, OWNER),
    ("GET", "/api/classes/{class_id}/export/submissions.csv", None, OWNER),
]


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
    question_id: str,
    method: str,
    template: str,
    body: Any,
    expected: dict[str, int],
) -> None:
    member = callers["member"]
    assert member is not None
    url = template.format(class_id=classroom.id, user_id=member.id, question_id=question_id)
    # The class's instructor goes last: their DELETE must not turn the others' 403 into 404.
    order = (*(c for c in CALLERS if c != "instructor"), "instructor")
    assert matrix_statuses(client, ev, callers, method, url, body, order) == expected


def test_denials_say_why(
    ev: Eduverse, client: FlaskClient, callers: dict[str, User | None], classroom: Classroom
) -> None:
    url = f"/api/classes/{classroom.id}"
    codes = {
        caller: call(client, ev, callers[caller], "GET", url).json["code"]
        for caller in ("anonymous", "member", "other_instructor")
    }
    assert codes == {
        "anonymous": "not_authenticated",
        "member": "instructor_only",
        "other_instructor": "not_class_instructor",
    }


def test_the_documented_matrix_is_the_tested_one() -> None:
    tested = {(m, t): expected for m, t, _, expected in MATRIX}
    assert documented_matrix("Instructor API") == tested


def test_every_instructor_endpoint_is_in_the_matrix() -> None:
    mine = {(op.method, op.openapi_path) for op in api.operations if op.tags == ("instructor",)}
    assert mine == {(m, t) for m, t, _, _ in MATRIX}


# -- helpers -------------------------------------------------------------------------------------
@pytest.fixture
def doc(client: FlaskClient) -> dict[str, Any]:
    document = client.get("/api/openapi.json").json
    assert isinstance(document, dict)
    return document


def get(client: FlaskClient, ev: Eduverse, user: User, url: str, **headers: str) -> TestResponse:
    return client.get(url, headers={**auth(ev, user), **headers})


def spy(monkeypatch: pytest.MonkeyPatch, ev: Eduverse, method: str) -> list[dict[str, Any]]:
    """Record the keyword arguments of each call of a storage method."""
    calls: list[dict[str, Any]] = []
    original = getattr(ev.storage, method)

    def recording(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(ev.storage, method, recording)
    return calls


def active(ev: Eduverse, user_id: str, moment: datetime, code: str = "") -> None:
    """Progress whose last activity was at ``moment``."""
    ev.storage.update_progress(
        user_id, "tiny", lambda p: p.model_copy(update={"last_active": moment, "live_code": code})
    )


def csv_rows(response: TestResponse) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # the byte-order mark Excel needs for UTF-8
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


# -- classes -------------------------------------------------------------------------------------
def test_create_class_returns_it_with_a_fresh_invite_code_and_no_members(
    ev: Eduverse, client: FlaskClient, instructor: User, doc: dict[str, Any]
) -> None:
    response = call(client, ev, instructor, "POST", "/api/classes", NEW_CLASS)
    assert response.status_code == 201
    assert_conforms(doc, "/api/classes", "post", response)
    created = response.json["class"]
    assert created["name"] == "2026-2 Data (B)"
    assert created["details"] == {**NEW_CLASS, "department": ""}
    assert created["pack_id"] == "tiny" and created["member_count"] == 0
    assert re.fullmatch(r"[A-Z2-9]{6}", created["invite_code"])
    assert ev.classes.get(instructor, created["id"]).instructor_id == instructor.id


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"subject": None}, "subject"),
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 121}, "subject"),
        ({"year": 1999}, "year"),
        ({"year": "soon"}, "year"),
        ({"semester": ""}, "semester"),
        ({"department": "x" * 121}, "department"),
        ({"pack_id": "p" * 101}, "pack_id"),
        ({"instructor_id": "someone-else"}, "instructor_id"),
    ],
)
def test_create_class_with_bad_details_is_422_naming_the_field(
    ev: Eduverse, client: FlaskClient, instructor: User, change: dict[str, Any], named: str
) -> None:
    body = {k: v for k, v in {**NEW_CLASS, **change}.items() if v is not None}
    response = call(client, ev, instructor, "POST", "/api/classes", body)
    assert response.status_code == 422 and response.json["ok"] is False
    assert named in response.json["error"]
    assert ev.classes.list_mine(instructor) == []


def test_create_class_with_an_unknown_pack_is_404(
    ev: Eduverse, client: FlaskClient, instructor: User
) -> None:
    body = {**NEW_CLASS, "pack_id": "nope"}
    response = call(client, ev, instructor, "POST", "/api/classes", body)
    assert response.status_code == 404 and "nope" in response.json["error"]


def test_my_classes_are_only_mine_with_their_member_counts(
    ev: Eduverse,
    client: FlaskClient,
    callers: dict[str, User | None],
    instructor: User,
    classroom: Classroom,
    other_classroom: Classroom,
    doc: dict[str, Any],
) -> None:
    second = ev.classes.create(instructor, ClassDetails(subject="Y", year=2026, semester="2"))
    response = get(client, ev, instructor, "/api/classes")
    assert_conforms(doc, "/api/classes", "get", response)
    listed = [(c["id"], c["member_count"]) for c in response.json["classes"]]
    assert listed == [(classroom.id, 1), (second.id, 0)]


def test_my_classes_show_how_many_questions_wait(
    ev: Eduverse, client: FlaskClient, student: User, instructor: User, classroom: Classroom
) -> None:
    ev.classes.join(student, classroom.invite_code)
    first = ev.questions.ask(student, "Why?", SceneContext(week=1))
    ev.questions.ask(student, "And how?", SceneContext(week=1))
    ev.questions.answer(instructor, first.id, "Because.")
    (listed,) = get(client, ev, instructor, "/api/classes").json["classes"]
    assert listed["unanswered_questions"] == 1


def joined_earlier(ev: Eduverse, user: User, classroom: Classroom) -> None:
    """A member since an hour ago (joining counts as activity for a while: see is_online)."""
    moment = utcnow() - timedelta(hours=1)
    ev.storage.join_classroom(Membership(class_id=classroom.id, user_id=user.id, joined_at=moment))


def test_class_detail_shows_members_with_progress_and_never_a_password(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    other_student: User,
    instructor: User,
    classroom: Classroom,
    doc: dict[str, Any],
) -> None:
    ev.classes.join(student, classroom.invite_code)
    joined_earlier(ev, other_student, classroom)
    ev.submissions.submit(student, "tiny", 1, "w1-a", "beginner", "answer = 1")
    response = get(client, ev, instructor, f"/api/classes/{classroom.id}")
    assert response.status_code == 200
    assert_conforms(doc, "/api/classes/{class_id}", "get", response)
    assert response.json["class"]["member_count"] == 2
    members = {m["id"]: m for m in response.json["members"]}
    mine = members[student.id]
    assert (mine["name"], mine["email"]) == ("Stu Dent", "student@example.org")
    assert (mine["week"], mine["cycle"], mine["completed"], mine["online"]) == (1, 2, 1, True)
    fresh = members[other_student.id]
    assert (fresh["week"], fresh["cycle"], fresh["completed"]) == (1, 1, 0)
    assert fresh["online"] is False and fresh["last_active"] is None
    text = response.get_data(as_text=True)
    assert "scrypt" not in text and "password" not in text and "token_version" not in text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        (m, t)
        for m, t, _, _ in MATRIX
        if t.startswith("/api/classes/{class_id}") and "{user_id}" not in t
    ],
)
def test_an_unknown_class_is_404_for_its_instructor_endpoints(
    ev: Eduverse, client: FlaskClient, instructor: User, method: str, path: str
) -> None:
    response = call(client, ev, instructor, method, path.format(class_id="missing"))
    assert response.status_code == 404 and response.json["code"] == "class_not_found"


def test_deleting_a_class_detaches_its_members(
    ev: Eduverse, client: FlaskClient, student: User, instructor: User, classroom: Classroom
) -> None:
    ev.classes.join(student, classroom.invite_code)
    response = call(client, ev, instructor, "DELETE", f"/api/classes/{classroom.id}")
    assert response.status_code == 200 and response.json == {"ok": True}
    assert ev.classes.my_class(student) is None
    assert get(client, ev, student, "/api/me").json["class"] is None
    assert get(client, ev, instructor, f"/api/classes/{classroom.id}").status_code == 404


def test_denied_changes_change_nothing(
    ev: Eduverse,
    client: FlaskClient,
    callers: dict[str, User | None],
    instructor: User,
    classroom: Classroom,
    question_id: str,
) -> None:
    intruders = [callers[c] for c in ("member", "outsider", "other_instructor")]
    for user in intruders:
        call(client, ev, user, "DELETE", f"/api/classes/{classroom.id}")
        call(client, ev, user, "POST", f"/api/classes/{classroom.id}/invite-code")
        call(client, ev, user, "POST", f"/api/questions/{question_id}/answer", {"answer": "No"})
    assert ev.classes.get(instructor, classroom.id) == classroom
    assert ev.questions.inbox(instructor, classroom.id)[0].answer is None


def test_a_new_invite_code_replaces_the_old_one(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    instructor: User,
    classroom: Classroom,
    doc: dict[str, Any],
) -> None:
    url = f"/api/classes/{classroom.id}/invite-code"
    response = call(client, ev, instructor, "POST", url)
    assert_conforms(doc, "/api/classes/{class_id}/invite-code", "post", response)
    code = response.json["invite_code"]
    assert response.json["class_id"] == classroom.id and code != classroom.invite_code
    joined = call(client, ev, student, "POST", "/api/classes/join", {"invite_code": code})
    assert joined.status_code == 200
    old = {"invite_code": classroom.invite_code}
    assert call(client, ev, student, "POST", "/api/classes/join", old).status_code == 404


# -- watching learners ---------------------------------------------------------------------------
def test_members_show_progress_and_who_is_online(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    other_student: User,
    instructor: User,
    classroom: Classroom,
    doc: dict[str, Any],
) -> None:
    ev.classes.join(student, classroom.invite_code)
    joined_earlier(ev, other_student, classroom)
    active(ev, other_student.id, utcnow() - timedelta(minutes=6))  # just gone offline
    ev.progress.save_live_code(student, "tiny", "answer = 1", "w1-a")
    response = get(client, ev, instructor, f"/api/classes/{classroom.id}/members")
    assert_conforms(doc, "/api/classes/{class_id}/members", "get", response)
    online = {m["id"]: m["online"] for m in response.json["members"]}
    assert online == {student.id: True, other_student.id: False}


def test_live_code_shows_the_members_latest_editor_text(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    instructor: User,
    classroom: Classroom,
    doc: dict[str, Any],
) -> None:
    ev.classes.join(student, classroom.invite_code)
    ev.progress.save_live_code(student, "tiny", "answer = 0\n", "w1-a")
    ev.progress.save_live_code(student, "tiny", "answer = 1\n", "w1-a")
    url = f"/api/classes/{classroom.id}/members/{student.id}/live-code"
    response = get(client, ev, instructor, url)
    assert_conforms(doc, "/api/classes/{class_id}/members/{user_id}/live-code", "get", response)
    data = response.json
    assert (data["user_id"], data["code"], data["cycle"]) == (student.id, "answer = 1\n", "w1-a")
    assert data["online"] is True and data["last_active"] is not None


def test_live_code_of_someone_not_in_the_class_is_404(
    ev: Eduverse,
    client: FlaskClient,
    callers: dict[str, User | None],
    instructor: User,
    classroom: Classroom,
) -> None:
    outsider = callers["outsider"]
    assert outsider is not None
    for user_id in (outsider.id, instructor.id, "nobody"):
        url = f"/api/classes/{classroom.id}/members/{user_id}/live-code"
        response = get(client, ev, instructor, url)
        assert response.status_code == 404 and response.json["code"] == "not_a_member"


# -- the monitor feed ----------------------------------------------------------------------------
def monitor_url(classroom: Classroom, since: str | None = None) -> str:
    url = f"/api/classes/{classroom.id}/monitor"
    return f"{url}?since={since}" if since is not None else url


def test_monitor_first_poll_shows_every_member_under_a_strong_etag(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    other_student: User,
    instructor: User,
    classroom: Classroom,
    doc: dict[str, Any],
) -> None:
    ev.classes.join(student, classroom.invite_code)
    ev.classes.join(other_student, classroom.invite_code)
    ev.progress.save_live_code(student, "tiny", "answer = 1", "w1-a")
    asked = ev.questions.ask(student, "Why?", SceneContext(week=1))
    response = get(client, ev, instructor, monitor_url(classroom))
    assert response.status_code == 200
    assert_conforms(doc, "/api/classes/{class_id}/monitor", "get", response)
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "no-cache" in response.headers["Cache-Control"]
    feed = response.json
    assert feed["members"] == [student.id, other_student.id]
    assert feed["online"] == [student.id, other_student.id]  # both were in the app just now
    changed = {m["id"]: m for m in feed["changed"]}
    assert set(changed) == {student.id, other_student.id}
    assert (changed[student.id]["live_code"], changed[student.id]["live_code_cycle"]) == (
        "answer = 1",
        "w1-a",
    )
    assert feed["unanswered_questions"] == 1
    assert datetime.fromisoformat(feed["newest_question_at"]) == asked.created_at


def test_monitor_poll_with_the_same_etag_is_304_without_a_body(
    ev: Eduverse, client: FlaskClient, student: User, instructor: User, classroom: Classroom
) -> None:
    ev.classes.join(student, classroom.invite_code)
    first = get(client, ev, instructor, monitor_url(classroom))
    url = monitor_url(classroom, first.json["cursor"])
    second = get(client, ev, instructor, url)
    again = get(client, ev, instructor, url, **{"If-None-Match": second.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == second.headers["ETag"]


def test_monitor_answers_in_full_again_once_something_changes(
    ev: Eduverse, client: FlaskClient, student: User, instructor: User, classroom: Classroom
) -> None:
    ev.classes.join(student, classroom.invite_code)
    first = get(client, ev, instructor, monitor_url(classroom))
    cursor, etag = first.json["cursor"], first.headers["ETag"]
    ev.progress.save_live_code(student, "tiny", "answer = 3", "w1-a")
    typed = get(client, ev, instructor, monitor_url(classroom, cursor), **{"If-None-Match": etag})
    assert typed.status_code == 200 and typed.headers["ETag"] != etag
    assert [m["live_code"] for m in typed.json["changed"]] == ["answer = 3"]
    assert typed.json["cursor"] != cursor
    etag = typed.headers["ETag"]
    ev.questions.ask(student, "Stuck?", SceneContext(week=1))
    asked = get(client, ev, instructor, monitor_url(classroom, cursor), **{"If-None-Match": etag})
    assert asked.status_code == 200 and asked.json["unanswered_questions"] == 1


def test_monitor_with_a_cursor_lists_only_members_changed_since(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    other_student: User,
    instructor: User,
    classroom: Classroom,
) -> None:
    start = utcnow() - timedelta(hours=1)
    for n, user in enumerate((student, other_student)):
        joined_at = start + timedelta(seconds=n)
        ev.storage.join_classroom(
            Membership(class_id=classroom.id, user_id=user.id, joined_at=joined_at)
        )
        active(ev, user.id, start + timedelta(minutes=n))
    cursor = get(client, ev, instructor, monitor_url(classroom)).json["cursor"]
    ev.progress.save_live_code(student, "tiny", "answer = 1", "w1-a")
    feed = get(client, ev, instructor, monitor_url(classroom, cursor)).json
    # other_student changed last before the cursor: within its short look-back, so repeated.
    assert [m["id"] for m in feed["changed"]] == [student.id, other_student.id]
    later = get(client, ev, instructor, monitor_url(classroom, feed["cursor"])).json
    assert [m["id"] for m in later["changed"]] == [student.id]
    assert later["members"] == [student.id, other_student.id]


@pytest.mark.parametrize(
    ("query", "status"), [("since=garbage!", 400), ("since=", 400), ("until=x", 422)]
)
def test_monitor_rejects_a_cursor_it_did_not_make(
    ev: Eduverse,
    client: FlaskClient,
    instructor: User,
    classroom: Classroom,
    query: str,
    status: int,
) -> None:
    response = get(client, ev, instructor, f"/api/classes/{classroom.id}/monitor?{query}")
    assert response.status_code == status and response.json["ok"] is False


def test_a_monitor_poll_of_sixty_learners_reads_their_progress_in_one_query(
    ev: Eduverse,
    client: FlaskClient,
    instructor: User,
    classroom: Classroom,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n in range(60):
        ev.storage.join_classroom(Membership(class_id=classroom.id, user_id=f"learner-{n}"))
        active(ev, f"learner-{n}", utcnow(), code=f"answer = {n}")
    reads = {name: spy(monkeypatch, ev, name) for name in ("list_progress", "get_progress")}
    accounts = spy(monkeypatch, ev, "get_user")
    response = get(client, ev, instructor, monitor_url(classroom))
    assert len(response.json["changed"]) == 60 and len(response.json["online"]) == 60
    assert len(reads["list_progress"]) == 1 and reads["get_progress"] == []
    assert len(accounts) == 1  # the caller's token, not the learners


# -- questions -----------------------------------------------------------------------------------
def test_inbox_lists_the_class_questions_newest_first_and_filters_unanswered(
    ev: Eduverse,
    client: FlaskClient,
    callers: dict[str, User | None],
    instructor: User,
    classroom: Classroom,
    question_id: str,
    doc: dict[str, Any],
) -> None:
    member = callers["member"]
    assert member is not None
    later = ev.questions.ask(member, "How?", SceneContext(week=1)).id
    ev.questions.answer(instructor, question_id, "Because.")
    url = f"/api/classes/{classroom.id}/questions"
    everything = get(client, ev, instructor, url)
    assert_conforms(doc, "/api/classes/{class_id}/questions", "get", everything)
    assert [q["id"] for q in everything.json["questions"]] == [later, question_id]
    assert everything.json["questions"][0]["student_id"] == member.id
    open_ = get(client, ev, instructor, f"{url}?unresolved=true").json["questions"]
    assert [q["id"] for q in open_] == [later]
    assert get(client, ev, instructor, f"{url}?unresolved=perhaps").status_code == 422


def test_answering_resolves_the_question_for_the_student(
    ev: Eduverse,
    client: FlaskClient,
    callers: dict[str, User | None],
    instructor: User,
    question_id: str,
    doc: dict[str, Any],
) -> None:
    url = f"/api/questions/{question_id}/answer"
    response = call(client, ev, instructor, "POST", url, {"answer": "  Use a loop.  "})
    assert_conforms(doc, "/api/questions/{question_id}/answer", "post", response)
    question = response.json["question"]
    assert (question["answer"], question["resolved"], question["answered_by"]) == (
        "Use a loop.",
        True,
        instructor.id,
    )
    member = callers["member"]
    assert member is not None
    assert ev.questions.mine(member)[0].answer == "Use a loop."


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"answer": "   "}, 400),
        ({"answer": "x" * 8001}, 422),
        ({}, 422),
        ({"answer": "ok", "answered_by": "someone"}, 422),
    ],
)
def test_a_bad_answer_is_refused(
    ev: Eduverse,
    client: FlaskClient,
    callers: dict[str, User | None],
    instructor: User,
    question_id: str,
    body: dict[str, Any],
    status: int,
) -> None:
    url = f"/api/questions/{question_id}/answer"
    assert call(client, ev, instructor, "POST", url, body).status_code == status


def test_answering_an_unknown_question_is_404(
    ev: Eduverse, client: FlaskClient, instructor: User
) -> None:
    response = call(client, ev, instructor, "POST", "/api/questions/nope/answer", {"answer": "x"})
    assert response.status_code == 404 and response.json["code"] == "question_not_found"


# -- analytics and exports -----------------------------------------------------------------------
def test_analytics_report_rates_failures_progress_and_reflections(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    instructor: User,
    classroom: Classroom,
    doc: dict[str, Any],
) -> None:
    ev.classes.join(student, classroom.invite_code)
    for code in ("answer = 1", "answer = 0", "answer = 2"):
        cycle = "w1-a" if code == "answer = 1" else "w1-b"
        ev.submissions.submit(student, "tiny", 1, cycle, "beginner", code)
    ratings = {"w1-a": Rating(comprehension=4, application=3)}
    ev.reflections.submit(student, "tiny", 1, ratings, ReflectionFeedback(meaningful="loops"))
    response = get(client, ev, instructor, f"/api/classes/{classroom.id}/analytics")
    assert_conforms(doc, "/api/classes/{class_id}/analytics", "get", response)
    report = response.json["analytics"]
    assert (report["submissions"], report["passed"], report["success_rate"]) == (3, 2, 0.6667)
    assert [(w["week"], w["submissions"]) for w in report["weeks"]] == [(1, 3), (2, 0)]
    assert [(c["cycle"], c["failures"]) for c in report["most_failed"]] == [("w1-b", 1)]
    assert [(s["user_id"], s["completed"]) for s in report["students"]] == [(student.id, 2)]
    assert report["reflections"] == [
        {"week": 1, "cycle": "w1-a", "comprehension": 4.0, "application": 3.0, "count": 1}
    ]
    assert report["feedback"] == [
        {"week": 1, "meaningful": ["loops"], "difficult": [], "curious": []}
    ]


def test_progress_export_is_a_csv_attachment_of_every_member(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    other_student: User,
    instructor: User,
    classroom: Classroom,
    doc: dict[str, Any],
) -> None:
    ev.classes.join(student, classroom.invite_code)
    ev.classes.join(other_student, classroom.invite_code)
    ev.submissions.submit(student, "tiny", 1, "w1-a", "beginner", "answer = 1")
    response = get(client, ev, instructor, f"/api/classes/{classroom.id}/export/progress.csv")
    assert response.status_code == 200
    path = "/api/classes/{class_id}/export/progress.csv"
    assert response.mimetype in doc["paths"][path]["get"]["responses"]["200"]["content"]
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=2026-1_Python_A_progress.csv"
    )
    header, *rows = csv_rows(response)
    assert header[:3] == ["student_id", "name", "email"]
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert by_id[student.id]["completed"] == "1" and by_id[student.id]["cycle"] == "2"
    assert by_id[student.id]["completed_cycles"] == "w1-a"
    assert by_id[other_student.id]["last_active"] == ""


@pytest.mark.parametrize("name", ["=1+1", "+1+1", "-1+1", "@SUM(A1)", '=HYPERLINK("x")'])
def test_exports_neutralise_cells_a_spreadsheet_would_evaluate(
    ev: Eduverse, client: FlaskClient, instructor: User, classroom: Classroom, name: str
) -> None:
    learner = ev.accounts.create_user("sneaky@example.org", name, "long enough password")
    ev.classes.join(learner, classroom.invite_code)
    ev.submissions.submit(learner, "tiny", 1, "w1-a", "beginner", "-1\nanswer = 1")
    base = f"/api/classes/{classroom.id}/export"
    _, progress = csv_rows(get(client, ev, instructor, f"{base}/progress.csv"))
    assert progress[1] == "'" + name
    header, submission = csv_rows(get(client, ev, instructor, f"{base}/submissions.csv"))
    cells = dict(zip(header, submission, strict=True))
    assert cells["name"] == "'" + name and cells["code"] == "'-1\nanswer = 1"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("plain", "plain"),
        ("a=1", "a=1"),
        ("", ""),
        (-1, -1),
        (None, None),
    ],
)
def test_csv_cell_quotes_only_text_a_spreadsheet_would_evaluate(
    value: object, written: object
) -> None:
    assert csv_cell(value) == written


def test_submissions_export_streams_the_logs_page_by_page(
    ev: Eduverse,
    client: FlaskClient,
    student: User,
    instructor: User,
    classroom: Classroom,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ev.classes.join(student, classroom.invite_code)
    for n in range(5):
        ev.submissions.submit(student, "tiny", 1, "w1-a", "beginner", f"answer = {n - 3}")
    monkeypatch.setattr("eduverse_core.services.classes.EXPORT_PAGE_SIZE", 2)
    pages = spy(monkeypatch, ev, "list_submissions")
    response = get(client, ev, instructor, f"/api/classes/{classroom.id}/export/submissions.csv")
    assert response.is_streamed
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=2026-1_Python_A_submissions.csv"
    )
    header, *rows = csv_rows(response)
    cells = [dict(zip(header, r, strict=True)) for r in rows]
    assert [c["code"] for c in cells] == [f"answer = {n - 3}" for n in range(5)]
    assert [c["outcome"] for c in cells] == ["failed"] * 4 + ["passed"]
    assert {(c["name"], c["email"]) for c in cells} == {("Stu Dent", "student@example.org")}
    assert [(p["limit"], p["class_id"]) for p in pages] == [(2, classroom.id)] * 3
    assert pages[0]["after"] is None and pages[1]["after"] == rows[1][1]


def test_error_responses_match_the_document(
    ev: Eduverse,
    client: FlaskClient,
    callers: dict[str, User | None],
    instructor: User,
    classroom: Classroom,
    doc: dict[str, Any],
) -> None:
    member = callers["member"]
    assert member is not None
    cases = [
        ("/api/classes/{class_id}", "get", get(client, ev, member, f"/api/classes/{classroom.id}")),
        ("/api/classes/{class_id}/monitor", "get", client.get(monitor_url(classroom))),
        (
            "/api/classes/{class_id}/analytics",
            "get",
            get(client, ev, instructor, "/api/classes/missing/analytics"),
        ),
        (
            "/api/classes",
            "post",
            call(client, ev, instructor, "POST", "/api/classes", {"subject": "X"}),
        ),
    ]
    for path, method, response in cases:
        assert response.status_code >= 400
        assert_conforms(doc, path, method, response)
