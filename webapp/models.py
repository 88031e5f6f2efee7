"""Request and response bodies of the JSON API (pydantic; they are the OpenAPI schemas).

Requests forbid unknown fields, so a typo is a 422 naming it rather than a silently ignored
value. Responses start with ``ok: true``; errors have the shape of ``webapp.errors``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from eduverse_core.models import Classroom, User


class Body(BaseModel):
    """Base of request bodies and queries: strict about unknown fields."""

    model_config = ConfigDict(extra="forbid")


class Ok(BaseModel):
    """Base of success responses."""

    ok: Literal[True] = True


# -- users and sessions -------------------------------------------------------------------------
class UserOut(BaseModel):
    """A user as the API shows them: never a password or hash."""

    id: str
    email: str
    name: str
    role: Literal["student", "instructor"]
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls.model_validate(user.public())


class ClassSummary(BaseModel):
    """A class as its members see it."""

    id: str
    name: str
    pack_id: str

    @classmethod
    def of(cls, classroom: Classroom) -> ClassSummary:
        return cls(id=classroom.id, name=classroom.name, pack_id=classroom.pack_id)


class SignupBody(Body):
    email: str = Field(max_length=254, description="E-mail address; the log-in name.")
    name: str = Field(max_length=200, description="Display name.")
    password: str = Field(max_length=1024, description="At least 8 characters.")
    role: Literal["student", "instructor"] = Field(
        "student", description="`instructor` only where the server allows self sign-up."
    )


class LoginBody(Body):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class PasswordBody(Body):
    old_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class SessionOut(Ok):
    token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: datetime
    user: UserOut


class MeOut(Ok):
    user: UserOut
    class_: ClassSummary | None = Field(None, alias="class", serialization_alias="class")
    pack_id: str = Field(description="The pack this learner follows.")

    model_config = ConfigDict(populate_by_name=True)


# -- health ---------------------------------------------------------------------------------------
class HealthOut(Ok):
    """The process is up."""


class ReadyOut(Ok):
    packs: list[str] = Field(description="Ids of the packs loaded.")


# -- packs as learners see them ------------------------------------------------------------------
class CharacterOut(BaseModel):
    id: str | None
    name: str
    role: str
    portrait: str | None


class SceneOut(BaseModel):
    character: CharacterOut
    title: str
    subtitle: str
    content: str = Field(description="Sanitised HTML.")


class LectureSectionOut(BaseModel):
    heading: str
    text: str = Field(description="Sanitised HTML.")
    code: str


class LectureOut(BaseModel):
    character: CharacterOut
    title: str
    key_takeaway: str
    sandbox_code: str
    sections: list[LectureSectionOut]


class TrackOut(BaseModel):
    task: SceneOut
    briefing: SceneOut
    starter_code: str
    hint_thresholds: list[int] = Field(description="Failed attempts that unlock each hint.")
    test: str | None = Field(None, description="The test code, only where the pack shows it.")


class SyntaxOut(BaseModel):
    key: str
    title: str
    description: str
    example: str


class CycleOut(BaseModel):
    id: str
    position: int
    title: str
    filename: str
    syntax: list[SyntaxOut]
    lecture: LectureOut
    tracks: dict[str, TrackOut]


class WeekOut(BaseModel):
    pack_id: str
    number: int
    title: str
    locale: str
    intro: SceneOut
    cycles: list[CycleOut]


class CycleTitleOut(BaseModel):
    id: str
    position: int
    title: str


class WeekTitleOut(BaseModel):
    number: int
    title: str
    cycles: list[CycleTitleOut]


class PackOutlineOut(BaseModel):
    id: str
    version: str
    title: str
    description: str
    locale: str
    locales: list[str]
    cast: list[CharacterOut]
    coding_intro: SceneOut | None
    finale: SceneOut | None
    weeks: list[WeekTitleOut]


class PacksOut(Ok):
    packs: list[PackOutlineOut]


class PackOut(Ok):
    pack: PackOutlineOut


class WeekResponse(Ok):
    week: WeekOut


class LocaleQuery(Body):
    locale: str | None = Field(None, max_length=16, description="e.g. `ko` or `en`.")
