"""Debian's Chromium, started the one way every browser run of the project uses: browser
tests, `make bench-web` and `make screenshots`. Never `playwright install` (it downloads a
browser); `make browser` installs Debian's package."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these, Chromium keeps trying to reach Google's services, which the closed
    # network of a test machine refuses, many connections at a time.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def launch(playwright: Playwright) -> Browser:
    """Start headless Chromium; a missing browser is a clear ``FileNotFoundError``."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(FLAGS))
