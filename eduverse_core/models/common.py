"""Pieces every model shares: the strict base class, localised text, time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

LOCALE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"

LocalizedText = Annotated[
    str | dict[Annotated[str, Field(pattern=LOCALE_PATTERN)], str],
    Field(
        description="Text shown to people: either one string used for every locale, or a map"
        " from locale code (e.g. `ko`, `en`) to the text in that locale."
    ),
]


class Model(BaseModel):
    """Strict base: unknown fields are errors, so a misspelt key never goes unnoticed."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (storage round-trips keep the zone)."""
    return datetime.now(UTC)


def localize(text: str | dict[str, str], locale: str, fallback: str | None = None) -> str:
    """Pick ``text`` in ``locale``; else the fallback locale; else any; '' for an empty map."""
    if isinstance(text, str):
        return text
    for candidate in (locale, fallback):
        if candidate and candidate in text:
            return text[candidate]
    return next(iter(text.values()), "")
