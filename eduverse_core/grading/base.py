"""The grader port: what a grader receives and what it must answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..models.submission import Outcome

if TYPE_CHECKING:
    from ..settings import Settings


@dataclass(frozen=True)
class Limits:
    """Resource limits for one grading run."""

    cpu_seconds: float = 2.0
    wall_seconds: float = 5.0
    memory_bytes: int = 256 * 1024 * 1024
    file_size_bytes: int = 1024 * 1024
    output_bytes: int = 64 * 1024


@dataclass(frozen=True)
class GradeRequest:
    """One piece of learner code to judge.

    ``test_code`` empty means "just run it" (the run endpoint and lecture examples): the outcome
    is then ``passed`` unless the code raises or hits a limit.
    """

    code: str
    test_code: str = ""
    filename: str = "main.py"
    locale: str = "en"
    limits: Limits = field(default_factory=Limits)
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GradeResult:
    """The verdict. ``message`` is safe to show the learner (no grader traceback)."""

    outcome: Outcome
    message: str = ""
    stdout: str = ""
    duration_ms: int = 0

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED


@runtime_checkable
class Grader(Protocol):
    """A server-side grader. Must be safe to call from several threads at once."""

    def grade(self, request: GradeRequest) -> GradeResult:
        """Judge ``request``. Never raises for anything the learner wrote; failures of the
        grader itself are reported as ``Outcome.GRADER_ERROR``."""

    def close(self) -> None:
        """Stop workers and release resources. Idempotent."""


GraderFactory = Callable[["Settings"], Grader]
