"""The page shell, assets and security headers, seen from a real browser."""

from __future__ import annotations

from browser_support import LiveServer, PageFactory, sign_up
from playwright.sync_api import expect


def test_sign_up_lands_on_the_learner_home_with_strict_csp(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    page = new_page(locale="en-GB")
    response = page.goto("/")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "script-src 'self'" in csp
    sign_up(page, "Ada Learner")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_logged_out_visitor_is_sent_to_log_in(new_page: PageFactory) -> None:
    page = new_page(locale="en-GB")
    page.goto("/#/learn")
    page.wait_for_url("**/#/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
