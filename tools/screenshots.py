"""`make screenshots`: PNGs of every main page, desktop and phone, into docs/screenshots/.

Serves the real app (bundled course, sandbox grader, SQLite in a temp folder) on 127.0.0.1,
seeds a class with a learner part-way through week 1 (passed cycles, a question with its
answer, a reflection, live code), and photographs each page in Debian's Chromium.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from eduverse_core import Eduverse, Settings
from webapp import create_app

from chromium import launch  # tools/chromium.py, beside this script

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
PASSWORD = "screenshot password"
WRONG_ANSWER = "print('Hello')\n"


class Seed:
    """The story the screenshots tell, written through the HTTP API like a real class."""

    def __init__(self, base: str, ev: Eduverse) -> None:
        self.base, self.ev = base, ev
        self.prof = self.sign_up("prof@logicore.example", "Prof. Kim", "instructor")
        made = self.call(
            "POST",
            "/api/classes",
            self.prof,
            {
                "subject": "Python Basics",
                "year": 2026,
                "semester": "2",
                "department": "Computer Science",
                "section": "A",
            },
        )["class"]
        self.class_id = made["id"]
        self.learner = self.sign_up("mina@student.example", "Mina Park", "student")
        self.call("POST", "/api/classes/join", self.learner, {"invite_code": made["invite_code"]})
        for name in ("Joon Lee", "Sora Choi"):
            other = self.sign_up(f"{name.split()[0].lower()}@student.example", name, "student")
            self.call("POST", "/api/classes/join", other, {"invite_code": made["invite_code"]})
            self.submit(other, 1, 1, self.solution(1, 1))
        for position in (1, 2):
            self.submit(self.learner, 1, position, WRONG_ANSWER)
            self.submit(self.learner, 1, position, self.solution(1, position))
        question = self.call(
            "POST",
            "/api/questions",
            self.learner,
            {
                "text": "Why does print() add a new line at the end?",
                "context": {
                    "week": 1,
                    "cycle": "",
                    "scene": "lecture",
                    "character": "prof-kim",
                    "excerpt": "print() writes its arguments to the terminal",
                },
            },
        )["question"]
        self.call(
            "POST",
            f"/api/questions/{question['id']}/answer",
            self.prof,
            {
                "answer": "print ends with end='\\n' by default; pass end='' to stay on the line.",
            },
        )
        self.call("POST", f"/api/questions/{question['id']}/seen", self.learner, {})
        self.call(
            "POST",
            "/api/questions",
            self.learner,
            {
                "text": "Can a variable name start with a number?",
                "context": {"week": 1, "scene": "coding", "character": "sena", "excerpt": ""},
            },
        )
        self.call(
            "PUT",
            "/api/progress/live-code",
            self.learner,
            {
                "code": "name = 'LogiCore'\nprint(f'Welcome to {name}!')\n",
            },
        )

    def call(self, method: str, path: str, token: str | None, body: Any = None) -> Any:
        request = urllib.request.Request(self.base + path, method=method)
        if body is not None:
            request.data = json.dumps(body).encode()
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def sign_up(self, email: str, name: str, role: str) -> str:
        body = {"email": email, "name": name, "password": PASSWORD, "role": role}
        return str(self.call("POST", "/api/auth/signup", None, body)["token"])

    def solution(self, week: int, position: int) -> str:
        track = self.ev.pack("logicore").weeks[week - 1].cycles[position - 1].track("beginner")
        assert track is not None and track.solution is not None
        return track.solution

    def submit(self, token: str, week: int, position: int, code: str) -> None:
        self.call(
            "POST",
            "/api/submissions",
            token,
            {
                "pack_id": "logicore",
                "week": week,
                "cycle": position,
                "track": "beginner",
                "code": code,
                "locale": "en",
            },
        )


def settle(page: Page) -> None:
    """Wait until the view is drawn and typing effects are done (skipped with Escape)."""
    page.wait_for_load_state("networkidle")
    page.locator("main#view:not([aria-busy])").wait_for()
    page.keyboard.press("Escape")
    page.wait_for_timeout(400)


def shoot(
    browser: Browser,
    base: str,
    token: str | None,
    shots: list[tuple[str, str, Callable[[Page], None] | None]],
    *,
    language: str = "en",
    viewports: tuple[str, ...] = tuple(VIEWPORTS),
) -> int:
    count = 0
    suffix = "" if language == "en" else f"-{language}"
    for viewport_name in viewports:
        viewport = VIEWPORTS[viewport_name]
        context = browser.new_context(
            base_url=base,
            viewport=viewport,
            locale="ko-KR" if language == "ko" else "en-GB",
            device_scale_factor=1,
            is_mobile=viewport_name == "phone",
            has_touch=viewport_name == "phone",
            reduced_motion="reduce",
            service_workers="block",
        )
        script = f"localStorage.setItem('eduverse.locale', '{language}');"
        if token:
            script += f"localStorage.setItem('eduverse.token', {json.dumps(token)});"
        context.add_init_script(script)
        page = context.new_page()
        for name, path, action in shots:
            page.goto(path)
            settle(page)
            if action is not None:
                action(page)
                settle(page)
            page.screenshot(path=str(OUT / f"{name}-{viewport_name}{suffix}.png"))
            count += 1
        context.close()
    return count


def submit_wrong_answer(page: Page) -> None:
    editor = page.locator(".cm-content[contenteditable='true']").first
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(WRONG_ANSWER)
    page.get_by_role("button", name="Submit").first.click()
    page.wait_for_url("**/feedback")


def open_first_student(page: Page) -> None:
    page.get_by_role("button", name="Mina Park").first.click()
    page.wait_for_timeout(2500)  # the next monitor poll brings the live code


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            storage=f"sqlite:///{Path(tmp) / 'shots.db'}",
            secret_key="screenshots-secret-key-0123456789abcdef",
            allow_instructor_signup=True,
            load_entry_points=False,
        )
        ev = Eduverse(settings)
        server = make_server("127.0.0.1", 0, create_app(eduverse=ev), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            seed = Seed(base, ev)
            class_page = f"/#/instructor/class/{seed.class_id}"
            with sync_playwright() as playwright:
                browser = launch(playwright)
                total = shoot(
                    browser,
                    base,
                    None,
                    [
                        ("login", "/#/login", None),
                        ("signup", "/#/signup", None),
                    ],
                )
                total += shoot(
                    browser,
                    base,
                    seed.learner,
                    [
                        ("learner-dashboard", "/#/learn", None),
                        ("scene-intro", "/#/learn/week/1/intro", None),
                        ("scene-task", "/#/learn/week/1/cycle/3/task", None),
                        ("scene-briefing", "/#/learn/week/1/cycle/3/briefing", None),
                        ("lecture", "/#/learn/week/1/cycle/3/lecture", None),
                        ("coding", "/#/learn/week/1/cycle/3/coding", None),
                        ("feedback", "/#/learn/week/1/cycle/3/coding", submit_wrong_answer),
                        ("reflection", "/#/learn/week/1/reflection", None),
                        ("growth", "/#/growth", None),
                    ],
                )
                total += shoot(
                    browser,
                    base,
                    seed.prof,
                    [
                        ("instructor-classes", "/#/instructor", None),
                        ("instructor-monitor", class_page, open_first_student),
                        ("instructor-questions", f"{class_page}/questions", None),
                        ("instructor-report", f"{class_page}/report", None),
                    ],
                )
                # The course is bilingual: the main learner pages in Korean too.
                total += shoot(
                    browser,
                    base,
                    seed.learner,
                    [
                        ("learner-dashboard", "/#/learn", None),
                        ("scene-task", "/#/learn/week/1/cycle/3/task", None),
                        ("coding", "/#/learn/week/1/cycle/3/coding", None),
                    ],
                    language="ko",
                    viewports=("desktop",),
                )
                browser.close()
        finally:
            server.shutdown()
            ev.close()
    print(f"screenshots: {total} PNGs in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
