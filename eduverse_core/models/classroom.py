"""Classes and their membership."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, computed_field, model_validator

from .common import Model, utcnow

# No 0/O, 1/I/L: codes are read aloud and copied from a projector.
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_CODE_LENGTH = 6


class ClassDetails(Model):
    """What a class is, as an instructor describes it."""

    subject: str = Field(min_length=1, max_length=120, description="Course subject.")
    year: int = Field(ge=2000, le=2100, description="Academic year.")
    semester: str = Field(min_length=1, max_length=20, description="Semester, e.g. `1` or `fall`.")
    department: str = Field("", max_length=120, description="Department.")
    section: str = Field("", max_length=40, description="Section, e.g. `A`.")


class Classroom(Model):
    """A class an instructor runs."""

    id: str = Field(description="Opaque class id.")
    details: ClassDetails = Field(description="Subject, year, semester, department, section.")
    instructor_id: str = Field(description="The owning instructor.")
    pack_id: str = Field(description="The pack the class follows.")
    invite_code: str = Field(
        pattern=f"^[{INVITE_ALPHABET}]{{{INVITE_CODE_LENGTH}}}$",
        description="Code students join with.",
    )
    created_at: datetime = Field(default_factory=utcnow, description="Creation time.")

    @model_validator(mode="before")
    @classmethod
    def _drop_derived_name(cls, data: Any) -> Any:
        # `name` is derived; a dump (which includes it) must validate back unchanged.
        if isinstance(data, dict) and "name" in data:
            data = {k: v for k, v in data.items() if k != "name"}
        return data

    @computed_field(description="Display name derived from the details.")  # type: ignore[prop-decorator]
    @property
    def name(self) -> str:
        d = self.details
        parts = [f"{d.year}-{d.semester}", d.subject]
        if d.department:
            parts.append(d.department)
        if d.section:
            parts.append(f"({d.section})")
        return " ".join(parts)


class Membership(Model):
    """A student's membership in a class (a student is in at most one class)."""

    class_id: str = Field(description="The class.")
    user_id: str = Field(description="The student.")
    joined_at: datetime = Field(default_factory=utcnow, description="When they joined.")
