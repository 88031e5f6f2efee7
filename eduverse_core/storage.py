"""The storage port: what every backend must do, and the contract suite that proves it.

Services are the only callers. Every method that changes more than one record is atomic: either
all of it happens or none of it. Methods that take a ``mutate`` or ``deltas`` callable run it
inside the backend's transaction; a backend may run it more than once (Firestore retries
contended transactions), so those callables must be pure.

Counters are the backend-neutral form of the analytics aggregates: named integers grouped in a
*scope* (``class:<id>``, ``user:<id>:<pack>``…). The services decide names; backends only add.
Scopes whose name is ``class:<id>`` or starts with ``class:<id>:`` belong to that class and are
removed with it.

The contract suite (:class:`StorageContract`) is the definition of correct behaviour: a backend
is a subclass providing a ``storage`` fixture. Behaviour two backends disagree on is a bug.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable

from .models import Classroom, Membership, Progress, Question, Reflection, SubmissionLog, User

CounterDeltas = Mapping[str, Mapping[str, int]]
"""``{scope: {counter name: amount to add}}``; amounts may be negative."""

ProgressMutation = Callable[[Progress], Progress]
ReflectionDeltas = Callable[[Reflection | None, Reflection], CounterDeltas]


@runtime_checkable
class Storage(Protocol):
    """The port every storage backend implements. Errors: ``Conflict``, ``NotFound``,
    ``StorageError`` (backend unreachable or broken); never a driver exception."""

    # -- lifecycle ------------------------------------------------------------------------
    def ping(self) -> None:
        """Raise ``StorageError`` unless the backend is reachable and its schema current."""

    def close(self) -> None:
        """Release connections. Idempotent."""

    # -- users ----------------------------------------------------------------------------
    def create_user(self, user: User) -> None:
        """Insert; ``Conflict(code="email_taken")`` when the e-mail exists."""

    def get_user(self, user_id: str) -> User | None: ...

    def get_user_by_email(self, email: str) -> User | None:
        """Look up by normalised e-mail (the caller normalises)."""

    def update_user(self, user: User) -> None:
        """Replace the stored user with the same id; ``NotFound`` if absent; ``Conflict`` if the
        new e-mail belongs to someone else."""

    def list_users(self, role: str | None = None) -> list[User]:
        """All users (of ``role``), oldest first."""

    # -- progress -------------------------------------------------------------------------
    def get_progress(self, user_id: str, pack_id: str) -> Progress | None: ...

    def update_progress(self, user_id: str, pack_id: str, mutate: ProgressMutation) -> Progress:
        """Atomically read (or start from ``Progress(user_id=…, pack_id=…)``), apply
        ``mutate``, store and return the result."""

    def list_progress(self, user_ids: list[str], pack_id: str) -> dict[str, Progress]:
        """Progress of each listed user that has any, by user id."""

    # -- classes --------------------------------------------------------------------------
    def create_classroom(self, classroom: Classroom) -> None:
        """Insert; ``Conflict(code="invite_code_taken")`` when the invite code is in use."""

    def get_classroom(self, class_id: str) -> Classroom | None: ...

    def get_classroom_by_invite_code(self, invite_code: str) -> Classroom | None: ...

    def list_classrooms(self, instructor_id: str | None = None) -> list[Classroom]:
        """Classes (of one instructor), oldest first."""

    def set_invite_code(self, class_id: str, invite_code: str) -> Classroom:
        """Change the code; ``NotFound`` / ``Conflict(code="invite_code_taken")``."""

    def delete_classroom(self, class_id: str) -> None:
        """Atomically remove the class, its memberships, its questions and its counter scopes;
        submission logs and reflections stay (history). ``NotFound`` if absent."""

    def join_classroom(self, membership: Membership) -> Membership | None:
        """Atomically make the user a member of ``membership.class_id``, ending any previous
        membership (returned). ``NotFound`` if the class does not exist."""

    def leave_classroom(self, user_id: str) -> Membership | None:
        """End the user's membership; return it (None if they had none)."""

    def get_membership(self, user_id: str) -> Membership | None: ...

    def list_members(self, class_id: str) -> list[Membership]:
        """Members, earliest joined first."""

    # -- questions ------------------------------------------------------------------------
    def add_question(self, question: Question) -> None: ...

    def get_question(self, question_id: str) -> Question | None: ...

    def update_question(self, question: Question) -> None:
        """Replace by id; ``NotFound`` if absent."""

    def list_questions(
        self, *, class_id: str | None = None, student_id: str | None = None
    ) -> list[Question]:
        """Questions matching every given filter, newest first."""

    # -- submissions ----------------------------------------------------------------------
    def record_submission(
        self, log: SubmissionLog, counters: CounterDeltas, mutate_progress: ProgressMutation | None
    ) -> Progress:
        """In one transaction: store ``log``, add ``counters``, and apply ``mutate_progress``
        (if given) to the progress of ``(log.student_id, log.pack_id)``; return that progress."""

    def list_submissions(
        self,
        *,
        class_id: str | None = None,
        student_id: str | None = None,
        pack_id: str | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[SubmissionLog]:
        """Logs matching every given filter, oldest first (ties by id). ``after`` is the id of
        the last log of the previous page."""

    # -- reflections ----------------------------------------------------------------------
    def save_reflection(self, reflection: Reflection, deltas: ReflectionDeltas) -> Reflection | None:
        """In one transaction: replace the reflection of (student, pack, week), add
        ``deltas(previous, reflection)`` to the counters; return the previous one."""

    def get_reflection(self, student_id: str, pack_id: str, week: int) -> Reflection | None: ...

    def list_reflections(
        self,
        *,
        student_id: str | None = None,
        class_id: str | None = None,
        pack_id: str | None = None,
        week: int | None = None,
    ) -> list[Reflection]:
        """Reflections matching every given filter, by week then time."""

    # -- counters -------------------------------------------------------------------------
    def get_counters(self, scope: str) -> dict[str, int]:
        """Every counter of ``scope`` (empty when none)."""


StorageFactory = Callable[[str], Storage]
"""Builds a backend from the storage URL (e.g. ``sqlite:///eduverse.db``)."""


def counters_total(*deltas: CounterDeltas) -> dict[str, dict[str, int]]:
    """Sum several delta maps into one (helper for services and tests)."""
    total: dict[str, dict[str, int]] = {}
    for delta in deltas:
        for scope, names in delta.items():
            bucket = total.setdefault(scope, {})
            for name, amount in names.items():
                bucket[name] = bucket.get(name, 0) + amount
    return total

