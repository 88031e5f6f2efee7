"""Every main page, both roles, desktop and phone, audited with axe-core (from npm, injected
through the browser's DevTools protocol, so the page's CSP stays as it is): no WCAG 2 A/AA
violation — colour contrast, labels, names of buttons and links, ARIA use, document language."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import LiveServer, PageFactory, api_call, api_sign_up, logged_in_page
from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: `make assets` installs the front-end packages (npm ci)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def people(live_server: LiveServer) -> Iterator[dict[str, Any]]:
    base = live_server.url
    prof = api_sign_up(base, "Prof. Audit", role="instructor")
    made = api_call(
        base,
        "POST",
        "/api/classes",
        {"subject": "Accessible Python", "year": 2026, "semester": "1"},
        prof["token"],
    )["class"]
    learner = api_sign_up(base, "Ada Audit")
    api_call(
        base, "POST", "/api/classes/join", {"invite_code": made["invite_code"]}, learner["token"]
    )
    api_call(
        base,
        "POST",
        "/api/questions",
        {
            "text": "Is this readable?",
            "context": {"week": 1, "scene": "task", "character": "alex", "excerpt": ""},
        },
        learner["token"],
    )
    yield {"prof": prof["token"], "learner": learner["token"], "class_id": made["id"]}


def audit(page: Page, axe_source: str, path: str) -> list[str]:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.locator("main#view:not([aria-busy])").wait_for()
    page.keyboard.press("Escape")  # finish typing effects: audit the final text
    page.wait_for_timeout(300)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    result = page.evaluate(
        """async () => {
          const r = await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            resultTypes: ['violations'],
          });
          return r.violations.map(v => ({id: v.id, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' — ' + n.failureSummary)}));
        }"""
    )
    return [f"{path}: {v['id']} ({v['help']}): {json.dumps(v['nodes'])}" for v in result]


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_main_page_passes_wcag_aa(
    new_page: PageFactory, axe_source: str, people: dict[str, Any], viewport: str
) -> None:
    size = VIEWPORTS[viewport]
    problems: list[str] = []
    anonymous = logged_in_page(new_page, None, viewport=size, reduced_motion="reduce")
    for path in ("/#/login", "/#/signup"):
        problems += audit(anonymous, axe_source, path)
    learner = logged_in_page(new_page, people["learner"], viewport=size, reduced_motion="reduce")
    for path in (
        "/#/learn",
        "/#/learn/week/1/intro",
        "/#/learn/week/1/cycle/1/task",
        "/#/learn/week/1/cycle/1/lecture",
        "/#/learn/week/1/cycle/1/coding",
        "/#/learn/week/1/reflection",
        "/#/growth",
        "/#/account",
    ):
        problems += audit(learner, axe_source, path)
    prof = logged_in_page(new_page, people["prof"], viewport=size, reduced_motion="reduce")
    class_page = f"/#/instructor/class/{people['class_id']}"
    for path in ("/#/instructor", class_page, f"{class_page}/questions", f"{class_page}/report"):
        problems += audit(prof, axe_source, path)
        if path == "/#/instructor":  # the class card says a question waits
            assert prof.locator('[data-unanswered="1"]').is_visible()
    assert problems == [], "\n".join(problems)
