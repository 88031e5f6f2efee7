"""What every service shares: access to the engine, and the authorization checks."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..models import Classroom, ScenarioPack, User

if TYPE_CHECKING:
    from ..engine import Eduverse
    from ..storage import Storage


MAX_CODE_BYTES = 64 * 1024


def check_code_size(code: str, what: str = "the code") -> None:
    """Code sent by a learner is capped at 64 KiB (UTF-8): plenty for a course exercise."""
    size = len(code.encode("utf-8", "surrogatepass"))
    if size > MAX_CODE_BYTES:
        raise ValidationFailed(
            f"{what} is {size} bytes; the limit is {MAX_CODE_BYTES}", code="code_too_large"
        )


def new_id() -> str:
    """An opaque, unguessable id (hex UUID4)."""
    return uuid.uuid4().hex


class Service:
    """Base of the use-case services. Services are the only callers of storage; each takes the
    acting :class:`User` (from the auth token, never from a request body) where it matters."""

    def __init__(self, eduverse: Eduverse) -> None:
        self.ev = eduverse

    @property
    def storage(self) -> Storage:
        return self.ev.storage

    def pack(self, pack_id: str) -> ScenarioPack:
        return self.ev.pack(pack_id)

    # -- checks -----------------------------------------------------------------------------
    @staticmethod
    def require_role(actor: User, role: str) -> None:
        if actor.role != role:
            raise PermissionDenied(
                f"only a {role} may do this (you are a {actor.role})", code=f"{role}_only"
            )

    def owned_classroom(self, actor: User, class_id: str) -> Classroom:
        """The class ``class_id`` if ``actor`` is its instructor; else NotFound/PermissionDenied."""
        classroom = self.storage.get_classroom(class_id)
        if classroom is None:
            raise NotFound(f"class {class_id!r} not found", code="class_not_found")
        if classroom.instructor_id != actor.id:
            raise PermissionDenied(
                f"class {class_id!r} belongs to another instructor", code="not_class_instructor"
            )
        return classroom

    def learner_pack(self, actor: User, pack_id: str | None = None) -> ScenarioPack:
        """The pack a learner means: ``pack_id`` when given, else their class's pack, else the
        default pack (so a class on another course never lands in the default one)."""
        if pack_id:
            return self.pack(pack_id)
        membership = self.storage.get_membership(actor.id)
        classroom = self.storage.get_classroom(membership.class_id) if membership else None
        return self.pack(classroom.pack_id if classroom else self.ev.settings.default_pack)

    def user(self, user_id: str) -> User:
        user = self.storage.get_user(user_id)
        if user is None:
            raise NotFound(f"user {user_id!r} not found", code="user_not_found")
        return user
