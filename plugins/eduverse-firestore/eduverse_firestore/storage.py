"""The Cloud Firestore storage backend, selected with ``EDUVERSE_STORAGE=firestore://PROJECT_ID``.

URLs: ``firestore://PROJECT_ID`` (the ``(default)`` database) or
``firestore://PROJECT_ID/DATABASE_ID``. Credentials are Google's Application Default
Credentials (on Cloud Run, the service account). When ``FIRESTORE_EMULATOR_HOST`` is set
(``127.0.0.1:8080``), Google's client library talks to the Firestore emulator instead, with no
credentials.

The document layout is described in :mod:`eduverse_firestore.layout`.

**Transactions.** Every change to more than one document — and every read-modify-write of
one — runs in one Firestore transaction (:meth:`FirestoreStorage._transact`): all its reads
come first, then its writes, committed together or not at all. Firestore may abort a
transaction that contends with another; it is then run again from the start, after a short
random pause (so two contenders do not collide again in step), which is why the ``mutate``
and ``deltas`` callables the services pass in must be pure. Which documents each one reads and
writes is written next to it.

**Contention inside one process.** Firestore's server SDKs lock what a transaction reads, so
two transactions that read and then write the same document (two threads updating one
learner's progress) wait on each other until one is aborted — in production after a
negotiation, in the emulator after a 2 s lock timeout. The threads of one process therefore
first take a local lock per such document (striped: :class:`_KeyLocks`) and contend in
Firestore only with other processes and instances, as SQLite's writers queue on a lock.

**Counters** are sharded (:data:`~eduverse_firestore.layout.COUNTER_SHARDS_DEFAULT`): a change
increments one random shard of its scope with a blind ``Increment`` (no read, so it never
contends with a read), and :meth:`FirestoreStorage.get_counters` sums the shards.

**Published packs** are stored gzip-compressed and, when larger than one document may be,
split into parts (:data:`~eduverse_firestore.layout.PART_BYTES`); the publication document
points at its parts, so switching to a new publication is one write (see
:meth:`FirestoreStorage.publish_pack`).

**Auth state** purges itself through Firestore TTL policies on ``expires_at`` (see
``firestore.indexes.json``); reads compare ``expires_at`` with the clock, so the answers never
depend on when the TTL sweeper runs (it may take a day).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import random
import re
import secrets
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

from google.api_core import exceptions as google_errors
from google.auth.exceptions import GoogleAuthError
from google.cloud import firestore
from google.cloud.firestore_v1.base_document import DocumentSnapshot
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.document import DocumentReference
from google.cloud.firestore_v1.query import Query
from google.cloud.firestore_v1.transaction import Transaction
from pydantic import BaseModel, ValidationError

from eduverse_core.errors import Conflict, NotFound, StartupError, StorageError
from eduverse_core.models import (
    Classroom,
    Membership,
    Progress,
    Question,
    Reflection,
    SubmissionLog,
    User,
    utcnow,
)
from eduverse_core.storage import (
    CounterDeltas,
    ProgressMutation,
    PublishedPack,
    PublishedPackInfo,
    QuestionSummary,
    ReflectionDeltas,
    published_document_json,
    rate_limit_window,
    require_aware,
)

from .layout import (
    CLASSROOMS,
    COUNTER_SHARDS,
    COUNTER_SHARDS_DEFAULT,
    INVITE_CODES,
    LAYOUT_VERSION,
    MAX_PARTS,
    MEMBERSHIPS,
    META,
    PART_BYTES,
    PROGRESS,
    PUBLISHED_PACK_PARTS,
    PUBLISHED_PACKS,
    QUERY_FIELDS,
    QUESTIONS,
    RATE_LIMITS,
    REFLECTIONS,
    REVOKED_TOKENS,
    SUBMISSIONS,
    USER_EMAILS,
    USERS,
    decode_key,
    doc_id,
    encode_key,
)
from .ops import OpsCounter
from .queries import ASCENDING, DESCENDING, Direction, QueryRecorder, QueryShape

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

DEFAULT_DATABASE: Final = "(default)"

GET_ALL_CHUNK: Final = 100
"""Documents per batched read in :meth:`FirestoreStorage.list_progress`."""

MAX_ATTEMPTS: Final = 12
"""Tries of a transaction that keeps aborting on contention before ``StorageError``."""

RETRY_FIRST_S: Final = 0.02
RETRY_MAX_S: Final = 1.0
"""Bounds of the random pause before retrying an aborted transaction (doubling each time)."""

PING_TIMEOUT_S: Final = 5.0
"""``ping`` is a health check: it fails fast instead of retrying for a minute."""

LOCK_STRIPES: Final = 64
"""Local locks that same-process transactions on one document queue on (see module doc)."""

READ_TRIES: Final = 5
"""Tries of :meth:`FirestoreStorage.get_published_pack` when a publication replaced the one it
was reading (its parts deleted under it) before ``StorageError``."""

ORPHAN_AGE: Final = timedelta(hours=1)
"""Parts of a publication that never became current (a publish that stopped half-way) are
deleted by a later publish of the same pack once they are this old: younger ones may belong to
a publish still running."""

_OLDEST_FIRST: Final[tuple[tuple[str, Direction], ...]] = (
    ("created_at", ASCENDING),
    ("id", ASCENDING),
)
_NEWEST_FIRST: Final[tuple[tuple[str, Direction], ...]] = (
    ("created_at", DESCENDING),
    ("id", DESCENDING),
)
_BY_JOINING: Final[tuple[tuple[str, Direction], ...]] = (
    ("joined_at", ASCENDING),
    ("user_id", ASCENDING),
)
_BY_TIME_AND_ID: Final[tuple[tuple[str, Direction], ...]] = (("at", ASCENDING), ("id", ASCENDING))

_SCHEME: Final = "firestore://"
_PROJECT_ID = re.compile(r"^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_DATABASE_ID = re.compile(r"^[a-z][a-z0-9-]{2,61}[a-z0-9]$")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_URL_HELP: Final = "expected firestore://PROJECT_ID or firestore://PROJECT_ID/DATABASE_ID"


def parse_url(url: str) -> tuple[str, str]:
    """``(project_id, database_id)`` named by a ``firestore://`` URL.

    ``StartupError`` naming the URL for anything else — another scheme, a missing or malformed
    project id, an empty or malformed database id, a query string — so a typo stops start-up
    instead of writing to some other project.
    """
    if not url.startswith(_SCHEME):
        raise StartupError(f"not a firestore URL: {url!r} ({_URL_HELP})")
    rest = url[len(_SCHEME) :]
    if any(char in rest for char in "?#@"):
        raise StartupError(f"bad firestore URL {url!r}: no query, fragment or user ({_URL_HELP})")
    project, slash, database = rest.partition("/")
    if not project:
        raise StartupError(f"bad firestore URL {url!r}: the project id is missing ({_URL_HELP})")
    if not _PROJECT_ID.match(project):
        raise StartupError(
            f"bad firestore URL {url!r}: {project!r} is not a Google Cloud project id"
            " (6-30 lower-case letters, digits or hyphens, starting with a letter)"
        )
    if not slash:
        return project, DEFAULT_DATABASE
    if database != DEFAULT_DATABASE and not _DATABASE_ID.match(database):
        raise StartupError(
            f"bad firestore URL {url!r}: {database!r} is not a database id"
            " (4-63 lower-case letters, digits or hyphens, starting with a letter)"
        )
    return project, database


class FirestoreStorage:
    """The storage port on one Firestore database. See the module docstring.

    ``ops`` counts the document reads, writes and deletes performed
    (:class:`~eduverse_firestore.ops.OpsCounter`); ``queries`` records the shape of every
    query built (:class:`~eduverse_firestore.queries.QueryRecorder`).
    """

    def __init__(
        self,
        project: str,
        database: str = DEFAULT_DATABASE,
        *,
        shards: int = COUNTER_SHARDS_DEFAULT,
        client: firestore.Client | None = None,
        rng: random.Random | None = None,
        part_bytes: int = PART_BYTES,
    ) -> None:
        """Connect lazily (nothing is sent until the first call) to ``database`` of
        ``project``; ``client`` replaces the default Google client, ``rng`` the source of
        shard choices and retry pauses, ``part_bytes`` the size of published packs' parts
        (smaller ones for tests)."""
        if shards < 1:
            raise ValueError(f"shards must be at least 1, got {shards}")
        if not 1 <= part_bytes <= PART_BYTES:
            raise ValueError(f"part_bytes must be in 1..{PART_BYTES}, got {part_bytes}")
        self.part_bytes = part_bytes
        self.project = project
        self.database = database
        self.shards = shards
        suffix = "" if database == DEFAULT_DATABASE else f"/{database}"
        self.name = f"{_SCHEME}{project}{suffix}"
        self.ops = OpsCounter()
        self.queries = QueryRecorder()
        self._rng = rng if rng is not None else random.Random()
        self._locks = _KeyLocks(LOCK_STRIPES)
        self._closed = False
        self._close_lock = threading.Lock()
        if client is None:
            try:
                client = firestore.Client(project=project, database=database)
            except GoogleAuthError as exc:
                raise StartupError(
                    f"no Google Cloud credentials for {self.name}: {exc} (set up Application"
                    " Default Credentials, or FIRESTORE_EMULATOR_HOST for the emulator)"
                ) from exc
        self._client = client

    @classmethod
    def from_url(cls, url: str) -> FirestoreStorage:
        """The factory registered for the ``firestore`` scheme."""
        project, database = parse_url(url)
        return cls(project, database)

    def __repr__(self) -> str:
        return f"FirestoreStorage({self.name!r})"

    # -- plumbing -------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"Firestore storage {self.name} is closed")

    @contextmanager
    def _driver_errors(self) -> Iterator[None]:
        """Google client errors leave as ``StorageError`` (the cause is kept)."""
        try:
            yield
        except google_errors.GoogleAPIError as exc:
            raise StorageError(f"Firestore {self.name}: {_describe(exc)}") from exc

    def _doc(self, collection: str, *parts: str | int) -> DocumentReference:
        return self._client.collection(collection).document(doc_id(*parts))

    def _query(
        self,
        collection: str,
        *,
        equals: Mapping[str, object | None] | None = None,
        ranges: Sequence[tuple[str, str, object]] = (),
        order: Sequence[tuple[str, Direction]] = (),
        limit: int | None = None,
        start_after: Mapping[str, object] | None = None,
    ) -> Query:
        """The one place queries are built: equality filters for the ``equals`` given (None
        means "any", no filter), then ``ranges``, ``order``, cursor and limit. Records the
        query's shape in :attr:`queries`."""
        given = {field: value for field, value in (equals or {}).items() if value is not None}
        shape = QueryShape(
            collection,
            equals=tuple(sorted(given)),
            ranges=tuple(sorted({field for field, _, _ in ranges})),
            order=tuple(order),
        )
        self.queries.record(shape)
        query = Query(self._client.collection(collection))
        for field, value in given.items():
            query = query.where(filter=FieldFilter(field, "==", value))
        for field, op, value in ranges:
            query = query.where(filter=FieldFilter(field, op, value))
        for field, direction in order:
            query = query.order_by(field, direction=direction)
        if start_after is not None:
            query = query.start_after(dict(start_after))
        if limit is not None:
            query = query.limit(limit)
        return query

    def _get(self, ref: DocumentReference) -> DocumentSnapshot[DocumentReference]:
        self._check_open()
        with self._driver_errors():
            snapshot = ref.get()
        self.ops.add(reads=1)
        return snapshot

    def _read(self, model: type[M], ref: DocumentReference) -> M | None:
        snapshot = self._get(ref)
        return _decode(model, snapshot) if snapshot.exists else None

    def _stream(self, query: Query) -> list[DocumentSnapshot[DocumentReference]]:
        self._check_open()
        with self._driver_errors():
            snapshots = list(query.stream())
        self.ops.add(reads=max(1, len(snapshots)))
        return snapshots

    def _list(self, model: type[M], query: Query) -> list[M]:
        return [_decode(model, snapshot) for snapshot in self._stream(query)]

    def _first(self, model: type[M], query: Query) -> M | None:
        found = self._list(model, query.limit(1))
        return found[0] if found else None

    def _transact(self, body: Callable[[_Txn], T], *, lock: Iterable[DocumentReference] = ()) -> T:
        """Run ``body`` in a Firestore transaction, again on contention; return its result.

        ``lock`` names the documents ``body`` reads and then writes: same-process callers
        queue on them first. Up to :data:`MAX_ATTEMPTS` tries, each after a random pause of up
        to twice the previous bound; a retry passes the first attempt's id so Firestore keeps
        its place in line. An exception from ``body`` (a ``Conflict``, the caller's mutation
        failing) rolls back and propagates unchanged, after one try.

        The client's ``transactional`` helper is not used: it retries only an aborted
        commit, at once (two contenders retried in step meet again), and gives up on a read
        that aborts (a lock timeout, in the emulator).
        """
        self._check_open()
        retry_id: bytes | None = None
        pause = RETRY_FIRST_S
        with self._locks.holding(ref.path for ref in lock), self._driver_errors():
            for attempt in range(1, MAX_ATTEMPTS + 1):
                transaction = self._client.transaction()
                transaction._begin(retry_id=retry_id)
                if retry_id is None:
                    retry_id = transaction._id
                txn = _Txn(self, transaction)
                try:
                    result = body(txn)
                    transaction._commit()
                except google_errors.Aborted as exc:
                    _rollback_quietly(transaction)
                    if attempt == MAX_ATTEMPTS:
                        raise StorageError(
                            f"Firestore {self.name}: a transaction kept conflicting with"
                            f" others ({MAX_ATTEMPTS} tries): {_describe(exc)}"
                        ) from exc
                    self.ops.add(retries=1)
                    time.sleep(self._rng.uniform(0, pause))
                    pause = min(pause * 2, RETRY_MAX_S)
                    continue
                except BaseException:
                    _rollback_quietly(transaction)
                    raise
                self.ops.add(writes=txn.writes, deletes=txn.deletes, transactions=1)
                return result
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _add_counters(self, txn: _Txn, deltas: CounterDeltas) -> None:
        """Add ``deltas`` inside ``txn``: per scope, one blind ``Increment`` per name on one
        shard picked at random (a retried attempt may pick another: its writes were
        discarded)."""
        for scope, names in deltas.items():
            if not names:
                continue
            shard = self._rng.randrange(self.shards)
            counts = {encode_key(name): firestore.Increment(int(n)) for name, n in names.items()}
            fields = {"scope": scope, "shard": shard, "counts": counts}
            txn.set(self._shard(scope, shard), fields, merge=True)

    def _shard(self, scope: str, shard: int) -> DocumentReference:
        return self._doc(COUNTER_SHARDS, scope, f"{shard:02d}")

    # -- lifecycle ------------------------------------------------------------------------
    def ping(self) -> None:
        """Reads ``eduverse_meta/layout`` (creating it on a fresh database) and insists on
        :data:`~eduverse_firestore.layout.LAYOUT_VERSION`. Fails fast: no retries."""
        self._check_open()
        ref = self._client.collection(META).document("layout")
        with self._driver_errors():
            snapshot = ref.get(retry=None, timeout=PING_TIMEOUT_S)
            self.ops.add(reads=1)
            if not snapshot.exists:
                try:
                    ref.create({"version": LAYOUT_VERSION}, retry=None, timeout=PING_TIMEOUT_S)
                    self.ops.add(writes=1)
                    return
                except google_errors.AlreadyExists:  # another instance was first
                    snapshot = ref.get(retry=None, timeout=PING_TIMEOUT_S)
                    self.ops.add(reads=1)
        version = (snapshot.to_dict() or {}).get("version")
        if version != LAYOUT_VERSION:
            newer = isinstance(version, int) and version > LAYOUT_VERSION
            raise StorageError(
                f"Firestore {self.name} has layout version {version!r}, expected"
                f" {LAYOUT_VERSION}"
                + (" (it is newer: upgrade eduverse-firestore)" if newer else "")
            )

    def close(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._client.close()  # type: ignore[no-untyped-call]
        except Exception:  # closing must not fail; the channel is being dropped anyway
            log.debug("closing the Firestore client failed", exc_info=True)

    # -- users ----------------------------------------------------------------------------
    def create_user(self, user: User) -> None:
        """Reads ``users/{id}`` and ``user_emails/{email}``; creates both."""
        user_ref, email_ref = self._doc(USERS, user.id), self._doc(USER_EMAILS, user.email)

        def body(txn: _Txn) -> None:
            if txn.get(user_ref).exists:
                raise Conflict(f"user {user.id!r} already exists", code="id_taken")
            _require_email_free(txn.get(email_ref), user)
            txn.create(user_ref, _record_fields(USERS, user))
            txn.set(email_ref, {"user_id": user.id})

        self._transact(body, lock=[user_ref, email_ref])

    def get_user(self, user_id: str) -> User | None:
        return self._read(User, self._doc(USERS, user_id))

    def get_user_by_email(self, email: str) -> User | None:
        return self._first(User, self._query(USERS, equals={"email": email}))

    def update_user(self, user: User) -> None:
        """Reads ``users/{id}`` and the guard of the new e-mail; writes the user and, when the
        e-mail changes, deletes the old guard and creates the new one."""
        user_ref, email_ref = self._doc(USERS, user.id), self._doc(USER_EMAILS, user.email)

        def body(txn: _Txn) -> None:
            snapshot = txn.get(user_ref)
            if not snapshot.exists:
                raise NotFound(f"user {user.id!r} not found")
            current = _decode(User, snapshot)
            guard = txn.get(email_ref) if current.email != user.email else None
            if guard is not None:
                _require_email_free(guard, user)
                txn.delete(self._doc(USER_EMAILS, current.email))
                txn.set(email_ref, {"user_id": user.id})
            txn.set(user_ref, _record_fields(USERS, user))

        self._transact(body, lock=[user_ref, email_ref])

    def list_users(self, role: str | None = None) -> list[User]:
        query = self._query(USERS, equals={"role": role}, order=_OLDEST_FIRST)
        return self._list(User, query)

    # -- progress -------------------------------------------------------------------------
    def get_progress(self, user_id: str, pack_id: str) -> Progress | None:
        return self._read(Progress, self._doc(PROGRESS, user_id, pack_id))

    def update_progress(self, user_id: str, pack_id: str, mutate: ProgressMutation) -> Progress:
        """Reads and writes ``progress/{user}|{pack}``."""
        ref = self._doc(PROGRESS, user_id, pack_id)

        def body(txn: _Txn) -> Progress:
            current = txn.read(Progress, ref) or Progress(user_id=user_id, pack_id=pack_id)
            return _store_progress(txn, ref, user_id, pack_id, mutate(current))

        return self._transact(body, lock=[ref])

    def get_users(self, user_ids: list[str]) -> dict[str, User]:
        """Batched reads by id (no query): one read per listed id."""
        refs = [self._doc(USERS, user_id) for user_id in sorted(set(user_ids))]
        return {user.id: user for user in self._get_many(User, refs)}

    def list_progress(self, user_ids: list[str], pack_id: str) -> dict[str, Progress]:
        """Batched reads by id (no query): one read per listed user."""
        refs = [self._doc(PROGRESS, user_id, pack_id) for user_id in sorted(set(user_ids))]
        return {progress.user_id: progress for progress in self._get_many(Progress, refs)}

    def _get_many(self, model: type[M], refs: list[DocumentReference]) -> list[M]:
        """The existing documents among ``refs``, read ``GET_ALL_CHUNK`` to a round trip
        (every listed document is billed as a read, found or not)."""
        found: list[M] = []
        for start in range(0, len(refs), GET_ALL_CHUNK):
            chunk = refs[start : start + GET_ALL_CHUNK]
            self._check_open()
            with self._driver_errors():
                snapshots = list(self._client.get_all(chunk))
            self.ops.add(reads=len(chunk))
            found.extend(_decode(model, snapshot) for snapshot in snapshots if snapshot.exists)
        return found

    # -- classes --------------------------------------------------------------------------
    def create_classroom(self, classroom: Classroom) -> None:
        """Reads ``classrooms/{id}`` and ``invite_codes/{code}``; creates both."""
        class_ref = self._doc(CLASSROOMS, classroom.id)
        code_ref = self._doc(INVITE_CODES, classroom.invite_code)

        def body(txn: _Txn) -> None:
            if txn.get(class_ref).exists:
                raise Conflict(f"class {classroom.id!r} already exists", code="id_taken")
            _require_code_free(txn.get(code_ref), classroom.invite_code, classroom.id)
            txn.create(class_ref, _record_fields(CLASSROOMS, classroom))
            txn.set(code_ref, {"class_id": classroom.id})

        self._transact(body, lock=[class_ref, code_ref])

    def get_classroom(self, class_id: str) -> Classroom | None:
        return self._read(Classroom, self._doc(CLASSROOMS, class_id))

    def get_classroom_by_invite_code(self, invite_code: str) -> Classroom | None:
        query = self._query(CLASSROOMS, equals={"invite_code": invite_code})
        return self._first(Classroom, query)

    def list_classrooms(self, instructor_id: str | None = None) -> list[Classroom]:
        equals = {"instructor_id": instructor_id}
        query = self._query(CLASSROOMS, equals=equals, order=_OLDEST_FIRST)
        return self._list(Classroom, query)

    def set_invite_code(self, class_id: str, invite_code: str) -> Classroom:
        """Reads ``classrooms/{id}`` and the new code's guard; writes the class, deletes the
        old guard and creates the new one."""
        class_ref, code_ref = self._doc(CLASSROOMS, class_id), self._doc(INVITE_CODES, invite_code)

        def body(txn: _Txn) -> Classroom:
            current = txn.read(Classroom, class_ref)
            if current is None:
                raise NotFound(f"class {class_id!r} not found")
            if current.invite_code == invite_code:
                return current
            _require_code_free(txn.get(code_ref), invite_code, class_id)
            # model_validate, not model_copy(update=…): the new code must match the pattern.
            changed = Classroom.model_validate({**current.model_dump(), "invite_code": invite_code})
            txn.delete(self._doc(INVITE_CODES, current.invite_code))
            txn.set(code_ref, {"class_id": class_id})
            txn.set(class_ref, _record_fields(CLASSROOMS, changed))
            return changed

        return self._transact(body, lock=[class_ref, code_ref])

    def delete_classroom(self, class_id: str) -> None:
        """Reads the class, then queries its memberships, its questions and the shards of its
        counter scopes (``class:<id>`` and the range of ``class:<id>:…``); deletes all of
        them with the class and its invite-code guard. Logs, reflections and progress stay.

        One transaction of a few hundred deletes for a big class; Firestore's limit is on
        the request size (10 MiB), far above it.
        """
        class_ref = self._doc(CLASSROOMS, class_id)
        scope = f"class:{class_id}"

        def body(txn: _Txn) -> None:
            classroom = txn.read(Classroom, class_ref)
            if classroom is None:
                raise NotFound(f"class {class_id!r} not found")
            doomed = [
                *txn.query(self._query(MEMBERSHIPS, equals={"class_id": class_id})),
                *txn.query(self._query(QUESTIONS, equals={"class_id": class_id})),
                *txn.query(self._query(COUNTER_SHARDS, equals={"scope": scope})),
                # Exactly the strings in ["class:<id>:", "class:<id>;"): ';' follows ':'.
                *txn.query(
                    self._query(
                        COUNTER_SHARDS,
                        ranges=[("scope", ">=", scope + ":"), ("scope", "<", scope + ";")],
                    )
                ),
            ]
            for snapshot in doomed:
                txn.delete(snapshot.reference)
            txn.delete(self._doc(INVITE_CODES, classroom.invite_code))
            txn.delete(class_ref)

        self._transact(body, lock=[class_ref])

    def join_classroom(self, membership: Membership) -> Membership | None:
        """Reads ``classrooms/{class}`` and ``memberships/{user}``; writes the membership (a
        student has one membership document, so joining replaces the previous one)."""
        class_ref = self._doc(CLASSROOMS, membership.class_id)
        member_ref = self._doc(MEMBERSHIPS, membership.user_id)

        def body(txn: _Txn) -> Membership | None:
            if not txn.get(class_ref).exists:
                raise NotFound(f"class {membership.class_id!r} not found")
            previous = txn.read(Membership, member_ref)
            txn.set(member_ref, _record_fields(MEMBERSHIPS, membership))
            return previous

        return self._transact(body, lock=[class_ref, member_ref])

    def leave_classroom(self, user_id: str) -> Membership | None:
        """Reads and deletes ``memberships/{user}``."""
        ref = self._doc(MEMBERSHIPS, user_id)

        def body(txn: _Txn) -> Membership | None:
            previous = txn.read(Membership, ref)
            if previous is not None:
                txn.delete(ref)
            return previous

        return self._transact(body, lock=[ref])

    def get_membership(self, user_id: str) -> Membership | None:
        return self._read(Membership, self._doc(MEMBERSHIPS, user_id))

    def list_members(self, class_id: str) -> list[Membership]:
        query = self._query(MEMBERSHIPS, equals={"class_id": class_id}, order=_BY_JOINING)
        return self._list(Membership, query)

    # -- questions ------------------------------------------------------------------------
    def add_question(self, question: Question) -> None:
        """One ``create`` (it fails if the document exists): no transaction needed."""
        self._check_open()
        ref = self._doc(QUESTIONS, question.id)
        with self._driver_errors():
            try:
                ref.create(_record_fields(QUESTIONS, question))
            except google_errors.AlreadyExists:
                raise Conflict(
                    f"question {question.id!r} already exists", code="id_taken"
                ) from None
        self.ops.add(writes=1)

    def get_question(self, question_id: str) -> Question | None:
        return self._read(Question, self._doc(QUESTIONS, question_id))

    def update_question(self, question: Question) -> None:
        """One ``update`` of every field (it fails if the document is missing)."""
        self._check_open()
        ref = self._doc(QUESTIONS, question.id)
        with self._driver_errors():
            try:
                ref.update(_record_fields(QUESTIONS, question))
            except google_errors.NotFound:
                raise NotFound(f"question {question.id!r} not found") from None
        self.ops.add(writes=1)

    def list_questions(
        self, *, class_id: str | None = None, student_id: str | None = None
    ) -> list[Question]:
        query = self._query(
            QUESTIONS,
            equals={"class_id": class_id, "student_id": student_id},
            order=_NEWEST_FIRST,
        )
        return self._list(Question, query)

    def question_summary(self, class_id: str) -> QuestionSummary:
        """A ``count()`` aggregation of the unanswered (billed one read per 1 000 index
        entries it counts) and the newest question (one document): two or three reads
        however many questions the class has asked."""
        unanswered = self._query(QUESTIONS, equals={"class_id": class_id, "resolved": False})
        self._check_open()
        aggregation: Any = unanswered.count(alias="n")  # the library's annotations are off here
        with self._driver_errors():
            results = aggregation.get()
        count = int(results[0][0].value) if results and results[0] else 0
        self.ops.add(reads=max(1, -(-count // 1000)))
        newest_query = self._query(
            QUESTIONS, equals={"class_id": class_id}, order=_NEWEST_FIRST, limit=1
        )
        newest = self._list(Question, newest_query)
        return QuestionSummary(count, newest[0].created_at if newest else None)

    # -- submissions ----------------------------------------------------------------------
    def record_submission(
        self, log: SubmissionLog, counters: CounterDeltas, mutate_progress: ProgressMutation | None
    ) -> Progress:
        """Reads ``submissions/{id}`` (must be absent) and ``progress/{student}|{pack}``;
        creates the log, writes the progress (if mutated) and one shard per counter scope."""
        log_ref = self._doc(SUBMISSIONS, log.id)
        progress_ref = self._doc(PROGRESS, log.student_id, log.pack_id)

        def body(txn: _Txn) -> Progress:
            if txn.get(log_ref).exists:
                raise Conflict(f"submission {log.id!r} already exists", code="id_taken")
            current = txn.read(Progress, progress_ref)
            progress = current or Progress(user_id=log.student_id, pack_id=log.pack_id)
            if mutate_progress is not None:
                changed = mutate_progress(progress)
                progress = _store_progress(txn, progress_ref, log.student_id, log.pack_id, changed)
            txn.create(log_ref, _record_fields(SUBMISSIONS, log))
            self._add_counters(txn, counters)
            return progress

        return self._transact(body, lock=[log_ref, progress_ref])

    def list_submissions(
        self,
        *,
        class_id: str | None = None,
        student_id: str | None = None,
        pack_id: str | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[SubmissionLog]:
        """Ordered by ``(at, id)``; ``after`` becomes a cursor on those two values, exact even
        when times tie."""
        cursor: dict[str, object] | None = None
        if after is not None:
            previous = self._get(self._doc(SUBMISSIONS, after))
            if not previous.exists:
                raise NotFound(f"submission {after!r} not found (the `after` cursor)")
            fields = previous.to_dict() or {}
            cursor = {"at": fields.get("at"), "id": fields.get("id")}
        if limit is not None and limit <= 0:
            return []
        query = self._query(
            SUBMISSIONS,
            equals={"class_id": class_id, "student_id": student_id, "pack_id": pack_id},
            order=_BY_TIME_AND_ID,
            limit=limit,
            start_after=cursor,
        )
        return self._list(SubmissionLog, query)

    # -- reflections ----------------------------------------------------------------------
    def save_reflection(
        self, reflection: Reflection, deltas: ReflectionDeltas
    ) -> Reflection | None:
        """Reads and writes ``reflections/{student}|{pack}|{week}``; writes one shard per
        counter scope of the deltas."""
        ref = self._doc(REFLECTIONS, reflection.student_id, reflection.pack_id, reflection.week)

        def body(txn: _Txn) -> Reflection | None:
            previous = txn.read(Reflection, ref)
            changes = deltas(previous, reflection)
            txn.set(ref, _record_fields(REFLECTIONS, reflection))
            self._add_counters(txn, changes)
            return previous

        return self._transact(body, lock=[ref])

    def get_reflection(self, student_id: str, pack_id: str, week: int) -> Reflection | None:
        return self._read(Reflection, self._doc(REFLECTIONS, student_id, pack_id, week))

    def list_reflections(
        self,
        *,
        student_id: str | None = None,
        class_id: str | None = None,
        pack_id: str | None = None,
        week: int | None = None,
    ) -> list[Reflection]:
        """By week, then time, then document id (student, pack). With a week filter the
        ordering leaves ``week`` out: one index ``(filters…, week, at)`` serves both."""
        order: tuple[tuple[str, Direction], ...] = (("at", ASCENDING),)
        if week is None:
            order = (("week", ASCENDING), *order)
        filters = {"student_id": student_id, "class_id": class_id, "pack_id": pack_id}
        query = self._query(REFLECTIONS, equals={**filters, "week": week}, order=order)
        return self._list(Reflection, query)

    # -- auth state -----------------------------------------------------------------------
    def revoke_token(self, token_id: str, expires_at: datetime) -> None:
        """Reads and (unless a later expiry is stored) writes ``revoked_tokens/{token}``."""
        expires_at = require_aware(expires_at, "expires_at")
        ref = self._doc(REVOKED_TOKENS, token_id)

        def body(txn: _Txn) -> None:
            stored = (txn.get(ref).to_dict() or {}).get("expires_at")
            if isinstance(stored, datetime) and stored >= expires_at:
                return  # the later expiry wins
            txn.set(ref, {"token_id": token_id, "expires_at": expires_at})

        self._transact(body, lock=[ref])

    def is_token_revoked(self, token_id: str) -> bool:
        snapshot = self._get(self._doc(REVOKED_TOKENS, token_id))
        stored = (snapshot.to_dict() or {}).get("expires_at")
        return isinstance(stored, datetime) and stored > utcnow()

    def hit_rate_limit(self, key: str, window_seconds: int, now: datetime) -> int:
        """One write, no transaction: an ``Increment`` of ``rate_limits/{key}|{size}|{start}``
        whose result (the count after it) comes back in the commit's transform results."""
        start, end = rate_limit_window(now, window_seconds)
        self._check_open()
        ref = self._doc(RATE_LIMITS, key, window_seconds, _micros(start))
        fields = {
            "key": key,
            "window_seconds": window_seconds,
            "window_start": start,
            "expires_at": end,
            "hits": firestore.Increment(1),
        }
        with self._driver_errors():
            result = ref.set(fields, merge=True)
        self.ops.add(writes=1)
        return int(result.transform_results[0].integer_value)

    def peek_rate_limit(self, key: str, window_seconds: int, now: datetime) -> int:
        start, _ = rate_limit_window(now, window_seconds)
        snapshot = self._get(self._doc(RATE_LIMITS, key, window_seconds, _micros(start)))
        return int((snapshot.to_dict() or {}).get("hits", 0))

    # -- counters -------------------------------------------------------------------------
    def get_counters(self, scope: str) -> dict[str, int]:
        """The sum over the scope's shards: one query, one read per shard written so far."""
        totals: dict[str, int] = {}
        for snapshot in self._stream(self._query(COUNTER_SHARDS, equals={"scope": scope})):
            counts = (snapshot.to_dict() or {}).get("counts") or {}
            for key, value in counts.items():
                name = decode_key(key)
                totals[name] = totals.get(name, 0) + int(value)
        return totals

    # -- published packs ------------------------------------------------------------------
    def publish_pack(
        self, pack_id: str, version: str, document: Mapping[str, Any], published_at: datetime
    ) -> None:
        """Three steps, so that no request comes near a limit and readers never see a mix:

        1. the document, compressed and cut into parts, is written to new part documents
           ``published_pack_parts/{pack}|{key}|{n}`` under a fresh random ``key``, one write
           each (nobody reads them yet);
        2. one transaction reads ``published_packs/{pack}`` and replaces it with the new
           publication, naming ``key`` and the number of parts: the switch;
        3. the parts of the publication it replaced are deleted, and so are parts of
           publishes that stopped before their switch (older than :data:`ORPHAN_AGE`).

        A reader follows ``published_packs/{pack}`` to parts that exist whole, or finds them
        gone (step 3 of a newer publish) and reads the new publication instead. If step 2
        fails, the new parts are deleted again.
        """
        if not pack_id:
            raise ValueError("a published pack needs a non-empty pack id")
        moment = require_aware(published_at, "published_at")
        info = PublishedPackInfo(pack_id=pack_id, version=version, published_at=moment)
        text = published_document_json(document).encode()
        compressed = gzip.compress(text, compresslevel=6, mtime=0)
        size = self.part_bytes
        parts = [compressed[start : start + size] for start in range(0, len(compressed), size)]
        if len(parts) > MAX_PARTS:
            raise StorageError(
                f"published pack {pack_id!r} is too large for Firestore: {len(text)} bytes of"
                f" JSON, {len(compressed)} compressed (at most {MAX_PARTS * size})"
            )
        self._check_open()
        key = secrets.token_hex(8)
        written_at = utcnow()
        new_parts = [self._part(pack_id, key, index) for index in range(len(parts))]
        try:
            for index, (ref, part) in enumerate(zip(new_parts, parts, strict=True)):
                fields = {
                    "pack_id": pack_id,
                    "key": key,
                    "index": index,
                    "written_at": written_at,
                    "data": part,
                }
                with self._driver_errors():
                    ref.set(fields)
                self.ops.add(writes=1)
            head = self._doc(PUBLISHED_PACKS, pack_id)
            fields = {
                "pack_id": pack_id,
                "version": version,
                "published_at": moment,
                "key": key,
                "parts": len(parts),
                "size": len(text),
                "compressed": len(compressed),
                "sha256": hashlib.sha256(compressed).hexdigest(),
                "data": info.model_dump_json(),
            }

            def switch(txn: _Txn) -> str | None:
                previous = (txn.get(head).to_dict() or {}).get("key")
                txn.set(head, fields)
                return previous if isinstance(previous, str) else None

            replaced = self._transact(switch, lock=[head])
        except BaseException:
            self._delete_quietly(new_parts)
            raise
        self._delete_stale_parts(pack_id, keep=key, replaced=replaced)

    def get_published_pack(self, pack_id: str) -> PublishedPack | None:
        """Reads ``published_packs/{pack}``, then its parts in one batch; when a newer
        publication deleted them meanwhile, reads again (up to :data:`READ_TRIES` times)."""
        head = self._doc(PUBLISHED_PACKS, pack_id)
        for _ in range(READ_TRIES):
            snapshot = self._get(head)
            if not snapshot.exists:
                return None
            info = _decode(PublishedPackInfo, snapshot)
            fields = snapshot.to_dict() or {}
            key, count = fields.get("key"), fields.get("parts")
            if not isinstance(key, str) or not isinstance(count, int) or count < 1:
                raise StorageError(f"stored published pack {pack_id!r} names no parts")
            refs = [self._part(pack_id, key, index) for index in range(count)]
            found = self._get_all(refs)
            if len(found) < count:
                continue  # replaced while we read: its parts are being deleted
            compressed = b"".join(found[ref.path] for ref in refs)
            if hashlib.sha256(compressed).hexdigest() != fields.get("sha256"):
                raise StorageError(f"stored published pack {pack_id!r} is damaged (checksum)")
            document = _decompress_document(pack_id, compressed)
            return PublishedPack(**dict(info), document=document)
        raise StorageError(
            f"Firestore {self.name}: published pack {pack_id!r} kept changing while it was"
            f" read ({READ_TRIES} tries)"
        )

    def list_published_packs(self) -> list[PublishedPackInfo]:
        """One query on ``published_packs``: one small document per published pack."""
        query = self._query(PUBLISHED_PACKS, order=(("pack_id", ASCENDING),))
        return self._list(PublishedPackInfo, query)

    def _part(self, pack_id: str, key: str, index: int) -> DocumentReference:
        return self._doc(PUBLISHED_PACK_PARTS, pack_id, key, index)

    def _get_all(self, refs: Sequence[DocumentReference]) -> dict[str, bytes]:
        """The ``data`` of each existing part document among ``refs``, by path."""
        self._check_open()
        with self._driver_errors():
            snapshots = list(self._client.get_all(list(refs)))
        self.ops.add(reads=len(refs))
        found: dict[str, bytes] = {}
        for snapshot in snapshots:
            data = (snapshot.to_dict() or {}).get("data") if snapshot.exists else None
            if isinstance(data, bytes):
                found[snapshot.reference.path] = data
        return found

    def _delete_stale_parts(self, pack_id: str, *, keep: str, replaced: str | None) -> None:
        """Delete the parts of the replaced publication and orphans older than
        :data:`ORPHAN_AGE`: one query on ``published_pack_parts`` (without the data). A
        failure leaves garbage only (no reader follows it): logged, not raised."""
        cutoff = utcnow() - ORPHAN_AGE
        query = self._query(PUBLISHED_PACK_PARTS, equals={"pack_id": pack_id})
        try:
            snapshots = self._stream(query.select(["key", "written_at"]))
        except StorageError:
            log.warning("published pack %r: old parts not deleted", pack_id, exc_info=True)
            return
        stale = []
        for snapshot in snapshots:
            fields = snapshot.to_dict() or {}
            part_key, written_at = fields.get("key"), fields.get("written_at")
            if part_key == keep:
                continue
            orphan = isinstance(written_at, datetime) and written_at < cutoff
            if part_key == replaced or orphan:
                stale.append(snapshot.reference)
        self._delete_quietly(stale)

    def _delete_quietly(self, refs: Sequence[DocumentReference]) -> None:
        """Delete ``refs`` in batches; a failure is logged (it leaves unread garbage)."""
        try:
            self._check_open()
            for start in range(0, len(refs), 500):  # a batch holds 500 writes
                batch = self._client.batch()
                chunk = refs[start : start + 500]
                for ref in chunk:
                    batch.delete(ref)
                with self._driver_errors():
                    batch.commit()
                self.ops.add(deletes=len(chunk))
        except StorageError:
            log.warning("%d published pack parts not deleted", len(refs), exc_info=True)


# -- transactions -----------------------------------------------------------------------------
class _Txn:
    """One attempt of a transaction: reads (counted as they happen, a billed read is billed
    even if the attempt aborts), then writes (counted by ``_transact`` once committed)."""

    def __init__(self, storage: FirestoreStorage, transaction: Transaction) -> None:
        self._storage = storage
        self.transaction = transaction
        self.writes = 0
        self.deletes = 0

    def get(self, ref: DocumentReference) -> DocumentSnapshot[DocumentReference]:
        snapshot = ref.get(transaction=self.transaction)
        self._storage.ops.add(reads=1)
        return snapshot

    def read(self, model: type[M], ref: DocumentReference) -> M | None:
        snapshot = self.get(ref)
        return _decode(model, snapshot) if snapshot.exists else None

    def query(self, query: Query) -> list[DocumentSnapshot[DocumentReference]]:
        snapshots = list(query.stream(transaction=self.transaction))
        self._storage.ops.add(reads=max(1, len(snapshots)))
        return snapshots

    def create(self, ref: DocumentReference, fields: dict[str, Any]) -> None:
        self.transaction.create(ref, fields)
        self.writes += 1

    def set(self, ref: DocumentReference, fields: dict[str, Any], *, merge: bool = False) -> None:
        self.transaction.set(ref, fields, merge=merge)
        self.writes += 1

    def delete(self, ref: DocumentReference) -> None:
        self.transaction.delete(ref)
        self.deletes += 1


def _rollback_quietly(transaction: Transaction) -> None:
    # After a failed commit the transaction may already be gone on the server; the error
    # worth reporting is the one that got us here.
    if not transaction.in_progress:
        return
    try:
        transaction._rollback()
    except google_errors.GoogleAPIError:
        log.debug("rollback failed", exc_info=True)


class _KeyLocks:
    """Striped re-entrant locks by document path. A transaction takes the stripes of every
    document it names, in stripe order, so two transactions never wait on each other in
    opposite orders; re-entrant so that a nested call (a mutation that, against the rules,
    calls storage) sees no deadlock here."""

    def __init__(self, stripes: int) -> None:
        self._locks = [threading.RLock() for _ in range(stripes)]

    @contextmanager
    def holding(self, paths: Iterable[str]) -> Iterator[None]:
        stripes = sorted({zlib.crc32(path.encode()) % len(self._locks) for path in paths})
        with ExitStack() as stack:
            for stripe in stripes:
                stack.enter_context(self._locks[stripe])
            yield


# -- documents --------------------------------------------------------------------------------
def _decode(model: type[M], snapshot: DocumentSnapshot[DocumentReference]) -> M:
    data = (snapshot.to_dict() or {}).get("data")
    if not isinstance(data, str):
        raise StorageError(f"stored {model.__name__} {snapshot.id!r} has no data")
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        # Stored documents were valid when written: this is a damaged or foreign database.
        raise StorageError(
            f"stored {model.__name__} is invalid: {exc.error_count()} errors"
        ) from exc


def _decompress_document(pack_id: str, compressed: bytes) -> dict[str, Any]:
    try:
        document = json.loads(gzip.decompress(compressed))
    except (OSError, EOFError, ValueError) as exc:
        raise StorageError(f"stored published pack {pack_id!r} does not decompress") from exc
    if not isinstance(document, dict):
        raise StorageError(f"stored published pack {pack_id!r} is not a JSON object")
    return document


def _store_progress(
    txn: _Txn, ref: DocumentReference, user_id: str, pack_id: str, changed: Progress
) -> Progress:
    data = changed.model_dump_json()
    txn.set(ref, {"user_id": user_id, "pack_id": pack_id, "data": data})
    # A fresh instance (the caller's mutation may hold on to `changed`), validated on the way:
    # a mutation built with model_copy(update=…) skips validation, storage must not.
    return Progress.model_validate_json(data)


def _record_fields(collection: str, record: BaseModel) -> dict[str, Any]:
    """A model record's document: its query fields (:data:`QUERY_FIELDS`) and ``data``."""
    fields = {name: getattr(record, name) for name in QUERY_FIELDS[collection]}
    fields["data"] = record.model_dump_json()
    return fields


def _require_email_free(guard: DocumentSnapshot[DocumentReference], user: User) -> None:
    owner = (guard.to_dict() or {}).get("user_id") if guard.exists else None
    if owner is not None and owner != user.id:
        raise Conflict(f"e-mail {user.email!r} is already registered", code="email_taken")


def _require_code_free(
    guard: DocumentSnapshot[DocumentReference], code: str, class_id: str
) -> None:
    owner = (guard.to_dict() or {}).get("class_id") if guard.exists else None
    if owner is not None and owner != class_id:
        raise Conflict(f"invite code {code!r} is already in use", code="invite_code_taken")


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _describe(exc: google_errors.GoogleAPIError) -> str:
    """A short, one-line description of a client error."""
    text = exc.message if isinstance(exc, google_errors.GoogleAPICallError) else str(exc)
    first = str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__
    return first[:300]
