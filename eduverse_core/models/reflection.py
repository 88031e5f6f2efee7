"""Weekly reflections."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .common import Model, utcnow


class Rating(Model):
    """Self-assessment for one cycle."""

    comprehension: int = Field(ge=1, le=5, description="How well I understood it (1-5).")
    application: int = Field(ge=1, le=5, description="How well I can apply it (1-5).")


class ReflectionFeedback(Model):
    """Free-text answers of a reflection."""

    meaningful: str = Field("", max_length=4000, description="What was meaningful.")
    difficult: str = Field("", max_length=4000, description="What was difficult.")
    curious: str = Field("", max_length=4000, description="What I am curious about.")


class Reflection(Model):
    """A learner's reflection on a week; a resubmission replaces it."""

    student_id: str = Field(description="The learner.")
    class_id: str | None = Field(None, description="The learner's class at the time, if any.")
    pack_id: str = Field(description="Pack.")
    week: int = Field(ge=1, description="Week number.")
    ratings: dict[str, Rating] = Field(
        default_factory=dict, description="Ratings per cycle id of the week."
    )
    feedback: ReflectionFeedback = Field(
        default_factory=ReflectionFeedback, description="Free texts."
    )
    at: datetime = Field(default_factory=utcnow, description="When it was submitted.")
