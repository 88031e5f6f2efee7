"""The storage port: what every backend must do, and the contract suite that proves it.

Services are the only callers. Every method that changes more than one record is atomic: either
all of it happens or none of it. Methods that take a ``mutate`` or ``deltas`` callable run it
inside the backend's transaction; a backend may run it more than once (Firestore retries
contended transactions), so those callables must be pure.

Counters are the backend-neutral form of the analytics aggregates: named integers grouped in a
*scope* (``class:<id>``, ``user:<id>:<pack>``…). The services decide names; backends only add.
Scopes whose name is ``class:<id>`` or starts with ``class:<id>:`` belong to that class and are
removed with it.

Conventions every backend follows (the contract pins each down):

* inserting a record whose id exists raises ``Conflict(code="id_taken")`` and changes nothing;
* times come back as the same timezone-aware instant (the offset may be normalised to UTC);
* ``list_submissions(after=<unknown id>)`` raises ``NotFound``;
* ``record_submission(…, mutate_progress=None)`` stores no progress and returns the stored one
  (or a fresh default).
* auth state answers never depend on how far a backend has purged: an expired revocation reads
  as not revoked, an ended rate-limit window counts nothing in a later one; its times must be
  timezone-aware (``ValueError`` otherwise).
* a published pack's document is opaque JSON to a backend: stored as a copy, read back as a
  fresh object equal to the one given, whatever its size up to
  :data:`PUBLISHED_DOCUMENT_CAPACITY`.

The contract suite (:class:`StorageContract`) is the definition of correct behaviour: a backend
is a subclass providing a ``storage`` fixture. Behaviour two backends disagree on is a bug.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

from pydantic import AwareDatetime, Field

from .errors import Conflict, EduverseError, NotFound, StorageError
from .models import (
    INVITE_ALPHABET,
    INVITE_CODE_LENGTH,
    Classroom,
    Membership,
    Model,
    Outcome,
    PauseState,
    Progress,
    Question,
    Reflection,
    SubmissionLog,
    User,
    utcnow,
)

if TYPE_CHECKING:
    import pytest

CounterDeltas = Mapping[str, Mapping[str, int]]
"""``{scope: {counter name: amount to add}}``; amounts may be negative."""

ProgressMutation = Callable[[Progress], Progress]
ReflectionDeltas = Callable[[Reflection | None, Reflection], CounterDeltas]

PUBLISHED_DOCUMENT_CAPACITY = 8 * 1024 * 1024
"""Bytes of JSON (UTF-8) that every backend stores in one published pack, at least. The
bundled course is about 1.5 MB: a backend with a smaller record limit (Firestore's documents
hold 1 MiB) compresses or splits the document; the port does not show it."""


class PublishedPackInfo(Model):
    """A publication of a scenario pack, without its document
    (:meth:`Storage.list_published_packs`)."""

    pack_id: str = Field(min_length=1, description="The pack's id.")
    version: str = Field(description="The pack's `version` when it was published.")
    published_at: AwareDatetime = Field(description="When it was published.")


class PublishedPack(PublishedPackInfo):
    """A publication with its document: the pack as JSON, as the models dump it."""

    document: dict[str, Any] = Field(description="The pack, as a JSON object.")

    @property
    def info(self) -> PublishedPackInfo:
        """The publication without the document."""
        return PublishedPackInfo(
            pack_id=self.pack_id, version=self.version, published_at=self.published_at
        )


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

    def get_users(self, user_ids: list[str]) -> dict[str, User]:
        """The users among ``user_ids`` that exist, by id (unknown ids are left out,
        duplicates read once), in as few round trips as the backend allows: a class page
        reads its members' accounts at once, not one by one."""

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

    def question_summary(self, class_id: str) -> QuestionSummary:
        """How many of the class's questions are unanswered (``resolved`` false) and when the
        newest was asked (None without questions). Polled every few seconds by the live
        monitor, so its cost must not grow with the number of questions the way reading
        them all would (SQLite: one aggregate query; Firestore: a count aggregation and one
        document)."""

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
    def save_reflection(
        self, reflection: Reflection, deltas: ReflectionDeltas
    ) -> Reflection | None:
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

    # -- auth state -----------------------------------------------------------------------
    # Tokens are stateless, so what must be shared between server instances lives here: the
    # revocation list and the rate-limit counters. Both are short-lived by nature; a backend
    # purges them cheaply (SQLite on write, Firestore through a TTL policy), never in bulk.
    def revoke_token(self, token_id: str, expires_at: datetime) -> None:
        """Remember that the token ``token_id`` is revoked until ``expires_at`` (after which it
        is expired anyway and the record may be purged). Idempotent; revoking again never
        shortens a revocation (the later expiry wins). ``ValueError`` for a naive time."""

    def is_token_revoked(self, token_id: str) -> bool:
        """Whether ``token_id`` is revoked now (by the wall clock: there is no ``now``
        argument). False once its ``expires_at`` has passed, purged or not, so the answer
        never depends on when a backend happens to purge."""

    def hit_rate_limit(self, key: str, window_seconds: int, now: datetime) -> int:
        """Atomically count one attempt for ``key`` in the fixed window of ``window_seconds``
        containing ``now`` (windows start at multiples of ``window_seconds`` since the epoch,
        see :func:`rate_limit_window`); return the number of attempts in that window including
        this one. Counts are kept per ``(key, window_seconds)``. Windows that ended before
        ``now`` may be purged. ``ValueError`` for a naive ``now`` or ``window_seconds < 1``."""

    def peek_rate_limit(self, key: str, window_seconds: int, now: datetime) -> int:
        """Attempts counted for ``key`` in the window containing ``now`` (0 when none). Reads
        only: checking a limit must not itself count as an attempt. ``ValueError`` as for
        :meth:`hit_rate_limit`."""

    # -- counters -------------------------------------------------------------------------
    def get_counters(self, scope: str) -> dict[str, int]:
        """Every counter of ``scope`` (empty when none)."""

    # -- published packs ------------------------------------------------------------------
    # `eduverse pack publish` stores a checked pack here, and every instance serves it without
    # a redeploy (the engine re-reads the list now and then). One publication per pack id:
    # the latest. There is no history; to roll back, publish the older pack file again.
    def publish_pack(
        self, pack_id: str, version: str, document: Mapping[str, Any], published_at: datetime
    ) -> None:
        """Store ``document`` as the publication of ``pack_id``, replacing any previous one.

        Atomic: a reader sees the previous publication or this one whole, never a mix, even
        where a backend stores a document in several pieces. ``document`` must be a JSON
        object that reads back equal (string keys; strings, finite numbers, booleans, null,
        lists and objects: see :func:`published_document_json`), else ``ValueError``; so must
        ``published_at`` be timezone-aware and ``pack_id`` non-empty. A copy is stored: changing
        ``document`` afterwards changes nothing. Documents up to
        :data:`PUBLISHED_DOCUMENT_CAPACITY` bytes of JSON are stored; a larger one may be
        ``StorageError``. The backend neither validates the pack nor orders versions: a lower
        ``version`` replaces a higher one (that is a rollback)."""

    def get_published_pack(self, pack_id: str) -> PublishedPack | None:
        """The publication of ``pack_id`` with its document (a fresh object on every call),
        or None when the pack was never published."""

    def list_published_packs(self) -> list[PublishedPackInfo]:
        """Every publication, by pack id, without documents: cheap enough to call every few
        seconds from every instance (it reads no document)."""


@dataclass(frozen=True)
class QuestionSummary:
    """What the live monitor needs to know about a class's questions."""

    unanswered: int
    newest_at: datetime | None


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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def published_document_json(document: Mapping[str, Any]) -> str:
    """``document`` as compact JSON text (UTF-8, not ASCII-escaped): the one encoding every
    backend stores a published pack in.

    ``ValueError`` unless ``document`` is a JSON object that reads back equal: ``json.dumps``
    alone would turn integer keys into strings and tuples into lists, and the document would
    then come back different from the one published.
    """
    if not isinstance(document, Mapping):
        raise ValueError(f"a published document is a JSON object, got {type(document).__name__}")
    try:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"a published document must be JSON: {exc}") from None
    if json.loads(text) != dict(document):
        raise ValueError(
            "a published document must be plain JSON (string keys, lists rather than tuples):"
            " it would not read back equal"
        )
    return text


def require_aware(moment: datetime, what: str) -> datetime:
    """``moment``, or ``ValueError`` naming ``what`` if it is naive.

    The auth-state methods take raw datetimes rather than models, so nothing validated them
    yet; a naive time (``datetime.utcnow()`` vs ``datetime.now()``) would silently shift
    expiries and windows by the server's UTC offset.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return moment


def rate_limit_window(now: datetime, window_seconds: int) -> tuple[datetime, datetime]:
    """``(start, end)`` in UTC of the fixed window of ``window_seconds`` containing ``now``.

    Windows start at multiples of ``window_seconds`` since the epoch, so every server instance
    (and every backend) puts an attempt in the same window without sharing anything but the
    clock. The one definition of a window: backends key their counters by its start.
    """
    if window_seconds < 1:
        raise ValueError(f"window_seconds must be at least 1, got {window_seconds}")
    size = timedelta(seconds=window_seconds)
    start = _EPOCH + size * ((require_aware(now, "now") - _EPOCH) // size)
    return start, start + size


# =============================================================================================
# StorageContract: the behaviour every backend must show
# =============================================================================================
# Test helpers live here, not under tests/, so that a backend shipped as its own distribution
# (e.g. plugins/eduverse-firestore) runs the very same suite. pytest is imported only inside
# the helpers that need it: `import eduverse_core.storage` must work without pytest installed.

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
"""The contract's clock: tests use fixed times so that orderings never depend on timing."""

KST = timezone(timedelta(hours=9), "KST")
"""A non-UTC zone for round-trip tests (the original deployment ran in Korea)."""

E = TypeVar("E", bound=BaseException)
_serial = itertools.count(1)


def at(minutes: float) -> datetime:
    """The time ``minutes`` after :data:`T0`."""
    return T0 + timedelta(minutes=minutes)


def from_now(minutes: float) -> datetime:
    """The wall-clock time ``minutes`` from now. Only for token revocations, which have no
    ``now`` argument: their expiry is judged by the backend's clock."""
    return utcnow() + timedelta(minutes=minutes)


def at_seconds(seconds: float) -> datetime:
    """The time ``seconds`` after :data:`T0`. T0 starts a window of every size the contract
    uses for rate limits (a minute, an hour), so window boundaries are easy to read."""
    return T0 + timedelta(seconds=seconds)


def _next() -> int:
    return next(_serial)


def invite_code(number: int) -> str:
    """A valid invite code, distinct for each ``number`` (its digits in the invite alphabet)."""
    base = len(INVITE_ALPHABET)
    digits = []
    for _ in range(INVITE_CODE_LENGTH):
        number, digit = divmod(number, base)
        digits.append(INVITE_ALPHABET[digit])
    return "".join(reversed(digits))


def make_user(**overrides: Any) -> User:
    """A valid student with a unique id and e-mail; keyword arguments replace fields."""
    n = _next()
    fields: dict[str, Any] = {
        "id": f"user-{n}",
        "email": f"user{n}@example.com",
        "name": f"User {n}",
        "role": "student",
        "password_hash": "scrypt$contract$hash",
        "created_at": at(n),
    }
    return User.model_validate({**fields, **overrides})


def make_classroom(**overrides: Any) -> Classroom:
    """A valid class with a unique id and invite code."""
    n = _next()
    fields: dict[str, Any] = {
        "id": f"class-{n}",
        "details": {"subject": "Python", "year": 2024, "semester": "1", "section": "A"},
        "instructor_id": "instructor-1",
        "pack_id": "logicore",
        "invite_code": invite_code(n),
        "created_at": at(n),
    }
    return Classroom.model_validate({**fields, **overrides})


def make_membership(class_id: str, user_id: str, **overrides: Any) -> Membership:
    """``user_id`` in ``class_id``."""
    fields: dict[str, Any] = {"class_id": class_id, "user_id": user_id, "joined_at": at(_next())}
    return Membership.model_validate({**fields, **overrides})


def make_question(**overrides: Any) -> Question:
    """An unanswered question with a unique id."""
    n = _next()
    fields: dict[str, Any] = {
        "id": f"question-{n}",
        "class_id": "class-q",
        "student_id": "student-1",
        "text": f"Why does my loop never end? ({n})",
        "context": {"week": 1, "cycle": "w1-loops", "scene": "lecture", "character": "prof"},
        "created_at": at(n),
    }
    return Question.model_validate({**fields, **overrides})


def make_submission(**overrides: Any) -> SubmissionLog:
    """A passed submission log with a unique id."""
    n = _next()
    fields: dict[str, Any] = {
        "id": f"submission-{n:06d}",
        "student_id": "student-1",
        "class_id": None,
        "pack_id": "logicore",
        "week": 1,
        "cycle": "w1-hello",
        "track": "beginner",
        "outcome": Outcome.PASSED,
        "message": "",
        "code": "print('hello')",
        "duration_ms": 12,
        "at": at(n),
    }
    return SubmissionLog.model_validate({**fields, **overrides})


def make_reflection(**overrides: Any) -> Reflection:
    """A week-1 reflection rating one cycle."""
    fields: dict[str, Any] = {
        "student_id": "student-1",
        "pack_id": "logicore",
        "week": 1,
        "ratings": {"w1-hello": {"comprehension": 4, "application": 3}},
        "feedback": {"meaningful": "print", "difficult": "loops", "curious": "classes"},
        "at": at(_next()),
    }
    return Reflection.model_validate({**fields, **overrides})


def make_pack_document(
    pack_id: str = "logicore", version: str = "1.0.0", **extra: Any
) -> dict[str, Any]:
    """A small published-pack document with every JSON type in it (the backend does not read
    it as a pack: any JSON object will do)."""
    document: dict[str, Any] = {
        "id": pack_id,
        "version": version,
        "title": {"ko": "로지코어 테크", "en": "LogiCore Tech"},
        "weeks": [{"number": 1, "cycles": [{"id": "w1-hello", "code": "print('안녕')\n"}]}],
        "ratio": 0.25,
        "big": 2**53 + 1,
        "flags": [True, False, None],
        "empty": {},
        "emoji 🐍": '\u0000 and \\ and "quotes"',
    }
    document.update(extra)
    return document


def incompressible_text(size: int, seed: int = 0) -> str:
    """``size`` characters that compress poorly (random letters, digits and Hangul), so a
    document made of them is large even for a backend that compresses."""
    rng = random.Random(seed)
    alphabet = (
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789가나다라마바사아자차카타파하"
    )
    return "".join(rng.choices(alphabet, k=size))


def count_failure(key: str) -> ProgressMutation:
    """A pure progress mutation adding one failed attempt under ``key`` (may be retried)."""

    def mutate(progress: Progress) -> Progress:
        attempts = {**progress.failed_attempts, key: progress.failed_attempts.get(key, 0) + 1}
        return progress.model_copy(update={"failed_attempts": attempts})

    return mutate


def complete(cycle_id: str) -> ProgressMutation:
    """A pure progress mutation marking ``cycle_id`` completed."""

    def mutate(progress: Progress) -> Progress:
        return progress.model_copy(update={"completed": [*progress.completed, cycle_id]})

    return mutate


def no_deltas(previous: Reflection | None, current: Reflection) -> CounterDeltas:
    """Reflection deltas that change no counter."""
    return {}


def rating_deltas(scope: str) -> ReflectionDeltas:
    """Deltas keeping ``scope`` at the sum of comprehension ratings and number of reflections:
    the replacement's values added, the previous one's taken away (as analytics do)."""

    def deltas(previous: Reflection | None, current: Reflection) -> CounterDeltas:
        def total(r: Reflection) -> int:
            return sum(rating.comprehension for rating in r.ratings.values())

        old = total(previous) if previous else 0
        return {scope: {"comprehension": total(current) - old, "count": 0 if previous else 1}}

    return deltas


class Boom(Exception):
    """Raised by test mutations: the contract checks it propagates unchanged."""


def _raises(expected: type[E]) -> AbstractContextManager[pytest.ExceptionInfo[E]]:
    import pytest

    return pytest.raises(expected)


@contextmanager
def _expect(
    kind: type[EduverseError], *, code: str | None = None, naming: str | None = None
) -> Iterator[None]:
    """Expect an ``EduverseError`` of ``kind`` with ``code`` whose message names ``naming``."""
    with _raises(kind) as info:
        yield
    if code is not None:
        assert info.value.code == code
    if naming is not None:
        assert naming in info.value.message, info.value.message


def _same_instant(got: datetime | None, expected: datetime | None) -> bool:
    """Equal instants, and timezone-aware. The offset itself may change: Firestore, for one,
    returns every time in UTC."""
    if got is None or expected is None:
        return got is expected
    return got.tzinfo is not None and got.utcoffset() is not None and got == expected


class StorageContract:
    """The behaviour every storage backend shows. Subclass it as ``Test<Backend>`` and provide
    a ``storage`` fixture yielding a fresh, empty backend (closing it afterwards).

    Only what the :class:`Storage` docstrings promise is asserted: no ordering beyond theirs,
    no backend internals. The class attributes below tune the heavier tests for slow backends
    (an emulator) without changing what they prove.
    """

    concurrency_workers: ClassVar[int] = 8
    """Threads (or processes, see :meth:`run_concurrently`) racing in concurrency tests."""

    concurrency_rounds: ClassVar[int] = 10
    """Operations each worker performs in concurrency tests."""

    many_records: ClassVar[int] = 120
    """Users in bulk-read tests; set it above any batch size the backend splits queries into."""

    def run_concurrently(self, storage: Storage, task: Callable[[Storage, int], None]) -> None:
        """Run ``task(storage, worker)`` for every worker number at once; re-raise a failure.

        Threads sharing ``storage`` by default. A backend may override this to give each
        worker its own client or process, which is how web servers run it too.
        """
        workers = self.concurrency_workers
        start_together = threading.Barrier(workers)

        def run(worker: int) -> None:
            start_together.wait(timeout=60)
            task(storage, worker)

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(run, worker) for worker in range(workers)]:
                future.result()

    # -- lifecycle ------------------------------------------------------------------------
    def test_backend_implements_the_storage_protocol(self, storage: Storage) -> None:
        assert isinstance(storage, Storage)

    def test_ping_succeeds_on_a_fresh_backend(self, storage: Storage) -> None:
        storage.ping()  # the assertion: it does not raise

    def test_close_is_idempotent_and_ping_after_close_is_storage_error(
        self, storage: Storage
    ) -> None:
        storage.close()
        storage.close()
        with _expect(StorageError):
            storage.ping()

    # -- users ----------------------------------------------------------------------------
    def test_created_user_reads_back_equal_by_id_and_by_email(self, storage: Storage) -> None:
        user = make_user(token_version=3, role="instructor")
        storage.create_user(user)
        assert storage.get_user(user.id) == user
        assert storage.get_user_by_email(user.email) == user

    def test_unknown_user_id_or_email_reads_as_none(self, storage: Storage) -> None:
        storage.create_user(make_user())
        assert storage.get_user("nobody") is None
        assert storage.get_user_by_email("nobody@example.com") is None

    def test_create_user_with_taken_email_is_conflict(self, storage: Storage) -> None:
        first = make_user(email="ada@example.com")
        storage.create_user(first)
        with _expect(Conflict, code="email_taken", naming="ada@example.com"):
            storage.create_user(make_user(email="ada@example.com"))
        assert storage.get_user_by_email("ada@example.com") == first
        assert storage.list_users() == [first]

    def test_create_user_with_existing_id_is_conflict_and_keeps_the_first(
        self, storage: Storage
    ) -> None:
        first = make_user(id="u1")
        storage.create_user(first)
        with _expect(Conflict, code="id_taken", naming="u1"):
            storage.create_user(make_user(id="u1"))
        assert storage.get_user("u1") == first

    def test_update_user_replaces_every_field_including_email(self, storage: Storage) -> None:
        user = make_user(email="old@example.com")
        storage.create_user(user)
        changed = user.model_copy(
            update={"email": "new@example.com", "name": "Renamed", "token_version": 1}
        )
        storage.update_user(changed)
        assert storage.get_user(user.id) == changed
        assert storage.get_user_by_email("new@example.com") == changed
        assert storage.get_user_by_email("old@example.com") is None

    def test_update_user_keeping_own_email_is_not_conflict(self, storage: Storage) -> None:
        user = make_user()
        storage.create_user(user)
        storage.update_user(user.model_copy(update={"name": "Same e-mail"}))
        assert storage.get_user(user.id) == user.model_copy(update={"name": "Same e-mail"})

    def test_update_unknown_user_is_not_found(self, storage: Storage) -> None:
        with _expect(NotFound, naming="ghost"):
            storage.update_user(make_user(id="ghost"))
        assert storage.get_user("ghost") is None

    def test_update_user_to_someone_elses_email_is_conflict(self, storage: Storage) -> None:
        ada, bob = make_user(email="ada@example.com"), make_user(email="bob@example.com")
        storage.create_user(ada)
        storage.create_user(bob)
        with _expect(Conflict, code="email_taken", naming="ada@example.com"):
            storage.update_user(bob.model_copy(update={"email": "ada@example.com"}))
        assert storage.get_user(bob.id) == bob

    def test_get_users_reads_many_at_once_leaving_unknown_ids_out(self, storage: Storage) -> None:
        users = [make_user() for _ in range(self.many_records)]
        for user in users:
            storage.create_user(user)
        wanted = [u.id for u in users]
        found = storage.get_users([*wanted, "missing", wanted[0]])
        assert found == {u.id: u for u in users}
        assert storage.get_users([]) == {}
        assert storage.get_users(["missing"]) == {}

    def test_list_users_is_oldest_first_and_filters_by_role(self, storage: Storage) -> None:
        late = make_user(role="student", created_at=at(30))
        early = make_user(role="student", created_at=at(10))
        teacher = make_user(role="instructor", created_at=at(20))
        for user in (late, early, teacher):
            storage.create_user(user)
        assert storage.list_users() == [early, teacher, late]
        assert storage.list_users(role="student") == [early, late]
        assert storage.list_users(role="instructor") == [teacher]

    def test_stored_models_are_independent_of_callers_objects(self, storage: Storage) -> None:
        user = make_user(name="Original")
        storage.create_user(user)
        user.name = "changed after create"
        read = storage.get_user(user.id)
        assert read is not None and read.name == "Original"
        read.name = "changed after read"
        again = storage.get_user(user.id)
        assert again is not None and again.name == "Original" and again is not read

    def test_datetimes_round_trip_as_the_same_timezone_aware_instant(
        self, storage: Storage
    ) -> None:
        moment = datetime(2024, 3, 4, 18, 30, 15, 123456, tzinfo=KST)
        user = make_user(created_at=moment)
        classroom = make_classroom(created_at=moment)
        question = make_question(created_at=moment, answered_at=moment, answer="Use break.")
        log = make_submission(at=moment)
        reflection = make_reflection(at=moment)
        storage.create_user(user)
        storage.create_classroom(classroom)
        storage.join_classroom(make_membership(classroom.id, user.id, joined_at=moment))
        storage.add_question(question)
        storage.save_reflection(reflection, no_deltas)
        pause = PauseState(week=1, cycle="w1-hello", scene="task", at=moment)
        storage.record_submission(
            log, {}, lambda p: p.model_copy(update={"last_active": moment, "pause_state": pause})
        )

        got_question = storage.get_question(question.id)
        got_progress = storage.get_progress(log.student_id, log.pack_id)
        membership = storage.get_membership(user.id)
        assert got_question is not None and got_progress is not None and membership is not None
        assert got_progress.pause_state is not None
        for got in (
            _attr(storage.get_user(user.id), "created_at"),
            _attr(storage.get_classroom(classroom.id), "created_at"),
            membership.joined_at,
            got_question.created_at,
            got_question.answered_at,
            storage.list_submissions()[0].at,
            _attr(storage.get_reflection("student-1", "logicore", 1), "at"),
            got_progress.last_active,
            got_progress.pause_state.at,
        ):
            assert _same_instant(got, moment), got

    # -- progress -------------------------------------------------------------------------
    def test_progress_is_none_before_any_update(self, storage: Storage) -> None:
        assert storage.get_progress("u1", "logicore") is None

    def test_update_progress_starts_from_default_progress(self, storage: Storage) -> None:
        seen: list[Progress] = []

        def mutate(progress: Progress) -> Progress:
            seen.append(progress.model_copy(deep=True))
            return complete("w1-hello")(progress)

        result = storage.update_progress("u1", "logicore", mutate)
        assert seen[-1] == Progress(user_id="u1", pack_id="logicore")
        assert result.completed == ["w1-hello"]
        assert storage.get_progress("u1", "logicore") == result

    def test_update_progress_applies_mutation_to_the_stored_progress(
        self, storage: Storage
    ) -> None:
        storage.update_progress("u1", "logicore", complete("w1-a"))
        result = storage.update_progress("u1", "logicore", complete("w1-b"))
        assert result.completed == ["w1-a", "w1-b"]
        assert storage.get_progress("u1", "logicore") == result

    def test_update_progress_mutation_that_raises_writes_nothing(self, storage: Storage) -> None:
        before = storage.update_progress("u1", "logicore", complete("w1-a"))
        boom = Boom("mutation failed")

        def explode(progress: Progress) -> Progress:
            raise boom

        with _raises(Boom) as info:
            storage.update_progress("u1", "logicore", explode)
        assert info.value is boom
        assert storage.get_progress("u1", "logicore") == before
        with _raises(Boom):
            storage.update_progress("u2", "logicore", explode)
        assert storage.get_progress("u2", "logicore") is None

    def test_progress_is_kept_per_user_and_pack(self, storage: Storage) -> None:
        storage.update_progress("u1", "logicore", complete("a"))
        storage.update_progress("u1", "other-pack", complete("b"))
        storage.update_progress("u2", "logicore", complete("c"))
        assert _attr(storage.get_progress("u1", "logicore"), "completed") == ["a"]
        assert _attr(storage.get_progress("u1", "other-pack"), "completed") == ["b"]
        assert _attr(storage.get_progress("u2", "logicore"), "completed") == ["c"]
        assert storage.get_progress("u2", "other-pack") is None

    def test_list_progress_returns_listed_users_with_progress_in_that_pack(
        self, storage: Storage
    ) -> None:
        one = storage.update_progress("u1", "logicore", complete("a"))
        storage.update_progress("u2", "other-pack", complete("b"))
        storage.update_progress("u3", "logicore", complete("c"))
        listed = storage.list_progress(["u1", "u2", "u4"], "logicore")
        assert listed == {"u1": one}
        assert storage.list_progress([], "logicore") == {}

    def test_list_progress_handles_many_users(self, storage: Storage) -> None:
        ids = [f"bulk-{n:05d}" for n in range(self.many_records)]
        for user_id in ids:
            storage.update_progress(user_id, "logicore", complete(user_id))
        listed = storage.list_progress([*ids, "missing"], "logicore")
        assert sorted(listed) == ids
        assert all(listed[user_id].completed == [user_id] for user_id in ids)

    # -- classes --------------------------------------------------------------------------
    def test_created_classroom_reads_back_by_id_and_invite_code(self, storage: Storage) -> None:
        classroom = make_classroom()
        storage.create_classroom(classroom)
        assert storage.get_classroom(classroom.id) == classroom
        assert storage.get_classroom_by_invite_code(classroom.invite_code) == classroom
        assert _attr(storage.get_classroom(classroom.id), "name") == classroom.name

    def test_unknown_classroom_id_or_invite_code_reads_as_none(self, storage: Storage) -> None:
        storage.create_classroom(make_classroom(invite_code="ABCDEF"))
        assert storage.get_classroom("no-such-class") is None
        assert storage.get_classroom_by_invite_code("ZZZZZZ") is None

    def test_create_classroom_with_taken_invite_code_is_conflict(self, storage: Storage) -> None:
        first = make_classroom(invite_code="ABCDEF")
        storage.create_classroom(first)
        second = make_classroom(invite_code="ABCDEF")
        with _expect(Conflict, code="invite_code_taken", naming="ABCDEF"):
            storage.create_classroom(second)
        assert storage.get_classroom(second.id) is None
        assert storage.get_classroom_by_invite_code("ABCDEF") == first

    def test_create_classroom_with_existing_id_is_conflict(self, storage: Storage) -> None:
        first = make_classroom(id="c1")
        storage.create_classroom(first)
        with _expect(Conflict, code="id_taken", naming="c1"):
            storage.create_classroom(make_classroom(id="c1"))
        assert storage.get_classroom("c1") == first

    def test_list_classrooms_is_oldest_first_and_filters_by_instructor(
        self, storage: Storage
    ) -> None:
        late = make_classroom(instructor_id="i1", created_at=at(30))
        other = make_classroom(instructor_id="i2", created_at=at(20))
        early = make_classroom(instructor_id="i1", created_at=at(10))
        for classroom in (late, other, early):
            storage.create_classroom(classroom)
        assert storage.list_classrooms() == [early, other, late]
        assert storage.list_classrooms(instructor_id="i1") == [early, late]
        assert storage.list_classrooms(instructor_id="nobody") == []

    def test_set_invite_code_changes_the_code_and_frees_the_old_one(self, storage: Storage) -> None:
        classroom = make_classroom(invite_code="ABCDEF")
        storage.create_classroom(classroom)
        changed = storage.set_invite_code(classroom.id, "GHJKMN")
        assert changed == classroom.model_copy(update={"invite_code": "GHJKMN"})
        assert storage.get_classroom(classroom.id) == changed
        assert storage.get_classroom_by_invite_code("GHJKMN") == changed
        assert storage.get_classroom_by_invite_code("ABCDEF") is None
        reuse = make_classroom(invite_code="ABCDEF")
        storage.create_classroom(reuse)
        assert storage.get_classroom_by_invite_code("ABCDEF") == reuse

    def test_set_invite_code_to_its_own_code_is_not_conflict(self, storage: Storage) -> None:
        classroom = make_classroom(invite_code="ABCDEF")
        storage.create_classroom(classroom)
        assert storage.set_invite_code(classroom.id, "ABCDEF") == classroom

    def test_set_invite_code_of_unknown_class_is_not_found(self, storage: Storage) -> None:
        with _expect(NotFound, naming="ghost-class"):
            storage.set_invite_code("ghost-class", "ABCDEF")
        assert storage.get_classroom_by_invite_code("ABCDEF") is None

    def test_set_invite_code_taken_by_another_class_is_conflict(self, storage: Storage) -> None:
        mine, theirs = make_classroom(invite_code="ABCDEF"), make_classroom(invite_code="GHJKMN")
        storage.create_classroom(mine)
        storage.create_classroom(theirs)
        with _expect(Conflict, code="invite_code_taken", naming="GHJKMN"):
            storage.set_invite_code(mine.id, "GHJKMN")
        assert storage.get_classroom(mine.id) == mine
        assert storage.get_classroom_by_invite_code("GHJKMN") == theirs

    def test_delete_classroom_removes_members_questions_and_counters_but_keeps_logs(
        self, storage: Storage
    ) -> None:
        doomed = make_classroom(id="c1")
        storage.create_classroom(doomed)
        for student in ("s1", "s2"):
            storage.join_classroom(make_membership("c1", student))
        question = make_question(class_id="c1", student_id="s1")
        storage.add_question(question)
        log = make_submission(class_id="c1", student_id="s1")
        counters = {"class:c1": {"passed": 1}, "class:c1:week:1": {"passed": 1}}
        storage.record_submission(log, counters, complete("w1-hello"))
        reflection = make_reflection(student_id="s1", class_id="c1")
        storage.save_reflection(reflection, rating_deltas("class:c1:reflections"))

        storage.delete_classroom("c1")

        assert storage.get_classroom("c1") is None
        assert storage.get_classroom_by_invite_code(doomed.invite_code) is None
        assert storage.list_members("c1") == []
        assert storage.get_membership("s1") is None and storage.get_membership("s2") is None
        assert storage.get_question(question.id) is None
        assert storage.list_questions(class_id="c1") == []
        for scope in ("class:c1", "class:c1:week:1", "class:c1:reflections"):
            assert storage.get_counters(scope) == {}
        assert storage.list_submissions(class_id="c1") == [log]
        assert storage.list_reflections(class_id="c1") == [reflection]
        assert _attr(storage.get_progress("s1", log.pack_id), "completed") == ["w1-hello"]

    def test_delete_classroom_keeps_everything_of_other_classes(self, storage: Storage) -> None:
        # "c1" must not take "c10" (same prefix) or "class:c1x…" scopes with it.
        for class_id in ("c1", "c10"):
            storage.create_classroom(make_classroom(id=class_id))
            storage.join_classroom(make_membership(class_id, f"student-of-{class_id}"))
        question = make_question(class_id="c10")
        storage.add_question(question)
        kept = {"class:c10": {"n": 1}, "class:c1x": {"n": 2}, "class:c10:week:1": {"n": 3}}
        storage.record_submission(make_submission(), kept, None)

        storage.delete_classroom("c1")

        assert storage.get_classroom("c10") is not None
        assert [m.user_id for m in storage.list_members("c10")] == ["student-of-c10"]
        assert storage.get_question(question.id) == question
        for scope, values in kept.items():
            assert storage.get_counters(scope) == values

    def test_delete_classroom_matches_counter_scopes_literally(self, storage: Storage) -> None:
        # Ids are opaque: wildcard characters of any query language are ordinary characters.
        storage.create_classroom(make_classroom(id="a_%"))
        counters = {"class:a_%": {"n": 1}, "class:a_%:w1": {"n": 1}, "class:abc:w1": {"n": 5}}
        storage.record_submission(make_submission(), counters, None)
        storage.record_submission(make_submission(), {"class:a_%x": {"n": 7}}, None)
        storage.delete_classroom("a_%")
        assert storage.get_counters("class:a_%") == {}
        assert storage.get_counters("class:a_%:w1") == {}
        assert storage.get_counters("class:abc:w1") == {"n": 5}
        assert storage.get_counters("class:a_%x") == {"n": 7}

    def test_delete_unknown_classroom_is_not_found(self, storage: Storage) -> None:
        with _expect(NotFound, naming="ghost-class"):
            storage.delete_classroom("ghost-class")

    # -- memberships ----------------------------------------------------------------------
    def test_first_join_makes_a_member_and_returns_none(self, storage: Storage) -> None:
        classroom = make_classroom()
        storage.create_classroom(classroom)
        membership = make_membership(classroom.id, "s1")
        assert storage.join_classroom(membership) is None
        assert storage.get_membership("s1") == membership
        assert storage.list_members(classroom.id) == [membership]

    def test_join_replaces_previous_membership_atomically(self, storage: Storage) -> None:
        old_class, new_class = make_classroom(), make_classroom()
        storage.create_classroom(old_class)
        storage.create_classroom(new_class)
        old = make_membership(old_class.id, "s1")
        storage.join_classroom(old)
        new = make_membership(new_class.id, "s1")
        assert storage.join_classroom(new) == old
        assert storage.get_membership("s1") == new
        assert storage.list_members(old_class.id) == []
        assert storage.list_members(new_class.id) == [new]

    def test_join_unknown_classroom_is_not_found_and_keeps_membership(
        self, storage: Storage
    ) -> None:
        classroom = make_classroom()
        storage.create_classroom(classroom)
        current = make_membership(classroom.id, "s1")
        storage.join_classroom(current)
        with _expect(NotFound, naming="ghost-class"):
            storage.join_classroom(make_membership("ghost-class", "s1"))
        assert storage.get_membership("s1") == current
        assert storage.list_members("ghost-class") == []

    def test_leave_classroom_ends_and_returns_the_membership(self, storage: Storage) -> None:
        classroom = make_classroom()
        storage.create_classroom(classroom)
        membership = make_membership(classroom.id, "s1")
        storage.join_classroom(membership)
        assert storage.leave_classroom("s1") == membership
        assert storage.get_membership("s1") is None
        assert storage.list_members(classroom.id) == []

    def test_leave_without_membership_returns_none(self, storage: Storage) -> None:
        assert storage.leave_classroom("s1") is None
        assert storage.get_membership("s1") is None

    def test_list_members_is_earliest_joined_first_and_only_that_class(
        self, storage: Storage
    ) -> None:
        mine, other = make_classroom(), make_classroom()
        storage.create_classroom(mine)
        storage.create_classroom(other)
        late = make_membership(mine.id, "late", joined_at=at(30))
        early = make_membership(mine.id, "early", joined_at=at(10))
        elsewhere = make_membership(other.id, "elsewhere", joined_at=at(20))
        for membership in (late, early, elsewhere):
            storage.join_classroom(membership)
        assert storage.list_members(mine.id) == [early, late]
        assert storage.list_members(other.id) == [elsewhere]

    # -- questions ------------------------------------------------------------------------
    def test_added_question_reads_back_equal(self, storage: Storage) -> None:
        question = make_question()
        storage.add_question(question)
        assert storage.get_question(question.id) == question
        assert storage.get_question("no-such-question") is None

    def test_add_question_with_existing_id_is_conflict(self, storage: Storage) -> None:
        first = make_question(id="q1")
        storage.add_question(first)
        with _expect(Conflict, code="id_taken", naming="q1"):
            storage.add_question(make_question(id="q1"))
        assert storage.get_question("q1") == first

    def test_update_question_replaces_it(self, storage: Storage) -> None:
        question = make_question()
        storage.add_question(question)
        answered = question.model_copy(
            update={
                "answer": "Add a break.",
                "answered_at": at(500),
                "answered_by": "i1",
                "resolved": True,
            }
        )
        storage.update_question(answered)
        assert storage.get_question(question.id) == answered

    def test_update_unknown_question_is_not_found(self, storage: Storage) -> None:
        with _expect(NotFound, naming="ghost-question"):
            storage.update_question(make_question(id="ghost-question"))
        assert storage.get_question("ghost-question") is None

    def test_list_questions_is_newest_first_and_filters_combine_with_and(
        self, storage: Storage
    ) -> None:
        old = make_question(class_id="c1", student_id="s1", created_at=at(10))
        new = make_question(class_id="c1", student_id="s1", created_at=at(30))
        classmate = make_question(class_id="c1", student_id="s2", created_at=at(20))
        elsewhere = make_question(class_id="c2", student_id="s1", created_at=at(40))
        for question in (old, new, classmate, elsewhere):
            storage.add_question(question)
        assert storage.list_questions() == [elsewhere, new, classmate, old]
        assert storage.list_questions(class_id="c1") == [new, classmate, old]
        assert storage.list_questions(student_id="s1") == [elsewhere, new, old]
        assert storage.list_questions(class_id="c1", student_id="s1") == [new, old]
        assert storage.list_questions(class_id="c2", student_id="s2") == []

    def test_question_summary_counts_unanswered_and_finds_the_newest(
        self, storage: Storage
    ) -> None:
        assert storage.question_summary("c1") == QuestionSummary(0, None)
        first = make_question(class_id="c1", created_at=at(10))
        second = make_question(class_id="c1", created_at=at(30))
        third = make_question(class_id="c1", created_at=at(20))
        elsewhere = make_question(class_id="c2", created_at=at(40))
        for question in (first, second, third, elsewhere):
            storage.add_question(question)
        summary = storage.question_summary("c1")
        assert summary.unanswered == 3 and _same_instant(summary.newest_at, at(30))
        answered = second.model_copy(
            update={"answer": "Yes.", "answered_at": at(50), "resolved": True}
        )
        storage.update_question(answered)
        summary = storage.question_summary("c1")
        assert summary.unanswered == 2 and _same_instant(summary.newest_at, at(30))
        assert storage.question_summary("c2").unanswered == 1
        assert storage.question_summary("unknown") == QuestionSummary(0, None)

    # -- submissions ----------------------------------------------------------------------
    def test_record_submission_adds_log_counters_and_progress_together(
        self, storage: Storage
    ) -> None:
        log = make_submission(student_id="s1", class_id="c1")
        counters = {"class:c1": {"passed": 1, "attempts": 1}, "user:s1:logicore": {"xp": 10}}
        progress = storage.record_submission(log, counters, complete("w1-hello"))
        assert progress.user_id == "s1" and progress.pack_id == log.pack_id
        assert progress.completed == ["w1-hello"]
        assert storage.get_progress("s1", log.pack_id) == progress
        assert storage.list_submissions() == [log]
        assert storage.get_counters("class:c1") == {"passed": 1, "attempts": 1}
        assert storage.get_counters("user:s1:logicore") == {"xp": 10}

    def test_record_submission_without_mutation_returns_progress_unchanged(
        self, storage: Storage
    ) -> None:
        fresh = storage.record_submission(make_submission(student_id="s1"), {}, None)
        assert fresh == Progress(user_id="s1", pack_id="logicore")
        assert storage.get_progress("s1", "logicore") is None  # nothing to store
        stored = storage.update_progress("s1", "logicore", complete("a"))
        assert storage.record_submission(make_submission(student_id="s1"), {}, None) == stored
        assert storage.get_progress("s1", "logicore") == stored

    def test_record_submission_mutation_that_raises_writes_nothing(self, storage: Storage) -> None:
        before = storage.update_progress("s1", "logicore", complete("a"))
        boom = Boom("grading bookkeeping failed")

        def explode(progress: Progress) -> Progress:
            raise boom

        log = make_submission(student_id="s1")
        with _raises(Boom) as info:
            storage.record_submission(log, {"class:c1": {"attempts": 1}}, explode)
        assert info.value is boom
        assert storage.list_submissions() == []
        assert storage.get_counters("class:c1") == {}
        assert storage.get_progress("s1", "logicore") == before

    def test_record_submission_with_existing_id_is_conflict_and_writes_nothing(
        self, storage: Storage
    ) -> None:
        first = make_submission(id="log-1", student_id="s1")
        storage.record_submission(first, {"scope": {"n": 1}}, None)
        again = make_submission(id="log-1", student_id="s1", outcome=Outcome.FAILED)
        with _expect(Conflict, code="id_taken", naming="log-1"):
            storage.record_submission(again, {"scope": {"n": 1}}, complete("a"))
        assert storage.list_submissions() == [first]
        assert storage.get_counters("scope") == {"n": 1}
        assert storage.get_progress("s1", "logicore") is None

    def test_list_submissions_is_oldest_first_with_ties_by_id(self, storage: Storage) -> None:
        tie_b = make_submission(id="b", at=at(20))
        latest = make_submission(id="a-latest", at=at(30))
        tie_a = make_submission(id="a", at=at(20))
        earliest = make_submission(id="z-earliest", at=at(10))
        for log in (tie_b, latest, tie_a, earliest):
            storage.record_submission(log, {}, None)
        assert storage.list_submissions() == [earliest, tie_a, tie_b, latest]

    def test_list_submissions_orders_by_instant_across_time_zones(self, storage: Storage) -> None:
        # 10:00 in Seoul is 01:00 UTC: earlier than 02:00 UTC, though "10" sorts after "02".
        seoul = make_submission(at=datetime(2024, 3, 4, 10, 0, tzinfo=KST))
        utc = make_submission(at=datetime(2024, 3, 4, 2, 0, tzinfo=UTC))
        storage.record_submission(utc, {}, None)
        storage.record_submission(seoul, {}, None)
        assert storage.list_submissions() == [seoul, utc]

    def test_list_submissions_filters_combine_with_and(self, storage: Storage) -> None:
        logs = [
            make_submission(class_id="c1", student_id="s1", pack_id="p1"),
            make_submission(class_id="c1", student_id="s2", pack_id="p1"),
            make_submission(class_id="c2", student_id="s1", pack_id="p1"),
            make_submission(class_id=None, student_id="s1", pack_id="p2"),
        ]
        for log in logs:
            storage.record_submission(log, {}, None)
        assert storage.list_submissions(class_id="c1") == logs[0:2]
        assert storage.list_submissions(student_id="s1") == [logs[0], logs[2], logs[3]]
        assert storage.list_submissions(pack_id="p2") == [logs[3]]
        assert storage.list_submissions(class_id="c1", student_id="s1") == [logs[0]]
        assert storage.list_submissions(student_id="s1", pack_id="p1") == [logs[0], logs[2]]
        assert storage.list_submissions(class_id="c2", student_id="s2") == []

    def test_list_submissions_limit_returns_the_oldest(self, storage: Storage) -> None:
        logs = [make_submission() for _ in range(4)]
        for log in reversed(logs):
            storage.record_submission(log, {}, None)
        assert storage.list_submissions(limit=2) == logs[:2]
        assert storage.list_submissions(limit=10) == logs

    def test_list_submissions_pages_with_after_cursor(self, storage: Storage) -> None:
        # Ties in time across a page boundary are where naive cursors skip or repeat logs.
        times = [10, 20, 20, 20, 30, 40, 40]
        logs = [
            make_submission(id=f"log-{i}", class_id="c1", at=at(t)) for i, t in enumerate(times)
        ]
        for log in logs:
            storage.record_submission(log, {}, None)
            storage.record_submission(make_submission(class_id="c2", at=log.at), {}, None)
        pages: list[list[SubmissionLog]] = []
        after: str | None = None
        while page := storage.list_submissions(class_id="c1", limit=2, after=after):
            pages.append(page)
            after = page[-1].id
        assert [len(page) for page in pages] == [2, 2, 2, 1]
        assert [log for page in pages for log in page] == logs

    def test_list_submissions_after_the_last_log_is_empty(self, storage: Storage) -> None:
        log = make_submission()
        storage.record_submission(log, {}, None)
        assert storage.list_submissions(after=log.id) == []

    def test_list_submissions_after_unknown_id_is_not_found(self, storage: Storage) -> None:
        storage.record_submission(make_submission(), {}, None)
        with _expect(NotFound, naming="ghost-log"):
            storage.list_submissions(after="ghost-log")

    # -- reflections ----------------------------------------------------------------------
    def test_first_reflection_returns_none_and_applies_its_deltas(self, storage: Storage) -> None:
        reflection = make_reflection()
        assert storage.save_reflection(reflection, rating_deltas("class:c1")) is None
        assert storage.get_reflection("student-1", "logicore", 1) == reflection
        assert storage.get_counters("class:c1") == {"comprehension": 4, "count": 1}

    def test_save_reflection_returns_previous_and_applies_deltas_of_the_replacement(
        self, storage: Storage
    ) -> None:
        first = make_reflection()
        storage.save_reflection(first, rating_deltas("class:c1"))
        ratings = {"w1-hello": {"comprehension": 2, "application": 2}}
        second = make_reflection(ratings=ratings, feedback={"meaningful": "changed my mind"})
        seen: list[tuple[Reflection | None, Reflection]] = []

        def deltas(previous: Reflection | None, current: Reflection) -> CounterDeltas:
            seen.append((previous, current))
            return rating_deltas("class:c1")(previous, current)

        assert storage.save_reflection(second, deltas) == first
        assert seen[-1] == (first, second)
        assert storage.get_reflection("student-1", "logicore", 1) == second
        assert storage.get_counters("class:c1") == {"comprehension": 2, "count": 1}

    def test_save_reflection_deltas_that_raise_write_nothing(self, storage: Storage) -> None:
        first = make_reflection()
        storage.save_reflection(first, rating_deltas("class:c1"))
        boom = Boom("analytics failed")

        def explode(previous: Reflection | None, current: Reflection) -> CounterDeltas:
            raise boom

        with _raises(Boom) as info:
            storage.save_reflection(make_reflection(feedback={"curious": "x"}), explode)
        assert info.value is boom
        assert storage.get_reflection("student-1", "logicore", 1) == first
        assert storage.get_counters("class:c1") == {"comprehension": 4, "count": 1}

    def test_reflections_are_kept_per_student_pack_and_week(self, storage: Storage) -> None:
        keys = [("s1", "p1", 1), ("s1", "p1", 2), ("s1", "p2", 1), ("s2", "p1", 1)]
        saved = {
            key: make_reflection(student_id=key[0], pack_id=key[1], week=key[2]) for key in keys
        }
        for reflection in saved.values():
            assert storage.save_reflection(reflection, no_deltas) is None
        for key, reflection in saved.items():
            assert storage.get_reflection(*key) == reflection
        assert storage.get_reflection("s2", "p1", 2) is None

    def test_list_reflections_is_by_week_then_time_and_filters_combine(
        self, storage: Storage
    ) -> None:
        week2 = make_reflection(student_id="s1", class_id="c1", week=2, at=at(10))
        week1_late = make_reflection(student_id="s2", class_id="c1", week=1, at=at(30))
        week1_early = make_reflection(student_id="s1", class_id="c1", week=1, at=at(20))
        other = make_reflection(student_id="s3", class_id="c2", pack_id="p2", week=1, at=at(5))
        for reflection in (week2, week1_late, week1_early, other):
            storage.save_reflection(reflection, no_deltas)
        assert storage.list_reflections(class_id="c1") == [week1_early, week1_late, week2]
        assert storage.list_reflections(student_id="s1") == [week1_early, week2]
        assert storage.list_reflections(class_id="c1", week=1) == [week1_early, week1_late]
        assert storage.list_reflections(pack_id="p2") == [other]
        assert storage.list_reflections(student_id="s3", class_id="c1") == []
        assert len(storage.list_reflections()) == 4

    # -- auth state -----------------------------------------------------------------------
    def test_unknown_token_is_not_revoked(self, storage: Storage) -> None:
        storage.revoke_token("some-other-token", from_now(60))
        assert storage.is_token_revoked("never-revoked") is False

    def test_revoked_token_is_reported_revoked(self, storage: Storage) -> None:
        storage.revoke_token("token-1", from_now(60))
        assert storage.is_token_revoked("token-1") is True
        assert storage.is_token_revoked("token-2") is False

    def test_revoke_is_idempotent(self, storage: Storage) -> None:
        expires_at = from_now(60)
        storage.revoke_token("token-1", expires_at)
        storage.revoke_token("token-1", expires_at)
        assert storage.is_token_revoked("token-1") is True

    def test_revoking_again_never_shortens_a_revocation(self, storage: Storage) -> None:
        # A late retry carrying an older expiry must not un-revoke a token (logout, then a
        # replayed logout of an older session); a later expiry extends the revocation.
        storage.revoke_token("token-1", from_now(60))
        storage.revoke_token("token-1", from_now(-60))
        assert storage.is_token_revoked("token-1") is True
        storage.revoke_token("token-2", from_now(-60))
        storage.revoke_token("token-2", from_now(60))
        assert storage.is_token_revoked("token-2") is True

    def test_rate_limit_counts_attempts_within_a_window(self, storage: Storage) -> None:
        assert storage.peek_rate_limit("login:ada", 60, T0) == 0
        hits = [storage.hit_rate_limit("login:ada", 60, at_seconds(s)) for s in (0, 10, 59)]
        assert hits == [1, 2, 3]
        assert storage.peek_rate_limit("login:ada", 60, at_seconds(30)) == 3
        assert storage.peek_rate_limit("login:ada", 60, T0) == 3  # peeking counted nothing

    def test_rate_limit_windows_are_independent_per_key(self, storage: Storage) -> None:
        # Keys are opaque: prefixes, slashes and wildcard characters are ordinary characters.
        keys = ["login:ada", "login:ad", "ip:2001:db8::1/login", "login:%_"]
        for repeat, key in enumerate(keys, start=1):
            for _ in range(repeat):
                storage.hit_rate_limit(key, 60, T0)
        assert [storage.peek_rate_limit(key, 60, T0) for key in keys] == [1, 2, 3, 4]
        assert storage.peek_rate_limit("login:", 60, T0) == 0

    def test_rate_limit_counts_per_window_size(self, storage: Storage) -> None:
        # A key limited per minute and per hour at once: the counts must not mix.
        for _ in range(3):
            storage.hit_rate_limit("login:ada", 60, T0)
        assert storage.hit_rate_limit("login:ada", 3600, T0) == 1
        assert storage.peek_rate_limit("login:ada", 60, T0) == 3
        assert storage.peek_rate_limit("login:ada", 3600, T0) == 1

    def test_rate_limit_starts_afresh_in_the_next_window(self, storage: Storage) -> None:
        for s in (0, 20, 40):
            storage.hit_rate_limit("login:ada", 60, at_seconds(s))
        assert storage.peek_rate_limit("login:ada", 60, at_seconds(60)) == 0
        assert storage.hit_rate_limit("login:ada", 60, at_seconds(61)) == 1
        assert storage.hit_rate_limit("login:ada", 60, at_seconds(600)) == 1

    def test_rate_limit_windows_are_aligned_to_the_epoch_by_instant(self, storage: Storage) -> None:
        # Fixed windows, not sliding: one microsecond apart across a boundary is two windows.
        assert storage.hit_rate_limit("k", 60, at_seconds(60) - timedelta(microseconds=1)) == 1
        assert storage.hit_rate_limit("k", 60, at_seconds(60)) == 1
        # Day windows start at midnight UTC, whatever the offset of the time given: 08:59 in
        # Seoul is still the UTC day of T0, 09:00 in Seoul is the next one.
        day = 24 * 3600
        assert storage.hit_rate_limit("d", day, T0) == 1
        assert storage.hit_rate_limit("d", day, datetime(2024, 3, 5, 8, 59, tzinfo=KST)) == 2
        assert storage.hit_rate_limit("d", day, datetime(2024, 3, 5, 9, 0, tzinfo=KST)) == 1

    def test_expired_revocations_and_windows_do_not_leak_into_results(
        self, storage: Storage
    ) -> None:
        # Expired revocations read as not revoked whether or not the backend purged them yet,
        # judged by instant (the Seoul time reads later on the clock face, yet has passed).
        storage.revoke_token("expired", from_now(-1))
        storage.revoke_token("expired-in-seoul", from_now(-1).astimezone(KST))
        storage.revoke_token("live", from_now(60))
        storage.revoke_token("live-in-seoul", from_now(60).astimezone(KST))
        assert not storage.is_token_revoked("expired")
        assert not storage.is_token_revoked("expired-in-seoul")
        assert storage.is_token_revoked("live") and storage.is_token_revoked("live-in-seoul")
        # An ended window counts nothing later, and purging the ended minute window of one key
        # must keep another key's hour window that started at the same time but still runs.
        for _ in range(5):
            storage.hit_rate_limit("fast", 60, T0)
        storage.hit_rate_limit("slow", 3600, T0)
        assert storage.hit_rate_limit("fast", 60, at_seconds(120)) == 1
        assert storage.peek_rate_limit("fast", 60, at_seconds(130)) == 1
        assert storage.peek_rate_limit("slow", 3600, at_seconds(130)) == 1
        next_day = at_seconds(24 * 3600)
        assert storage.peek_rate_limit("fast", 60, next_day) == 0
        assert storage.hit_rate_limit("slow", 3600, next_day) == 1

    def test_auth_state_rejects_naive_times_and_empty_windows(self, storage: Storage) -> None:
        naive = datetime(2024, 3, 4, 9, 0)
        with _raises(ValueError):
            storage.revoke_token("token-1", naive)
        with _raises(ValueError):
            storage.hit_rate_limit("k", 60, naive)
        with _raises(ValueError):
            storage.peek_rate_limit("k", 60, naive)
        for window_seconds in (0, -60):
            with _raises(ValueError):
                storage.hit_rate_limit("k", window_seconds, T0)
        assert storage.is_token_revoked("token-1") is False
        assert storage.peek_rate_limit("k", 60, T0) == 0

    # -- counters -------------------------------------------------------------------------
    def test_counters_of_an_unknown_scope_are_empty(self, storage: Storage) -> None:
        assert storage.get_counters("class:nothing") == {}

    def test_counters_add_up_including_negative_amounts(self, storage: Storage) -> None:
        storage.record_submission(make_submission(), {"s": {"a": 5, "b": 1}}, None)
        storage.record_submission(make_submission(), {"s": {"a": -2, "c": 4}}, None)
        storage.save_reflection(make_reflection(), lambda previous, current: {"s": {"b": 2}})
        assert storage.get_counters("s") == {"a": 3, "b": 3, "c": 4}

    def test_counters_are_separate_per_scope(self, storage: Storage) -> None:
        deltas = {"class:c1": {"passed": 1}, "class:c2": {"passed": 2}}
        storage.record_submission(make_submission(), deltas, None)
        assert storage.get_counters("class:c1") == {"passed": 1}
        assert storage.get_counters("class:c2") == {"passed": 2}

    # -- published packs ------------------------------------------------------------------
    def test_published_pack_reads_back_equal(self, storage: Storage) -> None:
        document = make_pack_document()
        moment = datetime(2024, 3, 4, 18, 30, 15, 123456, tzinfo=KST)
        storage.publish_pack("logicore", "1.0.0", document, moment)
        published = storage.get_published_pack("logicore")
        assert published is not None
        assert (published.pack_id, published.version) == ("logicore", "1.0.0")
        assert published.document == document
        assert type(published.document["big"]) is int and published.document["big"] == 2**53 + 1
        assert _same_instant(published.published_at, moment)

    def test_unknown_published_pack_is_none_and_nothing_is_listed(self, storage: Storage) -> None:
        assert storage.list_published_packs() == []
        storage.publish_pack("logicore", "1.0.0", make_pack_document(), T0)
        assert storage.get_published_pack("other") is None
        assert storage.get_published_pack("logicor") is None

    def test_publishing_again_replaces_the_publication_keeping_only_the_latest(
        self, storage: Storage
    ) -> None:
        storage.publish_pack("logicore", "1.1.0", make_pack_document(version="1.1.0"), at(1))
        newer = make_pack_document(version="1.2.0", weeks=[])
        storage.publish_pack("logicore", "1.2.0", newer, at(2))
        published = storage.get_published_pack("logicore")
        assert published is not None and published.version == "1.2.0"
        assert published.document == newer and "weeks" in published.document
        assert _same_instant(published.published_at, at(2))
        # No ordering of versions: publishing an older one is a rollback.
        storage.publish_pack("logicore", "1.1.0", make_pack_document(version="1.1.0"), at(3))
        listed = storage.list_published_packs()
        assert [(info.pack_id, info.version) for info in listed] == [("logicore", "1.1.0")]

    def test_list_published_packs_is_by_pack_id_without_documents(self, storage: Storage) -> None:
        for pack_id, minute in (("python-2", 1), ("logicore", 3), ("data-101", 2)):
            storage.publish_pack(pack_id, f"{minute}.0", make_pack_document(pack_id), at(minute))
        listed = storage.list_published_packs()
        assert [info.pack_id for info in listed] == ["data-101", "logicore", "python-2"]
        assert all(type(info) is PublishedPackInfo for info in listed)
        assert [info.version for info in listed] == ["2.0", "3.0", "1.0"]
        times = [info.published_at for info in listed]
        assert all(_same_instant(got, at(m)) for got, m in zip(times, (2, 3, 1), strict=True))
        published = storage.get_published_pack("logicore")
        assert published is not None and published.info == listed[1]

    def test_published_documents_are_independent_of_callers_dicts(self, storage: Storage) -> None:
        document = make_pack_document()
        storage.publish_pack("logicore", "1.0.0", document, T0)
        document["title"]["en"] = "changed after publishing"
        document["weeks"].clear()
        read = storage.get_published_pack("logicore")
        assert read is not None and read.document == make_pack_document()
        read.document["weeks"][0]["cycles"].clear()
        again = storage.get_published_pack("logicore")
        assert again is not None and again.document == make_pack_document()
        assert again.document is not read.document

    def test_large_published_documents_round_trip(self, storage: Storage) -> None:
        # Larger than the bundled course (~1.5 MB), and more than a Firestore document holds
        # (1 MiB) even compressed: many small strings like a real pack's, and one long one.
        cycles = [
            {"id": f"w{n // 10}-c{n}", "code": incompressible_text(1_000, seed=n)}
            for n in range(800)
        ]
        blob = incompressible_text(500_000)
        document = make_pack_document(weeks=[{"cycles": cycles}], blob=blob)
        assert len(published_document_json(document).encode()) > 1.5 * 1024 * 1024
        storage.publish_pack("logicore", "9.0.0", document, T0)
        published = storage.get_published_pack("logicore")
        assert published is not None and published.document == document
        smaller = make_pack_document(version="9.0.1")
        storage.publish_pack("logicore", "9.0.1", smaller, at(1))  # replacing a large one
        published = storage.get_published_pack("logicore")
        assert published is not None and published.document == smaller

    def test_publish_rejects_what_would_not_read_back_and_stores_nothing(
        self, storage: Storage
    ) -> None:
        bad: list[tuple[Any, datetime]] = [
            (make_pack_document(), datetime(2024, 3, 4, 9, 0)),  # naive time
            ({1: "integer key"}, T0),
            ({"tuple": (1, 2)}, T0),
            ({"nan": float("nan")}, T0),
            ({"time": T0}, T0),
            (["not", "an", "object"], T0),
        ]
        for document, moment in bad:
            with _raises(ValueError):
                storage.publish_pack("logicore", "1.0.0", document, moment)
        with _raises(ValueError):
            storage.publish_pack("", "1.0.0", make_pack_document(), T0)
        assert storage.list_published_packs() == []
        assert storage.get_published_pack("logicore") is None

    # -- concurrency ----------------------------------------------------------------------
    def test_counters_under_concurrent_increments_lose_no_update(self, storage: Storage) -> None:
        rounds = self.concurrency_rounds

        def task(storage: Storage, worker: int) -> None:
            for n in range(rounds):
                log = make_submission(id=f"w{worker}-n{n}", student_id=f"s{worker}")
                storage.record_submission(log, {"class:c1": {"attempts": 1, "xp": 2}}, None)

        self.run_concurrently(storage, task)
        total = self.concurrency_workers * rounds
        assert storage.get_counters("class:c1") == {"attempts": total, "xp": 2 * total}
        assert len(storage.list_submissions()) == total

    def test_progress_under_concurrent_updates_loses_no_update(self, storage: Storage) -> None:
        rounds = self.concurrency_rounds

        def task(storage: Storage, worker: int) -> None:
            for n in range(rounds):
                if n % 2:
                    storage.update_progress("s1", "logicore", count_failure("w1-hello:beginner"))
                else:
                    log = make_submission(id=f"w{worker}-n{n}", student_id="s1")
                    storage.record_submission(log, {}, count_failure("w1-hello:beginner"))

        self.run_concurrently(storage, task)
        progress = storage.get_progress("s1", "logicore")
        total = self.concurrency_workers * rounds
        assert progress is not None
        assert progress.failed_attempts == {"w1-hello:beginner": total}

    def test_concurrent_rate_limit_hits_lose_none(self, storage: Storage) -> None:
        rounds = self.concurrency_rounds

        def task(storage: Storage, worker: int) -> None:
            for n in range(rounds):
                count = storage.hit_rate_limit("login:ada", 3600, at_seconds(n))
                # Kept in storage, not in a list here: run_concurrently may use processes.
                log = make_submission(id=f"w{worker}-n{n}")
                storage.record_submission(log, {"seen": {f"count-{count}": 1}}, None)

        self.run_concurrently(storage, task)
        total = self.concurrency_workers * rounds
        assert storage.peek_rate_limit("login:ada", 3600, T0) == total
        # Atomic: every hit saw its own count, none saw another's.
        assert storage.get_counters("seen") == {f"count-{n}": 1 for n in range(1, total + 1)}

    def test_concurrent_joins_leave_exactly_one_membership(self, storage: Storage) -> None:
        classes = [make_classroom() for _ in range(self.concurrency_workers)]
        for classroom in classes:
            storage.create_classroom(classroom)

        def task(storage: Storage, worker: int) -> None:
            for _ in range(self.concurrency_rounds):
                storage.join_classroom(make_membership(classes[worker].id, "s1"))

        self.run_concurrently(storage, task)
        membership = storage.get_membership("s1")
        assert membership is not None
        rosters = {c.id: [m.user_id for m in storage.list_members(c.id)] for c in classes}
        assert [cid for cid, users in rosters.items() if users] == [membership.class_id]
        assert rosters[membership.class_id] == ["s1"]

    def test_concurrent_publications_and_reads_never_mix_versions(self, storage: Storage) -> None:
        # Even workers publish their own version again and again, odd ones read: every read
        # is one whole publication (document, version and time agree), never a mix.
        storage.publish_pack("p", "w-start", {"by": "w-start", "blob": "x"}, T0)

        def task(storage: Storage, worker: int) -> None:
            for n in range(self.concurrency_rounds):
                if worker % 2 == 0:
                    document = {"by": f"w{worker}", "n": n, "blob": incompressible_text(300)}
                    storage.publish_pack("p", f"w{worker}", document, at(worker * 1000 + n))
                    continue
                read = storage.get_published_pack("p")
                assert read is not None and read.document["by"] == read.version
                if read.version != "w-start":
                    number = int(read.version[1:]) * 1000 + read.document["n"]
                    assert _same_instant(read.published_at, at(number))

        self.run_concurrently(storage, task)
        final = storage.get_published_pack("p")
        assert final is not None and final.document["by"] == final.version != "w-start"
        assert final.document["n"] == self.concurrency_rounds - 1
        assert [info.pack_id for info in storage.list_published_packs()] == ["p"]


def _attr(model: object | None, name: str) -> Any:
    """``model.name``, failing clearly when a lookup returned None."""
    assert model is not None, f"expected a stored record with {name!r}"
    return getattr(model, name)
