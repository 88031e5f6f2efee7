"""Questions learners ask from inside a scene."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .common import Model, utcnow


class SceneContext(Model):
    """Where a question was asked."""

    week: int = Field(ge=1, description="Week number.")
    cycle: str | None = Field(None, description="Cycle id, if asked inside a cycle.")
    scene: str = Field("", max_length=40, description="Scene name (e.g. `lecture`).")
    character: str = Field("", max_length=40, description="Character on screen.")
    excerpt: str = Field("", max_length=2000, description="Text on screen when asked.")


class Question(Model):
    """A learner's question and the instructor's answer."""

    id: str = Field(description="Opaque id.")
    class_id: str = Field(description="The class whose instructor answers.")
    student_id: str = Field(description="Who asked.")
    text: str = Field(min_length=1, max_length=4000, description="The question.")
    context: SceneContext = Field(description="Where it was asked.")
    created_at: datetime = Field(default_factory=utcnow, description="When it was asked.")
    answer: str | None = Field(None, max_length=8000, description="The answer, once given.")
    answered_at: datetime | None = Field(None, description="When it was answered.")
    answered_by: str | None = Field(None, description="Who answered.")
    resolved: bool = Field(False, description="Whether it is answered.")
    notified: bool = Field(False, description="Whether the learner has seen the answer.")
