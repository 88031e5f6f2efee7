"""Events: what happened, for plugins that notify, audit or sync with an LMS."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .models.common import utcnow

# Event names are past tense, dash-separated. Plugins may emit their own names too.
USER_SIGNED_UP = "user-signed-up"
USER_LOGGED_IN = "user-logged-in"
SUBMISSION_GRADED = "submission-graded"
CYCLE_COMPLETED = "cycle-completed"
CLASS_CREATED = "class-created"
CLASS_DELETED = "class-deleted"
CLASS_JOINED = "class-joined"
CLASS_LEFT = "class-left"
QUESTION_ASKED = "question-asked"
QUESTION_ANSWERED = "question-answered"
REFLECTION_SUBMITTED = "reflection-submitted"
PASSWORD_RESET = "password-reset"


@dataclass(frozen=True)
class Event:
    """Something that happened. ``data`` holds ids and small values, never secrets or code."""

    name: str
    actor_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=utcnow)
