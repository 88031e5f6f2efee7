"""Classes: create, invite codes, join/leave, members with progress, delete."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .. import events
from ..errors import Conflict, NotFound, ValidationFailed
from ..models import (
    INVITE_ALPHABET,
    INVITE_CODE_LENGTH,
    ClassDetails,
    Classroom,
    Membership,
    Progress,
    SubmissionLog,
    User,
)
from ..passwords import hash_password
from .base import Service, new_id
from .progress import is_online

_CODE_ATTEMPTS = 20  # 31^6 ≈ 887M codes: a collision twice in a row is already a fluke

# A progress write takes its time before it commits, so a poll may read a later write first and
# move its cursor past an earlier one still in flight (or stamped by a server whose clock is a
# little behind). The monitor looks back this far behind the cursor; a row seen twice is
# harmless, as clients replace member rows by id.
MONITOR_LOOKBACK = timedelta(seconds=5)
EXPORT_PAGE_SIZE = 500
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def generate_temporary_password() -> str:
    """Twelve characters in three groups (``K7PX-M2QD-R9TB``): easy to read aloud, ~60 bits."""
    groups = ("".join(secrets.choice(INVITE_ALPHABET) for _ in range(4)) for _ in range(3))
    return "-".join(groups)


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


@dataclass(frozen=True)
class ClassView:
    """A class with its members, as its instructor's class page shows it."""

    classroom: Classroom
    members: list[MemberView]


@dataclass(frozen=True)
class CountedClass:
    """A class, how many students are in it and how many of its questions wait for an
    answer."""

    classroom: Classroom
    member_count: int
    unanswered_questions: int = 0


@dataclass(frozen=True)
class MemberActivity:
    """A member's state in the monitor feed. No account is read for it: the feed is polled
    every few seconds, and names do not change while a lesson runs (see ``members``)."""

    user_id: str
    joined_at: datetime
    progress: Progress | None
    online: bool

    @property
    def changed_at(self) -> datetime:
        """The member's latest change: every progress write stamps ``last_active``."""
        active = self.progress.last_active if self.progress else None
        return max(self.joined_at, active) if active else self.joined_at


@dataclass(frozen=True)
class MonitorFeed:
    """What an instructor's live view needs since its last poll."""

    cursor: str  # pass back as ``since`` next time
    member_ids: list[str]  # every current member, earliest joined first: who left is absent
    online_ids: list[str]  # members active in the last five minutes, changed or not
    changed: list[MemberActivity]  # members who joined or whose progress changed since
    unanswered_questions: int
    newest_question_at: datetime | None


@dataclass(frozen=True)
class SubmissionExport:
    """A class's submission logs with their authors, read lazily (see ``submission_export``)."""

    classroom: Classroom
    rows: Iterator[tuple[SubmissionLog, User | None]]


def encode_cursor(moment: datetime) -> str:
    """An opaque monitor cursor for ``moment`` (microseconds since the epoch, base64url)."""
    micros = (moment - _EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(max(micros, 0).to_bytes(8, "big")).decode().rstrip("=")


def decode_cursor(cursor: str) -> datetime:
    """The moment a cursor from :func:`encode_cursor` stands for; ``ValidationFailed`` else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if len(raw) != 8:
            raise ValueError("wrong length")
        return _EPOCH + timedelta(microseconds=int.from_bytes(raw, "big"))
    except (ValueError, binascii.Error, OverflowError):
        raise ValidationFailed(
            f"invalid cursor {cursor!r}: pass back the `cursor` of the previous response",
            code="invalid_cursor",
        ) from None


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

    def list_mine_with_counts(self, actor: User) -> list[CountedClass]:
        """The actor's classes with their sizes and unanswered questions. One member listing
        and one question summary per class: an instructor runs a handful of classes."""
        return [
            CountedClass(
                c,
                len(self.storage.list_members(c.id)),
                self.storage.question_summary(c.id).unanswered,
            )
            for c in self.list_mine(actor)
        ]

    def detail(self, actor: User, class_id: str) -> ClassView:
        """A class with its members' progress, for its instructor."""
        self.require_role(actor, "instructor")
        classroom = self.owned_classroom(actor, class_id)
        return ClassView(classroom, self._member_views(classroom))

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
        return self._member_views(self.owned_classroom(actor, class_id))

    def _member_views(self, classroom: Classroom) -> list[MemberView]:
        memberships = self.storage.list_members(classroom.id)
        ids = [m.user_id for m in memberships]
        progress = self.storage.list_progress(ids, classroom.pack_id)
        users = self.storage.get_users(ids)  # at once, not one read per member
        views = []
        for membership in memberships:
            user = users.get(membership.user_id)
            if user is None:  # account removed; the membership is stale
                continue
            p = progress.get(user.id)
            views.append(MemberView(user, membership, p, is_online(p, membership.joined_at)))
        return views

    def _owned_member(self, actor: User, class_id: str, student_id: str) -> Classroom:
        """The actor's class ``class_id``, checking ``student_id`` is in it (``404
        not_a_member`` otherwise, so the class's pages cannot probe other learners)."""
        self.require_role(actor, "instructor")
        classroom = self.owned_classroom(actor, class_id)
        membership = self.storage.get_membership(student_id)
        if membership is None or membership.class_id != class_id:
            raise NotFound(f"{student_id!r} is not in class {class_id!r}", code="not_a_member")
        return classroom

    def member_progress(self, actor: User, class_id: str, student_id: str) -> Progress:
        """One member's progress (incl. live code), for the class's instructor only."""
        classroom = self._owned_member(actor, class_id, student_id)
        stored = self.storage.get_progress(student_id, classroom.pack_id)
        return stored or Progress(user_id=student_id, pack_id=classroom.pack_id)

    def reset_member_password(self, actor: User, class_id: str, student_id: str) -> str:
        """Give a member who forgot their password a temporary one, shown once to their
        class's instructor; every session of the member ends (``token_version`` bumps).
        Returns the temporary password (only its hash is stored)."""
        self._owned_member(actor, class_id, student_id)
        member = self.storage.get_user(student_id)
        if member is None:
            raise NotFound(f"no user {student_id!r}", code="user_not_found")
        temporary = generate_temporary_password()
        self.storage.update_user(
            member.model_copy(
                update={
                    "password_hash": hash_password(temporary),
                    "token_version": member.token_version + 1,
                }
            )
        )
        self.ev.track(events.PASSWORD_RESET, actor.id, class_id=class_id, user_id=student_id)
        return temporary

    def monitor(self, actor: User, class_id: str, since: str | None = None) -> MonitorFeed:
        """What changed in the class since the cursor ``since`` (everything without one).

        Built for polling every few seconds: four storage calls (class, members, everyone's
        progress at once, a summary of the questions) whatever the class size, none of them
        growing with the class's history, and for an unchanged class the same feed again, so
        a client can compare it cheaply (the web layer makes an ETag). On Firestore, which
        bills documents, a poll reads the class, each member's membership and progress, and
        two for the questions: ~2 × members + 3.
        """
        self.require_role(actor, "instructor")
        classroom = self.owned_classroom(actor, class_id)
        watermark = decode_cursor(since) if since is not None else None
        memberships = self.storage.list_members(class_id)
        progress = self.storage.list_progress([m.user_id for m in memberships], classroom.pack_id)
        activity = []
        for m in memberships:
            p = progress.get(m.user_id)
            activity.append(MemberActivity(m.user_id, m.joined_at, p, is_online(p, m.joined_at)))
        # The cursor never moves back (a member who left takes their time with them).
        newest = max([a.changed_at for a in activity], default=_EPOCH)
        floor = watermark - MONITOR_LOOKBACK if watermark is not None else None
        questions = self.storage.question_summary(class_id)  # a count, not every question
        return MonitorFeed(
            cursor=encode_cursor(max(newest, watermark) if watermark is not None else newest),
            member_ids=[a.user_id for a in activity],
            online_ids=[a.user_id for a in activity if a.online],
            changed=[a for a in activity if floor is None or a.changed_at > floor],
            unanswered_questions=questions.unanswered,
            newest_question_at=questions.newest_at,
        )

    def submission_export(
        self, actor: User, class_id: str, page_size: int | None = None
    ) -> SubmissionExport:
        """The class's submission logs, oldest first, each with its author's account (None
        once deleted). Checked now, read later: the logs are fetched ``page_size`` (default
        ``EXPORT_PAGE_SIZE``) at a time as the caller iterates, so a term of logs never sits
        in memory at once."""
        size = EXPORT_PAGE_SIZE if page_size is None else page_size
        if size < 1:
            raise ValueError(f"page_size must be at least 1, got {size}")
        self.require_role(actor, "instructor")
        classroom = self.owned_classroom(actor, class_id)
        return SubmissionExport(classroom, self._logs_with_authors(class_id, size))

    def _logs_with_authors(
        self, class_id: str, page_size: int
    ) -> Iterator[tuple[SubmissionLog, User | None]]:
        authors: dict[str, User | None] = {}  # each account read once, a page's new ones at once
        after: str | None = None
        while True:
            page = self.storage.list_submissions(class_id=class_id, limit=page_size, after=after)
            new = sorted({log.student_id for log in page} - authors.keys())
            if new:
                found = self.storage.get_users(user_ids=new)
                authors.update((user_id, found.get(user_id)) for user_id in new)
            for log in page:
                yield log, authors[log.student_id]
            if len(page) < page_size:
                return
            after = page[-1].id

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
