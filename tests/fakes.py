"""Test doubles shared by the service, hook and web tests.

``InProcessGrader`` runs code in this process: fine for our own test packs, never for learners
(that is the sandbox grader's job). ``make_pack`` builds a tiny two-week pack in code.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from typing import Any

from eduverse_core import Settings, hookimpl
from eduverse_core.events import Event
from eduverse_core.grading.base import GradeRequest, GradeResult
from eduverse_core.grading.helpers import namespace_helpers
from eduverse_core.models import Outcome, ScenarioPack

PASSWORD = "correct horse battery"
"""The password of the accounts the shared fixtures create."""


class InProcessGrader:
    """Grades by ``exec`` in-process. Set ``forced`` to make every verdict that outcome."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.forced: Outcome | None = None
        self.requests: list[GradeRequest] = []

    def grade(self, request: GradeRequest) -> GradeResult:
        self.requests.append(request)
        start = time.perf_counter()
        if self.forced is not None:
            return GradeResult(self.forced, f"forced {self.forced.value}")
        namespace: dict[str, Any] = {"__name__": "__main__"}
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(request.code, request.filename, "exec"), namespace)
        except Exception as exc:
            return GradeResult(Outcome.ERROR, f"{type(exc).__name__}: {exc}", out.getvalue())
        if request.test_code:
            namespace.update(namespace_helpers(request.code, out.getvalue(), request.locale))
            try:
                exec(compile(request.test_code, "<test>", "exec"), namespace)
            except AssertionError as exc:
                return GradeResult(Outcome.FAILED, str(exc), out.getvalue())
        ms = int((time.perf_counter() - start) * 1000)
        return GradeResult(Outcome.PASSED, "", out.getvalue(), ms)

    def close(self) -> None:
        pass


class EventRecorder:
    """A plugin that keeps every event it is told about."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    @hookimpl
    def eduverse_track_event(self, eduverse: Any, event: Event) -> None:
        self.events.append(event)

    def names(self) -> list[str]:
        return [e.name for e in self.events]


class TestPlugin:
    """Registers the in-process grader as ``inprocess`` and the tiny pack."""

    def __init__(self, grader: InProcessGrader) -> None:
        self.grader = grader

    @hookimpl
    def eduverse_register_graders(self, register: Callable[..., None]) -> None:
        register("inprocess", lambda settings: self.grader)

    @hookimpl
    def eduverse_register_scenario_packs(self, register: Callable[..., None]) -> None:
        register(make_pack())


def scene(character: str = "alex", text: str = "Hello {{USERNAME}}") -> dict[str, Any]:
    return {"character": character, "title": {"ko": "제목", "en": "Title"}, "content": text}


def cycle(cycle_id: str, answer: int) -> dict[str, Any]:
    """A cycle whose task is ``answer = <answer>``."""
    test = f"assert answer == {answer}, tr('answer는 {answer}', 'answer should be {answer}')"
    track = {
        "task": scene(),
        "briefing": scene("sena"),
        "starter_code": "answer = 0\n",
        "solution": f"answer = {answer}\n",
        "test": test,
        "wrong_answers": [{"code": "answer = -1\n", "expect": "failed"}],
        "hints": [
            {"after_failures": 1, "text": "first hint"},
            {"after_failures": 2, "text": "second hint"},
        ],
    }
    return {
        "id": cycle_id,
        "title": {"ko": cycle_id, "en": cycle_id},
        "syntax_keys": ["variable"],
        "grader": {"name": "inprocess"},
        "lecture": {
            "title": "L",
            "key_takeaway": "K",
            "sections": [{"heading": "H", "text": "T", "code": "print(1)"}],
        },
        "feedback": {
            "success": scene(),
            "failure_logical": scene("sena", "{{ERROR_MESSAGE}}"),
            "failure_runtime": scene("sena", "{{ERROR_MESSAGE}}"),
        },
        "beginner": track,
        "advanced": {**track, "starter_code": "def f():\n    pass\n"},
    }


def make_pack(pack_id: str = "tiny") -> ScenarioPack:
    """Two weeks of two cycles: w1-a (answer 1), w1-b (2), w2-a (3), w2-b (4)."""
    weeks = [
        {
            "number": n,
            "title": {"ko": f"{n}주차", "en": f"Week {n}"},
            "intro": scene("alex", f"Week {n} begins"),
            "cycles": [cycle(f"w{n}-a", 2 * n - 1), cycle(f"w{n}-b", 2 * n)],
        }
        for n in (1, 2)
    ]
    return ScenarioPack.model_validate(
        {
            "id": pack_id,
            "version": "1.0.0",
            "title": {"ko": "작은 팩", "en": "Tiny pack"},
            "locales": ["ko", "en"],
            "default_locale": "ko",
            "cast": [
                {"id": "alex", "name": "Alex", "role": {"ko": "팀장", "en": "Team lead"}},
                {"id": "sena", "name": "Sena", "role": {"ko": "선배", "en": "Senior"}},
            ],
            "lecturer": "sena",
            "syntax": {"variable": {"title": "Variables", "description": "x = 1"}},
            "weeks": weeks,
        }
    )


def test_settings(**overrides: Any) -> Settings:
    """In-memory storage, the tiny pack as default, no bundled packs or installed plugins."""
    values: dict[str, Any] = {
        "storage": "sqlite://:memory:",
        "default_pack": "tiny",
        "default_grader": "inprocess",
        "disabled_plugins": ("bundled_packs",),
        "load_entry_points": False,
        "secret_key": "test-secret",
    }
    values.update(overrides)
    return Settings(**values)


# pytest must not collect these helpers as tests.
TestPlugin.__test__ = False  # type: ignore[attr-defined]
test_settings.__test__ = False  # type: ignore[attr-defined]
