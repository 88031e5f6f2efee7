"""Grading code against one cycle of a pack: the request, the cycle's grader, the feedback.

The web's submission service, ``eduverse grade`` and ``eduverse pack check`` all build the
request the same way here, so a cycle is judged identically everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import GradingError, NotFound
from ..models import Cycle, ScenarioPack
from .base import Grader, GradeRequest, GradeResult
from .feedback import RenderedScene, feedback_scene

GraderLookup = Callable[[str], Grader]
"""Grader by registered name (``Eduverse.grader``)."""


def default_track(cycle: Cycle) -> str:
    """``beginner`` when the cycle has it, else its only track."""
    return next(iter(cycle.tracks()))


def cycle_request(cycle: Cycle, track: str, code: str, locale: str) -> GradeRequest:
    """The request that judges ``code`` on ``cycle``'s ``track`` (its test code, file name
    and grader options). ``NotFound`` for a missing track, ``GradingError`` without tests."""
    if cycle.track(track) is None:
        have = ", ".join(cycle.tracks()) or "none"
        raise NotFound(
            f"cycle {cycle.id!r} has no track {track!r} (it has: {have})", code="track_not_found"
        )
    test_code = cycle.test_for(track)
    if not test_code or not test_code.strip():
        raise GradingError(f"cycle {cycle.id!r} has no test code for the {track} track")
    return GradeRequest(
        code=code,
        test_code=test_code,
        filename=cycle.filename,
        locale=locale,
        options=dict(cycle.grader.options),
    )


@dataclass(frozen=True)
class CycleGrade:
    """A verdict and the feedback scene it shows."""

    result: GradeResult
    feedback: RenderedScene


def grade_cycle(
    graders: GraderLookup,
    pack: ScenarioPack,
    cycle: Cycle,
    track: str,
    code: str,
    locale: str,
    username: str = "",
) -> CycleGrade:
    """Judge ``code`` with the cycle's grader and render the matching feedback scene."""
    request = cycle_request(cycle, track, code, locale)
    result = graders(cycle.grader.name).grade(request)
    return CycleGrade(result, feedback_scene(pack, cycle, result, locale, username))
