"""Feedback scenes: outcome → scene, placeholders escaped, the pack's HTML sanitised."""

from __future__ import annotations

from typing import Any

import pytest

from eduverse_core.grading.base import GradeResult
from eduverse_core.grading.feedback import feedback_scene, safe_url, sanitise_html
from eduverse_core.models import Outcome, ScenarioPack


def scene(text: Any, character: str = "sena") -> dict[str, Any]:
    return {"character": character, "title": {"ko": "제목 {{USERNAME}}", "en": "Title"},
            "content": text}  # fmt: skip


def make_pack(timeout_scene: bool = False, runtime_text: str = "{{ERROR_MESSAGE}}") -> ScenarioPack:
    feedback = {
        "success": scene(
            {"ko": "<p>잘했어요, {{USERNAME}}!</p>", "en": "<p>Well done, {{USERNAME}}!</p>"}
        ),
        "failure_logical": scene("<p>Almost: {{ERROR_MESSAGE}}</p>"),
        "failure_runtime": scene(runtime_text, "alex"),
    }
    if timeout_scene:
        feedback["timeout"] = scene("<p>Too slow: {{ERROR_MESSAGE}}</p>")
    track = {"task": scene("t"), "briefing": scene("b"), "starter_code": "", "solution": "x = 1"}
    cycle = {
        "id": "c1",
        "title": "C1",
        "test": "assert x == 1",
        "lecture": {"title": "L", "key_takeaway": "K", "sections": []},
        "feedback": feedback,
        "beginner": track,
    }
    return ScenarioPack.model_validate(
        {
            "id": "fb",
            "version": "1",
            "title": "Feedback",
            "locales": ["ko", "en"],
            "default_locale": "en",
            "cast": [
                {"id": "sena", "name": {"ko": "세나", "en": "Sena"}, "role": "Senior"},
                {"id": "alex", "name": "Alex", "role": "Lead"},
            ],
            "weeks": [{"number": 1, "title": "W1", "intro": scene("hi"), "cycles": [cycle]}],
        }
    )


def render(pack: ScenarioPack, outcome: Outcome, message: str = "", **kw: Any) -> Any:
    cycle = pack.weeks[0].cycles[0]
    return feedback_scene(pack, cycle, GradeResult(outcome, message), **{"locale": "en", **kw})


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (Outcome.PASSED, "<p>Well done, Ada!</p>"),
        (Outcome.FAILED, "<p>Almost: off by one</p>"),
        (Outcome.ERROR, "off by one"),
    ],
)
def test_each_outcome_shows_its_scene(outcome: Outcome, expected: str) -> None:
    assert render(make_pack(), outcome, "off by one", username="Ada").content == expected


def test_timeout_uses_the_timeout_scene_when_the_pack_has_one() -> None:
    for outcome in (Outcome.TIMEOUT, Outcome.LIMIT_EXCEEDED):
        shown = render(make_pack(timeout_scene=True), outcome, "2 s")
        assert shown.content == "<p>Too slow: 2 s</p>"


def test_timeout_without_its_scene_shows_the_runtime_scene_and_the_message() -> None:
    shown = render(make_pack(runtime_text="<p>Oops</p>"), Outcome.TIMEOUT, "ran over 2 s")
    assert shown.character == "alex"
    assert shown.content == "<p>Oops</p><p>ran over 2 s</p>"


def test_grader_error_shows_our_own_scene() -> None:
    shown = render(make_pack(), Outcome.GRADER_ERROR, locale="ko")
    assert shown.title == "채점 오류"
    assert "이번 시도는 세지 않아요" in shown.content


def test_locale_picks_the_text_and_the_characters_name() -> None:
    shown = render(make_pack(), Outcome.PASSED, username="세종", locale="ko")
    assert (shown.character, shown.character_name) == ("sena", "세나")
    assert shown.title == "제목 세종"  # plain text: placeholders filled, not escaped
    assert shown.content == "<p>잘했어요, 세종!</p>"
    assert render(make_pack(), Outcome.PASSED, locale="fr").content.startswith("<p>Well done")


def test_placeholder_values_are_html_escaped() -> None:
    name = "<script>alert(1)</script>"
    message = "AssertionError: expected <b>'&'</b>"
    assert render(make_pack(), Outcome.PASSED, username=name).content == (
        "<p>Well done, &lt;script&gt;alert(1)&lt;/script&gt;!</p>"
    )
    assert render(make_pack(), Outcome.FAILED, message).content == (
        "<p>Almost: AssertionError: expected &lt;b&gt;'&amp;'&lt;/b&gt;</p>"
    )


def test_a_placeholder_in_an_href_is_checked_like_any_url() -> None:
    pack = make_pack(runtime_text='<a href="{{ERROR_MESSAGE}}">see</a>')
    assert render(pack, Outcome.ERROR, "javascript:alert(1)").content == "<a>see</a>"


def test_sanitiser_keeps_the_allowed_tags() -> None:
    text = "<p>A <b>b</b> <i>i</i> <em>e</em> <strong>s</strong> <code>c</code><br></p>"
    text += "<pre>x</pre><ul><li>1</li></ul><ol><li>2</li></ol><span>s</span>"
    assert sanitise_html(text) == text


def test_sanitiser_removes_scripts_styles_and_their_content() -> None:
    text = "<p>ok</p><script>alert(1)</script><style>p{}</style><iframe src=x>y</iframe>z"
    assert sanitise_html(text) == "<p>ok</p>z"


def test_sanitiser_removes_attributes_and_event_handlers() -> None:
    text = '<p onclick="x()" style="color:red" class="c">t</p><img src=x onerror="alert(1)">'
    assert sanitise_html(text) == "<p>t</p>"


def test_sanitiser_keeps_safe_links_only() -> None:
    assert sanitise_html('<a href="https://e.org/?a=1&amp;b=2" target="_x">e</a>') == (
        '<a href="https://e.org/?a=1&amp;b=2" rel="noopener noreferrer">e</a>'
    )
    for bad in ("javascript:alert(1)", " JaVa\tScRiPt:alert(1)", "data:text/html,x",
                "vbscript:x", "&#106;avascript:x"):  # fmt: skip
        assert sanitise_html(f'<a href="{bad}">x</a>') == "<a>x</a>", bad
    assert safe_url("/relative/path") and safe_url("#top") and safe_url("mailto:a@b.org")


def test_sanitiser_balances_and_escapes() -> None:
    assert sanitise_html("<p><b>open") == "<p><b>open</b></p>"
    assert sanitise_html("</p>stray</b> 1 < 2 & 3 > 2") == "stray 1 &lt; 2 &amp; 3 &gt; 2"
    assert sanitise_html("<div><p>x</div></p>") == "<p>x</p>"
    assert sanitise_html("<!-- c --><p/>") == "<p></p>"
