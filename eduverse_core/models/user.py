"""Accounts and a learner's progress through a pack."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from .common import Model, utcnow

Role = Literal["student", "instructor"]


class User(Model):
    """A person with an account. ``password_hash`` never leaves the core."""

    id: str = Field(description="Opaque user id.")
    email: str = Field(description="Normalised (lower-case, trimmed) e-mail address; unique.")
    name: str = Field(description="Display name.")
    role: Role = Field(description="`student` or `instructor`.")
    password_hash: str = Field(description="KDF hash (`scrypt$…`); legacy forms are re-hashed.")
    created_at: datetime = Field(default_factory=utcnow, description="When the account was made.")
    token_version: int = Field(
        0, ge=0, description="Bumped on password change or logout-everywhere; old tokens die."
    )

    def public(self) -> dict[str, Any]:
        """What may be shown about this user: everything but secrets."""
        return self.model_dump(mode="json", exclude={"password_hash", "token_version"})


class PauseState(Model):
    """Where a learner paused, so they resume exactly there."""

    week: int = Field(ge=1, description="Week number.")
    cycle: str = Field(description="Cycle id.")
    scene: str = Field(description="Scene name (e.g. `task`, `lecture`, `coding`).")
    track: Literal["beginner", "advanced"] = Field("beginner", description="Track in use.")
    at: datetime = Field(default_factory=utcnow, description="When the pause was set.")


class Progress(Model):
    """A learner's position and history in one pack. Only services change it."""

    user_id: str = Field(description="The learner.")
    pack_id: str = Field(description="The pack.")
    week: int = Field(1, ge=1, description="Current week number.")
    cycle: int = Field(1, ge=1, description="Current cycle, 1-based position within the week.")
    completed: list[str] = Field(default_factory=list, description="Ids of completed cycles.")
    intros_seen: list[int] = Field(
        default_factory=list, description="Weeks whose intro scene was shown."
    )
    coding_intro_seen: bool = Field(False, description="Whether the coding intro was shown.")
    failed_attempts: dict[str, int] = Field(
        default_factory=dict,
        description="Failed gradings per `cycle_id:track`; unlocks hints.",
    )
    pause_state: PauseState | None = Field(None, description="Where the learner paused.")
    live_code: str = Field("", description="The latest editor text (at most 64 KiB).")
    live_code_cycle: str | None = Field(None, description="Cycle the live code belongs to.")
    last_active: datetime | None = Field(None, description="Last sign of activity.")
    finished: bool = Field(False, description="Whether the last cycle is completed.")
