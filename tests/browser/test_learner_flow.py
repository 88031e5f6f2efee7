"""The learner's side in a real browser: the story scenes of week 1, the lecture's Run
(Pyodide in a worker), grading on the server (wrong, crashing and right answers), Stop of an
infinite loop, the weekly reflection, the phone tabs, the typing effect and questions shown
as text. The live server runs the bundled course `logicore` with the real sandbox grader.
"""

from __future__ import annotations

import re

from browser_support import (
    LiveServer,
    PageFactory,
    api_submit,
    call_api,
    instructor_with_class,
    page_token,
    pass_cycles,
    sign_up,
    solution,
)
from playwright.sync_api import Page, expect

PYODIDE_MS = 120_000  # the first Run loads Pyodide in a worker: allow a slow machine
GRADING_MS = 60_000
PHONE = {"width": 390, "height": 844}

INTRO_END = "Alex, your team lead, will show you around."


def set_code(page: Page, code: str) -> None:
    """Replace the editor's text (CodeMirror takes it as one insertion: no auto-indent)."""
    editor = page.locator("#panel-code .cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)
    expect(editor).to_contain_text(code.strip().splitlines()[-1].strip())


def skip_typing(page: Page) -> None:
    """Show the whole dialogue line at once (Escape skips the typing effect)."""
    page.keyboard.press("Escape")
    expect(page.locator(".vn.typed-out")).to_have_count(1)


def next_scene(page: Page, name: str = "Next") -> None:
    page.get_by_role("button", name=re.compile(rf"^{re.escape(name)}")).click()


def submit(page: Page) -> None:
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_url(re.compile(r"/feedback$"), timeout=GRADING_MS)
    skip_typing(page)


def open_coding(page: Page, week: int, cycle: int) -> None:
    page.goto(f"/#/learn/week/{week}/cycle/{cycle}/coding")
    expect(page.locator("#panel-code .cm-content")).to_be_visible()


def test_week_one_first_cycle_story_lecture_and_grading(new_page: PageFactory) -> None:
    page = new_page(locale="en-GB")
    sign_up(page, "Ada Learner")
    expect(page.get_by_role("heading", name="Hello, Ada Learner")).to_be_visible()
    expect(page.locator(".week-track > li")).to_have_count(12)
    expect(page.locator(".week-step.is-current")).to_contain_text("First code")
    page.get_by_role("button", name="Start the course").click()

    # The week intro, with the CEO's portrait from the pack.
    page.wait_for_url("**/#/learn/week/1/intro")
    expect(page.get_by_role("heading", name="Welcome to LogiCore Tech")).to_be_visible()
    expect(page.locator(".vn-speaker")).to_have_text("Hana Lee")
    portrait = page.locator(".vn-portrait img")
    expect(portrait).to_have_attribute("src", "/packs/logicore/assets/assets/hana.svg")
    page.wait_for_function("() => document.querySelector('.vn-portrait img').naturalWidth > 0")
    skip_typing(page)
    expect(page.locator(".vn-text")).to_contain_text(INTRO_END)
    next_scene(page)

    # Task, briefing: story scenes of cycle 1.
    page.wait_for_url("**/#/learn/week/1/cycle/1/task")
    expect(page.get_by_role("heading", name="Say hello to the team channel")).to_be_visible()
    expect(page.locator(".vn-speaker")).to_have_text("Alex Morgan")
    expect(page.locator(".vn-role")).to_have_text("Tools team lead")
    next_scene(page)
    page.wait_for_url("**/#/learn/week/1/cycle/1/briefing")
    expect(page.get_by_role("heading", name="One print per line")).to_be_visible()
    page.get_by_role("button", name="← Back").click()
    page.wait_for_url("**/#/learn/week/1/cycle/1/task")
    next_scene(page)
    next_scene(page)

    # The lecture: an example runs in place (Pyodide in a worker; the first run loads it).
    page.wait_for_url("**/#/learn/week/1/cycle/1/lecture")
    expect(page.get_by_role("heading", name="print() and strings")).to_be_visible()
    page.get_by_role("button", name="Run the example “Talking to the computer”").click()
    output = page.get_by_label("Output of “Talking to the computer”")
    expect(output).to_contain_text("I am ready to code.", timeout=PYODIDE_MS)
    expect(output).to_contain_text("2025")
    expect(page.get_by_text("(ran on the server)")).to_have_count(0)  # it ran in the browser
    next_scene(page, "On to the code")

    # The workspace tour, only the first time.
    page.wait_for_url("**/#/learn/week/1/cycle/1/coding-intro")
    expect(page.get_by_role("heading", name="A tour of your workspace")).to_be_visible()
    next_scene(page)
    page.wait_for_url("**/#/learn/week/1/cycle/1/coding")
    expect(page.locator("#panel-code .cm-content")).to_contain_text("TODO: print the second line")
    expect(page.get_by_role("heading", name="Syntax reference")).to_be_visible()

    # A wrong answer: the logical-failure scene carries the assertion's message. The
    # editor's text reaches the server (for the instructor) a second after typing stops.
    with page.expect_request(
        lambda r: r.method == "PUT" and r.url.endswith("/api/progress/live-code")
    ) as live:
        set_code(page, 'print("Hello, LogiCore Tech! I am ready to code.")\n')
    assert live.value.post_data_json["cycle_id"] == "w01-hello-print"
    assert "I am ready to code." in live.value.post_data_json["code"]
    submit(page)
    expect(page.locator(".vn-badge")).to_have_text("Tests failed")
    expect(page.get_by_role("heading", name="Almost there")).to_be_visible()
    expect(page.locator(".vn-text")).to_contain_text("Exactly two lines should be printed")
    page.get_by_role("button", name="Back to the code →").click()
    page.wait_for_url("**/#/learn/week/1/cycle/1/coding")
    # The first hint unlocked; the learner's code was kept.
    expect(page.locator(".hint-item.unlocked").first).to_contain_text("Copy the first print line")
    expect(page.locator("#panel-code .cm-content")).to_contain_text("I am ready to code.")

    # A crashing answer: the runtime-failure scene with the error.
    set_code(page, 'print("Hello, LogiCore Tech!")\nPrint("I am ready to code.")\n')
    submit(page)
    expect(page.locator(".vn-badge")).to_have_text("Error")
    expect(page.get_by_role("heading", name="Python stopped")).to_be_visible()
    expect(page.locator(".vn-text")).to_contain_text("NameError")
    page.get_by_role("button", name="Back to the code →").click()

    # The right answer: the success scene, and on to cycle 2.
    set_code(page, solution_text())
    submit(page)
    expect(page.locator(".vn-badge")).to_have_text("Passed")
    expect(page.get_by_role("heading", name="It's in the team channel!")).to_be_visible()
    expect(page.locator(".vn-text")).to_contain_text("Nice one, Ada Learner!")
    next_scene(page, "Next cycle")
    page.wait_for_url("**/#/learn/week/1/cycle/2/task")
    expect(page.get_by_role("heading", name="A banner for the lobby screen")).to_be_visible()

    # The dashboard shows the progress, and Continue resumes where the learner paused.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My course").click()
    expect(page.locator(".current-cycle")).to_contain_text("Cycle 2 of 5")
    expect(page.locator("#course-meter-text")).to_contain_text("1 of")
    expect(page.locator(".week-step.is-current .cycle-dot.done")).to_have_count(1)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/#/learn/week/1/cycle/2/task")


def solution_text() -> str:
    return 'print("Hello, LogiCore Tech!")\nprint("I am ready to code.")\n'


def test_stop_ends_an_infinite_loop_in_run(new_page: PageFactory) -> None:
    page = new_page(locale="en-GB")
    sign_up(page, "Loopy Learner")
    open_coding(page, 1, 1)
    set_code(page, "print('spinning')\nwhile True:\n    pass\n")
    page.get_by_role("button", name="Run", exact=True).click()
    stop = page.get_by_role("button", name="Stop", exact=True)
    expect(stop).to_be_visible()
    # Wait until Python runs the loop (the first run loads Pyodide), then stop it.
    expect(page.locator("#terminal")).to_contain_text("spinning", timeout=PYODIDE_MS)
    expect(page.locator("#terminal")).to_have_attribute("data-state", "running")
    stop.click()
    expect(page.locator("#terminal")).to_contain_text("Stopped.")
    expect(stop).to_be_hidden()
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_enabled()
    # A new Run works after the stop (a fresh worker).
    set_code(page, "print(6 * 7)\n")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.locator("#terminal")).to_contain_text("42", timeout=PYODIDE_MS)


def test_reflection_at_the_end_of_week_one(new_page: PageFactory, live_server: LiveServer) -> None:
    page = new_page(locale="en-GB")
    sign_up(page, "Reflective Learner")
    token = page_token(page)
    call_api(page, "POST", "/api/progress/intro-seen", token, {"week": 1})
    call_api(page, "POST", "/api/progress/coding-intro-seen", token, {})
    pass_cycles(page, live_server.ev, 1, [1, 2, 3, 4])

    open_coding(page, 1, 5)
    set_code(page, solution(live_server.ev, 1, 5))
    submit(page)
    expect(page.locator(".vn-badge")).to_have_text("Passed")
    next_scene(page, "On to the weekly reflection")
    page.wait_for_url("**/#/learn/week/1/reflection")

    cycles = page.locator("fieldset.cycle-rating")
    expect(cycles).to_have_count(5)
    for index in range(5):
        cycle = cycles.nth(index)
        cycle.get_by_role("group", name="How well did you understand it?").get_by_label("4").check()
        cycle.get_by_role("group", name="How well can you apply it?").get_by_label("3").check()
    page.get_by_label("What was meaningful to you this week?").fill("Printing my own banner.")
    page.get_by_label("What was difficult?").fill("Remembering the quotes.")
    page.get_by_label("What are you curious about now?").fill("How do loops work?")
    page.get_by_role("button", name="Save my reflection").click()
    expect(page.locator(".save-status")).to_contain_text("Your reflection is saved.")
    expect(page.get_by_role("link", name="On to week 2")).to_be_visible()

    stored = call_api(page, "GET", "/api/reflections/mine", token)["reflections"]
    assert len(stored) == 1 and stored[0]["week"] == 1
    assert all(r == {"comprehension": 4, "application": 3} for r in stored[0]["ratings"].values())
    assert stored[0]["feedback"]["curious"] == "How do loops work?"

    # The growth page shows the same numbers: charts and a table.
    page.get_by_role("link", name="See how you have grown").click()
    page.wait_for_url("**/#/growth")
    row = page.locator("tr[data-week='1']")
    expect(row.locator("td").nth(3)).to_have_text("4.0")
    expect(row.locator("td").nth(4)).to_have_text("3.0")
    expect(page.locator(".growth-text")).to_contain_text("Remembering the quotes.")
    expect(page.locator("canvas")).to_have_count(2)
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas')].every((c) => c.width > 0 && c.height > 0)"
    )


def test_phone_layout_shows_the_coding_screen_as_tabs(new_page: PageFactory) -> None:
    page = new_page(locale="en-GB", viewport=PHONE)
    sign_up(page, "Phone Learner")
    page.goto("/#/learn/week/1/cycle/1/coding")
    tabs = page.get_by_role("tablist", name="Coding screen")
    expect(tabs).to_be_visible()
    code_tab = tabs.get_by_role("tab", name="Code")
    expect(code_tab).to_have_attribute("aria-selected", "true")
    expect(page.locator("#panel-code .cm-editor")).to_be_visible()
    expect(page.locator("#panel-story")).to_be_hidden()

    # Arrow keys move between the tabs (and select them).
    code_tab.focus()
    page.keyboard.press("ArrowLeft")
    story_tab = tabs.get_by_role("tab", name="Story")
    expect(story_tab).to_be_focused()
    expect(story_tab).to_have_attribute("aria-selected", "true")
    expect(code_tab).to_have_attribute("aria-selected", "false")
    expect(page.get_by_role("tabpanel")).to_contain_text("Say hello to the team channel")
    expect(page.locator("#panel-code")).to_be_hidden()
    page.keyboard.press("End")
    output_tab = tabs.get_by_role("tab", name="Output")
    expect(output_tab).to_be_focused()
    expect(page.locator("#terminal")).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(story_tab).to_have_attribute("aria-selected", "true")

    # Run switches to the output.
    tabs.get_by_role("tab", name="Code").click()
    page.get_by_role("button", name="Run", exact=True).click()
    expect(output_tab).to_have_attribute("aria-selected", "true")
    expect(page.locator("#terminal")).to_contain_text("Hello, LogiCore Tech!", timeout=PYODIDE_MS)

    # On a wide screen the three parts are side by side, without tabs.
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(tabs).to_be_hidden()
    for panel in ("#panel-story", "#panel-code", "#panel-output"):
        expect(page.locator(panel)).to_be_visible()


def test_the_typing_effect_is_skipped_by_a_key(new_page: PageFactory) -> None:
    page = new_page(locale="en-GB")
    sign_up(page, "Quick Reader")
    page.goto("/#/learn/week/1")
    page.wait_for_url("**/#/learn/week/1/intro")
    typed = page.locator(".vn-text.typed")
    expect(typed).to_be_visible()
    # Typing is under way: the end of the line is not there yet.
    assert INTRO_END not in typed.inner_text()
    expect(page.locator(".vn-skip-hint")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator(".vn-text")).to_contain_text(INTRO_END, timeout=1_000)
    expect(page.locator(".vn-skip-hint")).to_have_count(0)
    # The skipped line shows the pack's (sanitised) markup, and the next Enter moves on.
    expect(page.locator(".vn-text p")).to_have_count(2)
    page.get_by_role("button", name="Next →").press("Enter")
    page.wait_for_url("**/#/learn/week/1/cycle/1/task")


def test_typed_text_is_shown_as_text_never_as_markup(new_page: PageFactory) -> None:
    page = new_page(locale="en-GB")
    alerts: list[str] = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    teacher_token, invite = instructor_with_class(page)
    sign_up(page, "Curious Learner")

    # Join the class with the invite code (the session is refreshed).
    page.get_by_label("Invite code").fill(invite.lower())
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_text("You are in the class")).to_be_visible()

    # Ask from a scene: the dialog has a labelled textarea.
    payload = "<img src=x onerror=alert(1)> why?"
    page.goto("/#/learn/week/1")
    page.wait_for_url("**/#/learn/week/1/intro")
    page.get_by_role("button", name="Ask a question").click()
    dialog = page.get_by_role("dialog", name="Ask your instructor")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Week 1 · Week intro")
    dialog.get_by_label("Your question").fill(payload)
    dialog.get_by_role("button", name="Send").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Your question was sent.")).to_be_visible()

    questions = call_api(page, "GET", "/api/questions/mine", page_token(page))["questions"]
    assert questions[0]["text"] == payload
    assert questions[0]["context"]["scene"] == "intro"
    assert questions[0]["context"]["character"] == "hana"

    # The instructor answers, with markup of their own; the learner sees both as text.
    answer = "<b>Try</b> <script>alert(2)</script> print()"
    call_api(
        page,
        "POST",
        f"/api/questions/{questions[0]['id']}/answer",
        teacher_token,
        {"answer": answer},
    )
    page.goto("/#/learn")
    item = page.locator(".question").first
    expect(item.locator(".question-text")).to_have_text(payload)
    expect(item.locator(".answer-text")).to_have_text(answer)
    expect(item).to_have_class(re.compile(r"\bis-new\b"))
    expect(page.locator(".notice").filter(has_text="Your instructor answered")).to_be_visible()
    assert page.locator(".question-list img, .question-list script, .question-list b").count() == 0
    item.get_by_role("button", name="Mark as read").click()
    expect(page.locator(".question").first).not_to_have_class(re.compile(r"\bis-new\b"))
    assert call_api(page, "GET", "/api/questions/mine", page_token(page))["questions"][0][
        "notified"
    ]
    assert alerts == []


def test_run_falls_back_to_the_server_without_webassembly(new_page: PageFactory) -> None:
    """A browser without WebAssembly (or workers) cannot run Pyodide: Run goes to POST /api/run,
    graded in the server's sandbox, and the output appears the same way."""
    page = new_page(locale="en-GB")
    page.add_init_script("delete window.WebAssembly;")
    sign_up(page, "Old Browser")
    open_coding(page, 1, 1)
    set_code(page, "print('from the server', 6 * 7)\n")
    with page.expect_request("**/api/run") as sent:
        page.get_by_role("button", name="Run", exact=True).click()
    assert sent.value.method == "POST"
    expect(page.locator("#terminal")).to_contain_text("from the server 42", timeout=GRADING_MS)


def test_unlocked_hints_come_back_after_the_browser_forgets_them(
    new_page: PageFactory, live_server: LiveServer
) -> None:
    """Hint texts arrive with a failed submission; another device (or cleared storage) gets
    them from GET /api/hints when the coding screen opens."""
    page = new_page(locale="en-GB")
    sign_up(page, "Forgetful Browser")
    token = page_token(page)
    answer = api_submit(page, token, 1, 1, "print('no')")
    assert answer["outcome"] != "passed" and answer["hints"], answer
    page.evaluate(
        "for (const key of Object.keys(localStorage))"
        " if (key.includes('hints')) localStorage.removeItem(key)"
    )
    open_coding(page, 1, 1)
    hints = page.locator(".hint-item.unlocked .pack-html")
    expect(hints.first).to_be_visible()
    expect(page.get_by_text("loading it…")).to_have_count(0)
