"""Graded submissions and the outcome vocabulary."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from .common import Model, utcnow


class Outcome(StrEnum):
    """What grading concluded. See docs/grading.md."""

    PASSED = "passed"
    FAILED = "failed"  # a test assertion failed: the learner's logic
    ERROR = "error"  # the learner's own code raised (SyntaxError included)
    TIMEOUT = "timeout"
    LIMIT_EXCEEDED = "limit_exceeded"  # memory, output, processes
    GRADER_ERROR = "grader_error"  # our fault: never counts as an attempt

    @property
    def counts_as_attempt(self) -> bool:
        return self is not Outcome.GRADER_ERROR


class SubmissionLog(Model):
    """One graded submission, written by the server only."""

    id: str = Field(description="Opaque id.")
    student_id: str = Field(description="Who submitted.")
    class_id: str | None = Field(None, description="The student's class at the time, if any.")
    pack_id: str = Field(description="Pack.")
    week: int = Field(ge=1, description="Week number.")
    cycle: str = Field(description="Cycle id.")
    track: str = Field(description="`beginner` or `advanced`.")
    outcome: Outcome = Field(description="Grading outcome.")
    message: str = Field("", description="Message shown to the learner.")
    code: str = Field("", description="The submitted code.")
    duration_ms: int = Field(0, ge=0, description="Grading time.")
    at: datetime = Field(default_factory=utcnow, description="When it was graded.")
