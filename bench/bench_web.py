"""What the learning page costs a browser: bytes on the wire and time to a usable editor.

Serves the real app (bundled course, SQLite in a temp folder) on 127.0.0.1, opens the coding
scene of week 1 in Debian's Chromium (Playwright) in a fresh profile, and measures:

* bytes transferred (compressed, as sent: body + headers) before the first Run — target
  ≤ 400 KB — split into our bundles and the API; counted for the whole browser context, so
  the service worker's precache requests are included (an upper bound);
* time from navigation until the editor accepts input (a typed character appears in it);
* the first Run: Pyodide's bytes and the time until its output appears;
* after a reload with the service worker in control, the second Run: Pyodide must come from
  the cache (no bytes from the network).

Runs ROUNDS fresh profiles and quotes medians. Run with ``make bench-web``; prints numbers,
asserts nothing (machines are noisy).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, Request, sync_playwright
from werkzeug.serving import make_server

from eduverse_core import Eduverse, Settings
from webapp import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from chromium import launch

ROUNDS = 5
TARGET_KB = 400
LEARNING_PAGE = "/#/learn/week/1/cycle/1/coding"
EDITOR = ".cm-content[contenteditable='true']"
RUN_CODE = "print('bench', 6 * 7)"


@dataclass
class Traffic:
    """Bytes the network delivered, by kind, counted as requests finish."""

    by_kind: dict[str, int] = field(default_factory=dict)
    from_cache: int = 0

    def add(self, request: Request) -> None:
        response = request.response()
        if response is None:
            return
        if response.from_service_worker:
            self.from_cache += 1
            return
        sizes = request.sizes()
        total = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        path = request.url.split("://", 1)[-1].split("/", 1)[-1]
        kind = (
            "pyodide" if "/pyodide-" in request.url else "api" if path.startswith("api/") else "app"
        )
        self.by_kind[kind] = self.by_kind.get(kind, 0) + max(total, 0)

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


def sign_up(base: str, n: int) -> str:
    body = json.dumps(
        {"email": f"bench{n}@example.org", "name": f"Bench {n}", "password": "bench password"}
    ).encode()
    request = urllib.request.Request(
        base + "/api/auth/signup", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        token: str = json.loads(response.read())["token"]
        return token


def editor_ready_ms(page: Page) -> float:
    """Milliseconds from navigation start until a key typed into the editor shows in it."""
    editor = page.locator(EDITOR).first  # Playwright's CSS pierces the editor's shadow root
    editor.wait_for(timeout=30_000)
    editor.click()
    page.keyboard.press("End")
    page.keyboard.type("#")
    editor.filter(has_text="#").wait_for(timeout=30_000)
    return float(page.evaluate("performance.now()"))


def run_once(page: Page) -> float:
    """Replace the code, press Run and wait for the output; returns the seconds it took."""
    page.locator(EDITOR).first.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")  # delete first: replacing a selection by typing trips the CSP
    page.keyboard.type(RUN_CODE)
    start = page.evaluate("performance.now()")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("bench 42").first.wait_for(timeout=120_000)
    return (float(page.evaluate("performance.now()")) - start) / 1000


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            storage=f"sqlite:///{Path(tmp) / 'bench.db'}",
            secret_key="bench-web-secret-key-0123456789abcdef",
            load_entry_points=False,
        )
        ev = Eduverse(settings)
        app = create_app(eduverse=ev)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        before_kb, ready, pyodide_kb, first_run, second_run, cached = [], [], [], [], [], []
        app_kb, api_kb, from_sw = [], [], []
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright)
                for n in range(ROUNDS):
                    token = sign_up(base, n)
                    context = browser.new_context(base_url=base, locale="en-GB")
                    context.add_init_script(
                        f"localStorage.setItem('eduverse.token', {json.dumps(token)});"
                        "localStorage.setItem('eduverse.locale', 'en');"
                    )
                    page = context.new_page()
                    traffic = Traffic()
                    # Context-wide: the Pyodide worker's and service worker's requests count too.
                    context.on("requestfinished", traffic.add)
                    page.goto(LEARNING_PAGE)
                    ready.append(editor_ready_ms(page))
                    page.wait_for_load_state("networkidle")
                    before_kb.append(traffic.total / 1024)
                    app_kb.append(traffic.by_kind.get("app", 0) / 1024)
                    api_kb.append(traffic.by_kind.get("api", 0) / 1024)
                    first_run.append(run_once(page))
                    pyodide_kb.append(traffic.by_kind.get("pyodide", 0) / 1024)
                    # The service worker has cached Pyodide on first use: reload and run again.
                    page.evaluate("navigator.serviceWorker.ready")
                    again = Traffic()
                    context.remove_listener("requestfinished", traffic.add)
                    context.on("requestfinished", again.add)
                    page.reload()
                    page.locator(EDITOR).first.wait_for()
                    second_run.append(run_once(page))
                    cached.append(again.by_kind.get("pyodide", 0) / 1024)
                    from_sw.append(again.from_cache)
                    context.close()
                browser.close()
        finally:
            server.shutdown()
            ev.close()

    def med(values: list[float]) -> float:
        return statistics.median(values)

    print(f"bench-web: {ROUNDS} fresh browser profiles, medians (Chromium, 127.0.0.1)")
    print(f"  learning page before the first Run: {med(before_kb):7.1f} KB transferred")
    print(f"      our bundles + page {med(app_kb):7.1f} KB, API {med(api_kb):5.1f} KB")
    print(
        f"      target (baseline)  {TARGET_KB:7.1f} KB  -> {med(before_kb) / TARGET_KB:.2f} of it"
    )
    print(f"  editor accepts input after:         {med(ready):7.0f} ms from navigation")
    print(
        f"  first Run (fetches Pyodide):        {med(pyodide_kb):7.1f} KB,"
        f" output after {med(first_run):.2f} s"
    )
    print(
        f"  Run after reload (service worker):  {med(cached):7.1f} KB of Pyodide from the network,"
        f" output after {med(second_run):.2f} s"
    )
    print(f"      responses served by the service worker after the reload: {med(from_sw):.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
