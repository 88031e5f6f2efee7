"""A learner forgets their password: the instructor resets it from the monitor, the learner's
sessions end, they log in with the temporary password and choose a new one on the account
page."""

from __future__ import annotations

from browser_support import (
    PASSWORD,
    LiveServer,
    PageFactory,
    api_call,
    api_sign_up,
    logged_in_page,
    sign_up,
)
from playwright.sync_api import Page, expect


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/#/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_reset_by_instructor_then_change_on_the_account_page(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    base = live_server.url
    prof = api_sign_up(base, "Prof. Reset", role="instructor")
    made = api_call(
        base,
        "POST",
        "/api/classes",
        {"subject": "Resets", "year": 2026, "semester": "1"},
        prof["token"],
    )["class"]

    learner = new_page(locale="en-GB")
    email = sign_up(learner, "Forgetful Fred")
    token = learner.evaluate("localStorage.getItem('eduverse.token')")
    api_call(base, "POST", "/api/classes/join", {"invite_code": made["invite_code"]}, token)

    teacher = logged_in_page(new_page, prof["token"])
    teacher.goto(f"/#/instructor/class/{made['id']}")
    teacher.get_by_role("button", name="Forgetful Fred").click()
    teacher.get_by_role("button", name="Reset password…").click()
    dialog = teacher.get_by_role("dialog")
    expect(dialog).to_contain_text("logged out everywhere")
    dialog.get_by_role("button", name="Reset password").click()
    temporary = dialog.locator("[data-temp-password]").inner_text()
    assert len(temporary) >= 12
    dialog.get_by_role("button", name="Done").click()
    expect(teacher.get_by_role("dialog")).to_have_count(0)

    # The learner's session ended: the next page load sends them to log in.
    learner.goto("/#/learn")
    learner.reload()
    learner.wait_for_url("**/#/login")
    log_in(learner, email, PASSWORD)
    expect(learner.get_by_role("alert")).to_contain_text("wrong")
    log_in(learner, email, temporary)
    learner.wait_for_url("**/#/learn")

    learner.get_by_role("link", name="Forgetful Fred").click()
    learner.wait_for_url("**/#/account")
    learner.get_by_label("Current password").fill(temporary)
    learner.get_by_label("New password", exact=True).fill("fred's own password")
    learner.get_by_label("New password again").fill("fred's own passwrod")
    learner.get_by_role("button", name="Change password").click()
    expect(learner.get_by_role("alert")).to_contain_text("differ")
    learner.get_by_label("New password again").fill("fred's own password")
    learner.get_by_role("button", name="Change password").click()
    expect(learner.get_by_text("Password changed")).to_be_visible()
    learner.get_by_role("button", name="Log out").click()
    learner.wait_for_url("**/#/login")
    log_in(learner, email, "fred's own password")
    learner.wait_for_url("**/#/learn")
