"""Browser tests: the real app (bundled course, sandbox grader, SQLite file) served on
127.0.0.1 from a thread, driven by Playwright in Debian's Chromium.

`make test` installs Chromium (apt) and builds the assets first; a missing browser or build
is a failure with a clear message, never a skip.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from browser_support import LiveServer, PageFactory
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright
from werkzeug.serving import make_server

from eduverse_core import Eduverse, Settings
from webapp import create_app
from webapp.pages import manifest

from chromium import launch


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if manifest() is None:
        pytest.fail("the browser assets are not built: run `make assets` (make test does)")
    db = tmp_path_factory.mktemp("browser") / "eduverse.db"
    settings = Settings(
        storage=f"sqlite:///{db}",
        secret_key="browser-tests-secret",
        allow_instructor_signup=True,
        load_entry_points=False,
    )
    ev = Eduverse(settings)
    app = create_app(eduverse=ev)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", ev, server)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        ev.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        try:
            launched = launch(playwright)
        except FileNotFoundError as exc:
            pytest.fail(str(exc), pytrace=False)
        yield launched
        launched.close()


@dataclass
class PageProblems:
    """What went wrong inside a page: uncaught errors and CSP violations fail the test."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or (
            message.type == "error" and "Failed to load resource" not in text
        ):
            self.errors.append(f"console {message.type}: {text}")


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer) -> Iterator[PageFactory]:
    """Open a page in a fresh browser context (its own storage: one user per context).
    Keyword arguments go to ``new_context`` (e.g. ``viewport``, ``locale``)."""
    contexts: list[BrowserContext] = []
    problems = PageProblems()

    def open_page(**options: object) -> Page:
        context = browser.new_context(base_url=live_server.url, **options)  # type: ignore[arg-type]
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert problems.errors == [], "\n".join(problems.errors)
