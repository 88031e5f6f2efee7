"""Feedback after grading: which scene an outcome shows, its placeholders, and safe HTML.

Pack texts allow a little HTML (see ``Scene.content``). Authors are trusted less than our own
templates and the learner's name and error message not at all, so the content goes through an
allow-list sanitiser written on :mod:`html.parser` (no new dependency): allowed tags keep no
attribute except ``a[href]`` with a safe URL; anything else is dropped, keeping its text,
except ``script``/``style``-like elements, dropped with their content. ``{{USERNAME}}`` and
``{{ERROR_MESSAGE}}`` are replaced by HTML-escaped values *before* sanitising, so an escaped
value stays text and a value that lands in an ``href`` is checked like any URL.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass
from html.parser import HTMLParser
from typing import Any

from ..models import Cycle, Outcome, ScenarioPack, Scene, localize
from .base import GradeResult
from .messages import message

ALLOWED_TAGS = frozenset(
    {"p", "b", "i", "em", "strong", "code", "pre", "ul", "ol", "li", "br", "span", "a"}
)
VOID_TAGS = frozenset({"br"})
# Dropped with everything inside them (their text is code or markup, not prose).
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "template", "noscript", "textarea",
     "select", "svg", "math", "title", "head", "frameset", "frame", "noembed", "xmp"}
)  # fmt: skip
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")  # browsers ignore these inside a scheme

FEEDBACK_KIND = {
    Outcome.PASSED: "success",
    Outcome.FAILED: "failure_logical",
    Outcome.ERROR: "failure_runtime",
    Outcome.TIMEOUT: "timeout",
    Outcome.LIMIT_EXCEEDED: "timeout",
}
"""Outcome → feedback scene. ``timeout`` falls back to ``failure_runtime`` when a pack has no
timeout scene; ``grader_error`` has no scene of the pack's (we show our own)."""


def safe_url(value: str) -> bool:
    """Whether ``value`` may be an ``href``: relative, or http(s)/mailto."""
    compact = _INVISIBLE.sub("", html.unescape(value)).lower()
    match = _SCHEME.match(compact)
    return match is None or match.group(1) in SAFE_SCHEMES


class _Sanitiser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.dropping = 0  # depth inside elements dropped with their content

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self.dropping += 1
            return
        if self.dropping or tag not in ALLOWED_TAGS:
            return
        if tag in VOID_TAGS:
            self.out.append(f"<{tag}>")
            return
        if tag == "a":
            href = next((v for k, v in attrs if k == "href" and v is not None), None)
            if href is not None and safe_url(href):
                quoted = html.escape(href, quote=True)
                self.out.append(f'<a href="{quoted}" rel="noopener noreferrer">')
            else:
                self.out.append("<a>")
        else:
            self.out.append(f"<{tag}>")
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS and tag not in DROPPED_WITH_CONTENT:
            self.handle_endtag(tag)
        elif tag in DROPPED_WITH_CONTENT:
            self.dropping -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping or tag not in self.open:
            return  # a stray end tag: ignore rather than unbalance the output
        while self.open:
            closing = self.open.pop()
            self.out.append(f"</{closing}>")
            if closing == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(html.escape(data, quote=False))

    def result(self) -> str:
        self.close()
        return "".join(self.out) + "".join(f"</{t}>" for t in reversed(self.open))


def sanitise_html(text: str) -> str:
    """``text`` reduced to the allowed tags, balanced, with every other character escaped."""
    parser = _Sanitiser()
    parser.feed(text)
    return parser.result()


def fill_placeholders(text: str, values: dict[str, str], *, escape: bool) -> str:
    """Replace ``{{NAME}}`` for each key of ``values`` (HTML-escaped when ``escape``)."""
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", html.escape(value) if escape else value)
    return text


@dataclass(frozen=True)
class RenderedScene:
    """A scene ready to show: ``title``/``subtitle`` are plain text (escape them when you put
    them in HTML), ``content`` is sanitised HTML. ``character`` is the cast id."""

    character: str
    character_name: str
    title: str
    subtitle: str
    content: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def render_scene(
    pack: ScenarioPack, scene: Scene, locale: str, values: dict[str, str] | None = None
) -> RenderedScene:
    """``scene`` in ``locale`` (falling back to the pack's default), placeholders filled."""
    values = values or {}

    def text(value: str | dict[str, str]) -> str:
        return localize(value, locale, pack.default_locale)

    cast = pack.character(scene.character)
    name = text(cast.name) if cast is not None else scene.character
    content = sanitise_html(fill_placeholders(text(scene.content), values, escape=True))
    return RenderedScene(
        character=scene.character,
        character_name=name,
        title=fill_placeholders(text(scene.title), values, escape=False),
        subtitle=fill_placeholders(text(scene.subtitle), values, escape=False),
        content=content,
    )


def feedback_scene(
    pack: ScenarioPack, cycle: Cycle, result: GradeResult, locale: str, username: str = ""
) -> RenderedScene:
    """The feedback scene for ``result`` on ``cycle``. A timeout or limit without the pack's
    own ``timeout`` scene shows ``failure_runtime`` with the grader's clear message; a grader
    error shows our own short scene (it is not the learner's doing)."""
    values = {"USERNAME": username, "ERROR_MESSAGE": result.message}
    kind = FEEDBACK_KIND.get(result.outcome)
    if kind is None:  # grader_error
        speaker = cycle.feedback.failure_runtime.character
        note = message("grader_error", locale)
        cast = pack.character(speaker)
        name = localize(cast.name, locale, pack.default_locale) if cast else speaker
        title = "채점 오류" if locale == "ko" else "Grader error"
        return RenderedScene(speaker, name, title, "", f"<p>{html.escape(note)}</p>")
    scene = getattr(cycle.feedback, kind)
    if scene is not None:
        return render_scene(pack, scene, locale, values)
    # No timeout scene: the runtime-failure one, and the limit's message even if it has no
    # {{ERROR_MESSAGE}} (a learner must learn that it was the time or memory limit).
    fallback = cycle.feedback.failure_runtime
    rendered = render_scene(pack, fallback, locale, values)
    if "{{ERROR_MESSAGE}}" in localize(fallback.content, locale, pack.default_locale):
        return rendered
    note = f"<p>{html.escape(result.message)}</p>"
    return RenderedScene(**{**rendered.to_dict(), "content": rendered.content + note})
