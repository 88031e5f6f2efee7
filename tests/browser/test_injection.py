"""Script and HTML typed into every free-text field — names, class details, questions and their
excerpts, answers, reflections, live code — then every page that shows them, for both roles:
no payload runs (no dialog, no global set, no injected element), and each shows as text."""

from __future__ import annotations

from browser_support import LiveServer, PageFactory, api_call, api_sign_up, logged_in_page
from playwright.sync_api import Page

PAYLOADS = (
    "<img src=x onerror=window.__pwned=1>",
    "<script>window.__pwned=2</script>",
    '"><svg onload=window.__pwned=3>',
    "<a href=javascript:window.__pwned=4>link</a>",
)
MARK = " ".join(PAYLOADS)
NAME_MARK = PAYLOADS[0]  # names are at most 80 characters
INJECTED = 'img[src="x"], svg[onload], script:not([src]):not([type])'


def count_injected(page: Page) -> int:
    """Elements a payload would have created, searched through shadow roots too."""
    found: int = page.evaluate(
        """(selector) => {
          let count = 0;
          const visit = (root) => {
            count += root.querySelectorAll(selector).length;
            for (const el of root.querySelectorAll('*')) if (el.shadowRoot) visit(el.shadowRoot);
          };
          visit(document);
          return count;
        }""",
        INJECTED,
    )
    return found


def visit(page: Page, path: str, dialogs: list[str], expect_text: str | None = MARK) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.locator("main#view:not([aria-busy])").wait_for()
    page.keyboard.press("Escape")  # finish any typing effect
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None, path
    assert dialogs == [], path
    assert count_injected(page) == 0, path
    if expect_text is not None:
        shown = page.evaluate("document.body.innerText")
        assert PAYLOADS[0] in shown, f"{path}: the payload should show as text"


def test_payloads_in_every_field_show_as_text_everywhere(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    base = live_server.url
    prof = api_sign_up(base, f"Prof {NAME_MARK}", role="instructor")
    created = api_call(
        base,
        "POST",
        "/api/classes",
        {
            "subject": f"Python {PAYLOADS[0]}",
            "year": 2026,
            "semester": "1",
            "department": PAYLOADS[1],
            "section": PAYLOADS[2],
        },
        prof["token"],
    )["class"]
    learner = api_sign_up(base, f"Learner {NAME_MARK}")
    bearer = learner["token"]
    api_call(base, "POST", "/api/classes/join", {"invite_code": created["invite_code"]}, bearer)
    question = api_call(
        base,
        "POST",
        "/api/questions",
        {
            "text": f"Why? {MARK}",
            "context": {"week": 1, "scene": "task", "character": "alex", "excerpt": MARK},
        },
        bearer,
    )["question"]
    api_call(
        base,
        "POST",
        f"/api/questions/{question['id']}/answer",
        {"answer": f"Because {MARK}"},
        prof["token"],
    )
    api_call(base, "PUT", "/api/progress/live-code", {"code": f"# {MARK}\nprint(1)\n"}, bearer)
    week = api_call(base, "GET", "/api/packs/logicore/weeks/1", token=bearer)["week"]
    first_cycle = week["cycles"][0]["id"]
    api_call(
        base,
        "PUT",
        "/api/reflections/1",
        {
            "ratings": {first_cycle: {"comprehension": 3, "application": 4}},
            "feedback": {"meaningful": MARK, "difficult": MARK, "curious": MARK},
        },
        bearer,
    )

    dialogs: list[str] = []
    learner_page = logged_in_page(new_page, bearer)
    learner_page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    visit(learner_page, "/#/learn", dialogs)  # name, answered question
    visit(learner_page, "/#/growth", dialogs)  # reflection texts
    visit(learner_page, "/#/learn/week/1/reflection", dialogs, expect_text=None)
    visit(learner_page, "/#/learn/week/1/cycle/1/coding", dialogs, expect_text=None)

    instructor_page = logged_in_page(new_page, prof["token"])
    instructor_page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    class_page = f"/#/instructor/class/{created['id']}"
    visit(instructor_page, "/#/instructor", dialogs)  # class details
    visit(instructor_page, class_page, dialogs)  # member names
    instructor_page.get_by_role("button", name=f"Learner {NAME_MARK}").first.click()
    instructor_page.wait_for_timeout(2500)  # the live code arrives with the next poll
    assert instructor_page.evaluate("window.__pwned") is None
    assert count_injected(instructor_page) == 0
    visit(instructor_page, f"{class_page}/questions", dialogs)  # question, excerpt, answer
    visit(instructor_page, f"{class_page}/report", dialogs)  # reflection texts, names
