"""Classes: create, invite codes, join/leave, members with progress, delete."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from .. import events
from ..errors import Conflict, NotFound, ValidationFailed
from ..models import (
    INVITE_ALPHABET,
    INVITE_CODE_LENGTH,
    ClassDetails,
    Classroom,
    Membership,
    Progress,
    User,
)
from .base import Service, new_id
from .progress import is_online

_CODE_ATTEMPTS = 20  # 31^6 ≈ 887M codes: a collision twice in a row is already a fluke


def generate_invite_code() -> str:
    """Six characters from an alphabet without look-alikes (no 0/O, 1/I/L)."""
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def normalize_invite_code(code: str) -> str:
    """Upper-cased, spaces and dashes removed (people type ``abc-def``)."""
    return code.strip().upper().replace("-", "").replace(" ", "")


@dataclass(frozen=True)
class MemberView:
    """A member as the class's instructor sees them."""

    user: User
    membership: Membership
    progress: Progress | None
    online: bool


class ClassService(Service):
    """Everything about classes. Instructors manage their own classes; students join one."""

    def create(self, actor: User, details: ClassDetails, pack_id: str | None = None) -> Classroom:
        """A new class owned by ``actor`` with a fresh, unique invite code."""
        self.require_role(actor, "instructor")
        pack = self.pack(pack_id or self.ev.settings.default_pack)
        for _ in range(_CODE_ATTEMPTS):
            classroom = Classroom(
                id=new_id(),
                details=details,
                instructor_id=actor.id,
                pack_id=pack.id,
                invite_code=generate_invite_code(),
            )
            try:
                self.storage.create_classroom(classroom)
            except Conflict:
                continue
            self.ev.track(events.CLASS_CREATED, actor.id, class_id=classroom.id)
            return classroom
        raise Conflict("could not find a free invite code; try again", code="invite_code_taken")

    def list_mine(self, actor: User) -> list[Classroom]:
        """The actor's classes, oldest first."""
        self.require_role(actor, "instructor")
        return self.storage.list_classrooms(actor.id)

    def get(self, actor: User, class_id: str) -> Classroom:
        """A class its instructor may see."""
        self.require_role(actor, "instructor")
        return self.owned_classroom(actor, class_id)

    def regenerate_invite_code(self, actor: User, class_id: str) -> Classroom:
        """A new code; the old one stops working at once."""
        self.require_role(actor, "instructor")
        self.owned_classroom(actor, class_id)
        for _ in range(_CODE_ATTEMPTS):
            try:
                return self.storage.set_invite_code(class_id, generate_invite_code())
            except Conflict:
                continue
        raise Conflict("could not find a free invite code; try again", code="invite_code_taken")

    def delete(self, actor: User, class_id: str) -> None:
        """Delete the class; its members are detached in the same transaction."""
        self.require_role(actor, "instructor")
        self.owned_classroom(actor, class_id)
        self.storage.delete_classroom(class_id)
        self.ev.track(events.CLASS_DELETED, actor.id, class_id=class_id)

    def members(self, actor: User, class_id: str) -> list[MemberView]:
        """Members with their progress in the class's pack and whether they are online."""
        self.require_role(actor, "instructor")
        classroom = self.owned_classroom(actor, class_id)
        memberships = self.storage.list_members(class_id)
        ids = [m.user_id for m in memberships]
        progress = self.storage.list_progress(ids, classroom.pack_id)
        views = []
        for membership in memberships:
            user = self.storage.get_user(membership.user_id)
            if user is None:  # account removed; the membership is stale
                continue
            p = progress.get(user.id)
            views.append(MemberView(user, membership, p, is_online(p)))
        return views

    def member_progress(self, actor: User, class_id: str, student_id: str) -> Progress:
        """One member's progress (incl. live code), for the class's instructor only."""
        self.require_role(actor, "instructor")
        classroom = self.owned_classroom(actor, class_id)
        membership = self.storage.get_membership(student_id)
        if membership is None or membership.class_id != class_id:
            raise NotFound(f"{student_id!r} is not in class {class_id!r}", code="not_a_member")
        stored = self.storage.get_progress(student_id, classroom.pack_id)
        return stored or Progress(user_id=student_id, pack_id=classroom.pack_id)

    # -- students -----------------------------------------------------------------------------
    def join(self, actor: User, invite_code: str) -> Classroom:
        """Join the class with this code (leaving any previous class, atomically)."""
        self.require_role(actor, "student")
        code = normalize_invite_code(invite_code)
        if not code:
            raise ValidationFailed("an invite code is required", code="invalid_invite_code")
        classroom = self.storage.get_classroom_by_invite_code(code)
        if classroom is None:
            raise NotFound(f"no class has invite code {code!r}", code="invite_code_not_found")
        self.storage.join_classroom(Membership(class_id=classroom.id, user_id=actor.id))
        self.ev.track(events.CLASS_JOINED, actor.id, class_id=classroom.id)
        return classroom

    def leave(self, actor: User) -> None:
        """Leave the current class; ``NotFound`` when in none."""
        self.require_role(actor, "student")
        previous = self.storage.leave_classroom(actor.id)
        if previous is None:
            raise NotFound("you are not in a class", code="not_in_class")
        self.ev.track(events.CLASS_LEFT, actor.id, class_id=previous.class_id)

    def my_class(self, actor: User) -> Classroom | None:
        """The actor's class, if any."""
        membership = self.storage.get_membership(actor.id)
        return self.storage.get_classroom(membership.class_id) if membership else None
