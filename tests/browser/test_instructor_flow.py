"""The instructor's side in a real browser: classes and invite codes, the live monitor, the
questions inbox, the report and its CSV exports, deleting a class, and user-typed markup shown
as text everywhere. The learner's side is driven through the HTTP API from Python (sign-up,
join, live code, questions, submissions, reflections), as the learner's pages would call it.
"""

from __future__ import annotations

import csv
import io
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser_support import (
    LiveServer,
    PageFactory,
    api_call,
    api_request,
    api_sign_up,
    page_token,
    sign_up,
)
from playwright.sync_api import Page, Request, expect

PACK = "logicore"
WEEK1 = Path(__file__).resolve().parents[2] / "scenario_packs" / PACK / "weeks" / "01.yaml"
XSS = "<img src=x onerror=alert(1)>"
# Prints one line instead of two: graded "failed" by the real grader.
WRONG = 'print("Hello, LogiCore Tech! I am ready to code.")\n'


@pytest.fixture(scope="module")
def week1() -> dict[str, Any]:
    data = yaml.safe_load(WEEK1.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@dataclass
class Learner:
    """A learner acting through the API (their pages are not under test here)."""

    server: str
    token: str
    id: str
    name: str
    email: str

    def call(self, method: str, path: str, body: object = None) -> dict:
        return api_call(self.server, method, path, body, self.token)

    def join(self, invite_code: str) -> dict:
        return self.call("POST", "/api/classes/join", {"invite_code": invite_code})

    def live_code(self, code: str, cycle_id: str = "w01-hello-print") -> dict:
        return self.call("PUT", "/api/progress/live-code", {"code": code, "cycle_id": cycle_id})

    def submit(self, code: str, cycle: str = "w01-hello-print") -> dict:
        body = {"pack_id": PACK, "week": 1, "cycle": cycle, "track": "beginner", "code": code}
        return self.call("POST", "/api/submissions", body)


def new_learner(server: LiveServer, name: str) -> Learner:
    answer = api_sign_up(server.url, name)
    user = answer["user"]
    return Learner(server.url, answer["token"], user["id"], user["name"], user["email"])


def instructor_page(new_page: PageFactory, name: str = "Prof. Grace", **options: Any) -> Page:
    """An instructor signed up through the form, on their classes page."""
    page = new_page(locale="en-GB", **options)
    sign_up(page, name, role="instructor")
    expect(page.get_by_role("heading", name="My classes")).to_be_visible()
    return page


def api_class(server: LiveServer, page: Page, subject: str, **details: Any) -> dict:
    """Create a class through the API with the page's instructor token."""
    body = {"subject": subject, "year": 2026, "semester": "1", **details}
    token = page_token(page)
    return api_call(server.url, "POST", "/api/classes", body, token)["class"]


def row(page: Page, user_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'tr[data-student="{user_id}"]')


def assert_no_markup_in_view(page: Page) -> None:
    """User text went in as text: no element was made from it."""
    assert page.locator("#view img").count() == 0
    assert page.locator("img[src='x']").count() == 0


# -- classes --------------------------------------------------------------------------------------
def test_instructor_creates_a_class_copies_and_regenerates_its_invite_code(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    page = instructor_page(new_page, permissions=["clipboard-read", "clipboard-write"])
    token = page_token(page)
    expect(page.get_by_text("No classes yet")).to_be_visible()

    # The API's validation message is shown, and the field it names is marked.
    page.get_by_label("Subject").fill("")
    page.get_by_role("button", name="Create class").click()
    expect(page.locator("#ins-new-error")).to_contain_text("subject")
    expect(page.get_by_label("Subject")).to_have_attribute("aria-invalid", "true")

    # Keyboard only: type into the labelled fields and submit with Enter.
    page.get_by_label("Subject").fill("Python Basics")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("Semester").fill("1")
    page.get_by_label("Department").fill("Computer Science")
    page.get_by_label("Section").fill("B")
    page.get_by_label("Section").press("Enter")
    expect(page.locator("#notices")).to_contain_text("Class 2026-1 Python Basics")
    expect(page.locator("article[data-class-id]")).to_have_count(1)
    expect(page.locator("#ins-new-error")).to_be_empty()
    expect(page.get_by_label("Subject")).to_be_empty()

    [created] = api_call(live_server.url, "GET", "/api/classes", token=token)["classes"]
    assert created["details"]["department"] == "Computer Science"
    card = page.locator(f'article[data-class-id="{created["id"]}"]')
    expect(card.get_by_role("heading", name="Python Basics")).to_be_visible()
    expect(card).to_contain_text("2026, semester 1 · Computer Science · section B")
    expect(card).to_contain_text("0 students")
    code = card.locator("[data-invite]")
    expect(code).to_have_text(created["invite_code"])
    for link in ("Monitor", "Questions", "Report"):
        expect(card.get_by_role("link", name=link)).to_be_visible()

    # Copy puts the code on the clipboard.
    card.get_by_role("button", name="Copy").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#notices")).to_contain_text(f"Invite code {created['invite_code']} copied")
    assert page.evaluate("navigator.clipboard.readText()") == created["invite_code"]

    # A new code replaces the old one at once.
    card.get_by_role("button", name="New code").click()
    expect(code).not_to_have_text(created["invite_code"])
    [after] = api_call(live_server.url, "GET", "/api/classes", token=token)["classes"]
    expect(code).to_have_text(after["invite_code"])
    expect(page.locator("#notices")).to_contain_text(f"New invite code: {after['invite_code']}")

    learner = new_learner(live_server, "Lee Learner")
    status, _ = api_request(
        live_server.url,
        "POST",
        "/api/classes/join",
        {"invite_code": created["invite_code"]},
        learner.token,
    )
    assert status == 404
    assert learner.join(after["invite_code"])["class"]["id"] == created["id"]
    page.reload()
    expect(card).to_contain_text("1 student")
    card.get_by_role("link", name="Monitor").click()
    page.wait_for_url(f"**/#/instructor/class/{created['id']}")
    expect(row(page, learner.id)).to_contain_text("Lee Learner")


def test_deleting_a_class_asks_for_confirmation(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    page = instructor_page(new_page)
    keep = api_class(live_server, page, "Keep me")
    doomed = api_class(live_server, page, "Data Structures")
    learner = new_learner(live_server, "Dana Member")
    learner.join(doomed["invite_code"])
    page.reload()
    card = page.locator(f'article[data-class-id="{doomed["id"]}"]')
    delete = card.get_by_role("button", name="Delete")

    # Escape cancels: nothing is deleted and the focus returns to the button.
    delete.click()
    dialog = page.get_by_role("dialog", name="Delete this class?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("1 student(s)")
    confirm = dialog.get_by_role("button", name="Delete class")
    expect(confirm).to_be_disabled()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(delete).to_be_focused()
    expect(card).to_be_visible()

    # Cancel cancels too.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(card).to_be_visible()

    # The button only works once the subject is typed.
    delete.click()
    field = dialog.get_by_label("To confirm, type the subject")
    field.fill("Data")
    expect(confirm).to_be_disabled()
    field.fill("Data Structures")
    expect(confirm).to_be_enabled()
    confirm.click()
    expect(dialog).to_be_hidden()
    expect(card).to_have_count(0)
    expect(page.locator("#notices")).to_contain_text("deleted")
    token = page_token(page)
    left = api_call(live_server.url, "GET", "/api/classes", token=token)["classes"]
    assert [c["id"] for c in left] == [keep["id"]]
    assert learner.call("GET", "/api/me")["class"] is None


# -- monitor --------------------------------------------------------------------------------------
def test_monitor_shows_a_joining_learner_online_and_their_live_code_within_two_seconds(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    page = instructor_page(new_page)
    classroom = api_class(live_server, page, "Live Lab")
    feed = f"/api/classes/{classroom['id']}/monitor"
    polls: list[Request] = []
    statuses: list[int] = []
    page.on("request", lambda r: polls.append(r) if feed in r.url else None)
    page.on("response", lambda r: statuses.append(r.status) if feed in r.url else None)
    page.goto(f"/#/instructor/class/{classroom['id']}")
    expect(page.get_by_role("heading", name="Live Lab")).to_be_visible()
    expect(page.get_by_text("No students have joined yet.")).to_be_visible()

    learner = new_learner(live_server, "Kim Minji")
    learner.join(classroom["invite_code"])
    learner_row = row(page, learner.id)
    expect(learner_row).to_contain_text("Kim Minji", timeout=5000)
    expect(learner_row).to_contain_text("Week 1 · Cycle 1")
    # Joining is done in the app: the learner is online before their first step.
    expect(learner_row.locator('[data-field="status"]')).to_have_text("Online")
    expect(learner_row).to_have_attribute("data-online", "true")
    expect(page.locator("#ins-monitor-summary")).to_have_text("1 student · 1 online")

    learner.call("POST", "/api/progress/intro-seen", {"week": 1})  # a first step
    expect(learner_row.locator('[data-field="status"]')).to_have_text("Online")

    learner_row.get_by_role("button", name="Show the code of Kim Minji").click()
    expect(page.locator("[data-live-who]")).to_have_text("Kim Minji's editor")
    editor = page.locator("[data-live-code] .cm-content")
    expect(editor).to_be_visible()
    expect(editor).to_have_attribute("contenteditable", "false")
    expect(editor).to_have_attribute("aria-readonly", "true")
    expect(editor).to_have_attribute("tabindex", "0")

    for step in range(3):
        marker = f"typed_{step}_{time.time_ns()}"
        started = time.monotonic()
        learner.live_code(f'# step {step}\nprint("{marker}")\n')
        expect(editor).to_contain_text(marker, timeout=2000)
        elapsed = time.monotonic() - started
        assert elapsed <= 2.0, f"the live code took {elapsed:.2f} s to show"

    # A member who leaves disappears from the monitor.
    learner.call("POST", "/api/classes/leave")
    expect(learner_row).to_have_count(0, timeout=5000)
    expect(page.locator("[data-live-who]")).to_have_text("Choose a student to watch their editor.")
    expect(page.get_by_text("No students have joined yet.")).to_be_visible()

    # The feed was polled with the cursor and the ETag; unchanged answers come as 304 (the
    # next poll after the last change, at the latest).
    deadline = time.monotonic() + 5
    while 304 not in statuses and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert "since=" not in polls[0].url
    for request in polls[1:]:
        assert "since=" in request.url
        assert request.header_value("if-none-match")
    assert 304 in statuses and 200 in statuses


# -- questions ------------------------------------------------------------------------------------
def test_a_new_question_raises_an_alert_and_is_answered_in_the_inbox(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    page = instructor_page(new_page)
    classroom = api_class(live_server, page, "Questions Lab")
    learner = new_learner(live_server, "Park Jisoo")
    learner.join(classroom["invite_code"])
    page.goto(f"/#/instructor/class/{classroom['id']}")
    expect(row(page, learner.id)).to_contain_text("Park Jisoo")
    alert = page.locator("[data-question-alert]")
    expect(alert).to_be_hidden()

    context = {
        "week": 1,
        "cycle": "w01-hello-print",
        "scene": "lecture",
        "character": "sena",
        "excerpt": 'One print("...") makes one line.',
    }
    asked = learner.call(
        "POST", "/api/questions", {"text": "Why do I need quotes?", "context": context}
    )["question"]
    expect(page.locator("#notices")).to_contain_text("A student asked a new question.")
    expect(alert).to_have_text("1 unanswered question")
    expect(page.locator('[data-tab="questions"] [data-unanswered]')).to_have_attribute(
        "data-unanswered", "1"
    )

    alert.click()
    page.wait_for_url(f"**/#/instructor/class/{classroom['id']}/questions")
    card = page.locator(f'[data-question="{asked["id"]}"]')
    expect(card.get_by_role("heading", name="Park Jisoo")).to_be_visible()
    expect(card).to_have_attribute("data-state", "open")
    expect(card).to_contain_text("Why do I need quotes?")
    expect(card.locator(".ins-q-context dd")).to_have_text(
        [
            "1",
            re.compile(r".+ \(w01-hello-print\)$"),
            "Lecture",
            "Sena Choi",
            'One print("...") makes one line.',
        ]
    )

    # An empty answer is refused with the API's message.
    card.get_by_role("button", name="Send answer").click()
    expect(card.get_by_role("alert")).not_to_be_empty()

    answer = "Quotes tell Python that the words are text, not names."
    card.get_by_label("Answer").fill(answer)
    card.get_by_role("button", name="Send answer").click()
    expect(card).to_have_attribute("data-state", "answered")
    expect(card.locator(".ins-q-answer-text")).to_have_text(answer)
    expect(page.locator("#notices")).to_contain_text("Answer sent to Park Jisoo.")
    expect(page.locator('[data-tab="questions"] [data-unanswered]')).to_be_hidden()

    [mine] = learner.call("GET", "/api/questions/mine")["questions"]
    assert mine["id"] == asked["id"]
    assert mine["answer"] == answer
    assert mine["resolved"] is True

    # A question asked while the inbox is open appears on top without a reload.
    later = learner.call(
        "POST", "/api/questions", {"text": "And what about numbers?", "context": context}
    )["question"]
    new_card = page.locator(f'[data-question="{later["id"]}"]')
    expect(new_card).to_be_visible(timeout=10_000)
    first = page.locator(".ins-question-list > li").first.locator("[data-question]")
    expect(first).to_have_attribute("data-question", later["id"])
    page.get_by_label("Show").select_option("open")
    expect(page.locator("[data-question]")).to_have_count(1)


# -- report and exports ---------------------------------------------------------------------------
def test_the_report_shows_the_analytics_figures_and_the_progress_csv_downloads(
    new_page: PageFactory, live_server: LiveServer, week1: dict[str, Any]
) -> None:
    page = instructor_page(new_page)
    classroom = api_class(live_server, page, "Report Lab", section="R")
    learner = new_learner(live_server, "Choi Report")
    learner.join(classroom["invite_code"])
    idle = new_learner(live_server, "Idle Member")
    idle.join(classroom["invite_code"])

    cycle = week1["cycles"][0]
    assert learner.submit(WRONG, cycle["id"])["outcome"] == "failed"
    assert learner.submit(cycle["beginner"]["solution"], cycle["id"])["outcome"] == "passed"
    learner.call(
        "PUT",
        "/api/reflections/1",
        {
            "ratings": {cycle["id"]: {"comprehension": 4, "application": 3}},
            "feedback": {
                "meaningful": "Printing my first line",
                "difficult": "",
                "curious": "f-strings",
            },
        },
    )
    token = page_token(page)
    analytics = api_call(
        live_server.url, "GET", f"/api/classes/{classroom['id']}/analytics", token=token
    )["analytics"]
    assert (analytics["submissions"], analytics["passed"], analytics["success_rate"]) == (2, 1, 0.5)

    page.goto(f"/#/instructor/class/{classroom['id']}/report")
    expect(page.get_by_role("heading", name="Report Lab")).to_be_visible()

    def stat(name: str):  # type: ignore[no-untyped-def]
        return page.locator(f'[data-stat="{name}"]')

    expect(stat("submissions")).to_have_attribute("data-value", str(analytics["submissions"]))
    expect(stat("submissions")).to_have_text(str(analytics["submissions"]))
    expect(stat("passed")).to_have_attribute("data-value", str(analytics["passed"]))
    expect(stat("passed")).to_have_text(str(analytics["passed"]))
    expect(stat("success-rate")).to_have_attribute("data-value", str(analytics["success_rate"]))
    expect(stat("success-rate")).to_have_text("50%")
    expect(stat("students")).to_have_text(str(len(analytics["students"])))

    for week in analytics["weeks"]:
        week_row = page.locator(f'tr[data-week="{week["week"]}"]')
        for name, key in (("submissions", "submissions"), ("passed", "passed")):
            expect(week_row.locator(f'[data-field="{name}"] [data-value]')).to_have_attribute(
                "data-value", str(week[key])
            )
        rate = "" if week["success_rate"] is None else str(week["success_rate"])
        expect(week_row.locator('[data-field="success-rate"] [data-value]')).to_have_attribute(
            "data-value", rate
        )
    expect(page.locator('tr[data-week="1"] [data-field="success-rate"]')).to_have_text("50%")

    [failing] = analytics["most_failed"]
    failed_row = page.locator(f'tr[data-cycle="{failing["cycle"]}"]')
    expect(failed_row.locator('[data-field="failures"]')).to_have_text(str(failing["failures"]))
    expect(failed_row.locator('[data-field="submissions"]')).to_have_text(
        str(failing["submissions"])
    )

    for student in analytics["students"]:
        student_row = page.locator(f'tr[data-student="{student["user_id"]}"]')
        expect(student_row).to_contain_text(student["name"])
        expect(student_row.locator('[data-field="completed"]')).to_have_text(
            str(student["completed"])
        )
    [reflection] = analytics["reflections"]
    refl_row = page.locator(f'tr[data-reflection="{reflection["cycle"]}"]')
    expect(refl_row.locator('[data-field="comprehension"]')).to_have_text("4.00")
    expect(refl_row.locator('[data-field="application"]')).to_have_text("3.00")
    expect(refl_row.locator('[data-field="count"]')).to_have_text(str(reflection["count"]))
    feedback = page.locator('[data-feedback-week="1"]')
    expect(feedback.locator('[data-kind="meaningful"] li')).to_have_text(["Printing my first line"])
    expect(feedback.locator('[data-kind="curious"] li')).to_have_text(["f-strings"])
    expect(feedback.locator('[data-kind="difficult"] li')).to_have_count(0)

    # Both charts are drawn (Chart.js loaded lazily) and labelled.
    charts = page.locator(".ins-chart canvas")
    expect(charts).to_have_count(2)
    for i in range(2):
        expect(charts.nth(i)).to_have_attribute("aria-label", re.compile(r"^Bar chart: "))
    page.wait_for_function(
        "[...document.querySelectorAll('.ins-chart canvas')]"
        ".every((c) => c.style.display === 'block' && c.clientHeight > 0)"
    )

    with page.expect_download() as info:
        page.get_by_role("button", name="Download progress (CSV)").click()
    download = info.value
    assert download.suggested_filename.endswith("_progress.csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
    by_email = {r["email"]: r for r in rows}
    assert set(by_email) == {learner.email, idle.email}
    assert by_email[learner.email]["completed"] == "1"
    assert by_email[learner.email]["completed_cycles"] == cycle["id"]
    assert by_email[idle.email]["completed"] == "0"

    with page.expect_download() as info:
        page.get_by_role("button", name="Download submissions (CSV)").click()
    text = Path(info.value.path()).read_text("utf-8-sig")
    outcomes = [r["outcome"] for r in csv.DictReader(io.StringIO(text))]
    assert outcomes == ["failed", "passed"]


# -- safety and layout ----------------------------------------------------------------------------
def test_user_typed_markup_shows_as_text_on_every_page(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    page = instructor_page(new_page)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    subject = f"Py {XSS}"
    classroom = api_class(live_server, page, subject, department=XSS)
    learner = new_learner(live_server, f"Eve {XSS}")
    learner.join(classroom["invite_code"])
    learner.live_code(f"# {XSS}\nprint('hi')\n")
    question = f"What does {XSS} do?"
    context = {"week": 1, "cycle": "w01-hello-print", "scene": XSS[:40], "excerpt": XSS}
    learner.call("POST", "/api/questions", {"text": question, "context": context})
    learner.submit(WRONG)
    learner.call(
        "PUT",
        "/api/reflections/1",
        {
            "ratings": {"w01-hello-print": {"comprehension": 2, "application": 2}},
            "feedback": {"meaningful": XSS, "difficult": "", "curious": ""},
        },
    )

    page.reload()
    card = page.locator(f'article[data-class-id="{classroom["id"]}"]')
    expect(card.get_by_role("heading")).to_have_text(subject)
    expect(card).to_contain_text(XSS)
    card.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("dialog").locator(".ins-typed")).to_have_text(subject)
    assert page.locator("dialog img").count() == 0
    page.keyboard.press("Escape")
    assert_no_markup_in_view(page)

    card.get_by_role("link", name="Monitor").click()
    learner_row = row(page, learner.id)
    expect(learner_row).to_contain_text(f"Eve {XSS}")
    expect(page.locator("h1")).to_contain_text(subject)
    learner_row.get_by_role("button").click()
    expect(page.locator("[data-live-who]")).to_have_text(f"Eve {XSS}'s editor")
    expect(page.locator("[data-live-code] .cm-content")).to_contain_text(f"# {XSS}")
    assert_no_markup_in_view(page)

    page.get_by_role("link", name="Questions").first.click()
    question_card = page.locator("[data-question]")
    expect(question_card.locator(".ins-q-text")).to_have_text(question)
    expect(question_card.get_by_role("heading", name=f"Eve {XSS}")).to_be_visible()
    expect(question_card.locator(".ins-q-excerpt")).to_have_text(XSS)
    expect(question_card.locator(".ins-q-context")).to_contain_text(XSS[:40])
    assert_no_markup_in_view(page)

    page.get_by_role("link", name="Report").click()
    expect(page.locator(f'tr[data-student="{learner.id}"]')).to_contain_text(f"Eve {XSS}")
    expect(page.locator('[data-feedback-week="1"] [data-kind="meaningful"] li')).to_have_text(XSS)
    assert_no_markup_in_view(page)
    assert dialogs == []


def test_instructor_pages_fit_a_phone_and_switch_to_korean(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    page = instructor_page(new_page, viewport={"width": 375, "height": 740})
    classroom = api_class(live_server, page, "모바일 파이썬", department="컴퓨터공학과")
    learner = new_learner(live_server, "한 학생 with a rather long display name")
    learner.join(classroom["invite_code"])
    learner.submit(WRONG)
    page.locator("#locale-select").select_option("ko")
    expect(page.get_by_role("heading", name="내 수업")).to_be_visible()
    expect(page.get_by_role("button", name="수업 만들기")).to_be_visible()

    def fits() -> bool:
        return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))

    assert fits()
    for suffix, heading in (("", "모니터"), ("/questions", "질문"), ("/report", "리포트")):
        page.goto(f"/#/instructor/class/{classroom['id']}{suffix}")
        expect(page.locator("h1")).to_contain_text(heading)
        expect(page.locator("h1")).to_contain_text("모바일 파이썬")
        assert fits(), f"the page {suffix or '/'} scrolls sideways on a phone"
    # Wide tables scroll inside their own keyboard-focusable region instead.
    wrap = page.locator(".ins-table-wrap").first
    assert wrap.evaluate("(el) => el.scrollWidth > el.clientWidth")
    expect(wrap).to_have_attribute("tabindex", "0")
    expect(page.locator('[data-stat="submissions"]')).to_have_text("1")
    expect(page.locator('[data-stat="success-rate"]')).to_have_text("0%")
