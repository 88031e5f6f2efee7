"""The SQLite storage backend (stdlib ``sqlite3`` only), registered as the ``sqlite`` scheme.

URLs follow SQLAlchemy: ``sqlite:///relative.db`` (relative to the working directory at start),
``sqlite:////abs/path.db``, and ``sqlite://:memory:`` (one database for the instance's life).

Concurrency: a threaded Flask server and several gunicorn workers may share one file. Each
write is one ``BEGIN IMMEDIATE`` transaction, which takes SQLite's single write lock before
anything is read, so every read-modify-write is atomic across threads *and* processes; WAL lets
readers go on meanwhile, and writers queue instead of failing (up to ``busy_timeout``): the
threads of one process on a lock (``_ConnectionPool.writer``), processes by retrying
``BEGIN IMMEDIATE`` at short intervals (``_begin_immediate``).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from ..errors import Conflict, NotFound, StartupError, StorageError
from ..models import (
    Classroom,
    Membership,
    Model,
    Progress,
    Question,
    Reflection,
    SubmissionLog,
    User,
    utcnow,
)
from ..plugins import hookimpl
from ..storage import (
    CounterDeltas,
    ProgressMutation,
    PublishedPack,
    PublishedPackInfo,
    QuestionSummary,
    ReflectionDeltas,
    StorageFactory,
    published_document_json,
    rate_limit_window,
    require_aware,
)
from .sqlite_schema import SCHEMA_VERSION, SchemaTooNew, check_version, migrate

log = logging.getLogger(__name__)

MEMORY = ":memory:"
"""The ``database`` that means one private in-memory database (as in ``sqlite3.connect``)."""

BUSY_TIMEOUT_S = 5.0
"""How long a writer waits for another's lock before giving up with ``StorageError``."""

WRITE_RETRY_FIRST_S = 0.00005
WRITE_RETRY_MAX_S = 0.0005
"""Pauses between tries to begin a write while another process holds the lock (see
``_begin_immediate``); one thread per process tries at a time."""

MAX_IDLE_CONNECTIONS = 8
"""Idle file connections kept for reuse; more are opened under load and closed afterwards."""

IN_CHUNK = 500
"""Ids per ``IN (…)`` query: far below SQLite's limit on bound parameters (999 on old builds)."""

PURGE_BATCH = 100
"""Expired auth-state rows deleted per write, at most. Each write adds at most one row and
removes up to this many expired ones, so a backlog drains while no single request (a login)
pays for cleaning up after a quiet week."""

_SCHEME = "sqlite://"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
M = TypeVar("M", bound=Model)


@hookimpl
def eduverse_register_storage_backends(register: Callable[[str, StorageFactory], None]) -> None:
    register("sqlite", SQLiteStorage.from_url)


def parse_url(url: str) -> Path | str:
    """The database named by a SQLAlchemy-style URL: a ``Path``, or :data:`MEMORY`.

    ``StartupError`` (naming the URL) for anything else, e.g. a host part (``sqlite://host/x``),
    an empty path or query parameters, so a typo fails at start rather than creating a file
    somewhere unexpected.
    """
    if not url.startswith(_SCHEME):
        raise StartupError(f"not a sqlite URL: {url!r} (expected sqlite:///path/to/file.db)")
    rest = url[len(_SCHEME) :]
    if rest in ("", MEMORY, "/" + MEMORY):
        return MEMORY
    if not rest.startswith("/") or rest == "/" or "?" in rest:
        raise StartupError(
            f"bad sqlite URL: {url!r} (use sqlite:///relative.db, sqlite:////absolute.db"
            " or sqlite://:memory:)"
        )
    return Path(rest[1:])


class SQLiteStorage:
    """The storage port on one SQLite database. See the module docstring for concurrency."""

    def __init__(self, database: Path | str, *, timeout: float = BUSY_TIMEOUT_S) -> None:
        """Open (creating if needed) and migrate ``database``: a path, or :data:`MEMORY`.

        A relative path is made absolute now, so a later ``chdir`` cannot move the database.
        """
        self._connections: _Connections
        self._timeout = timeout
        if isinstance(database, str) and database == MEMORY:
            self.name = MEMORY
            self._connections = _SharedConnection(timeout)
        else:
            path = Path(database).absolute()
            if not path.parent.is_dir():
                raise StorageError(
                    f"folder {str(path.parent)!r} for the SQLite database is missing"
                )
            self.name = str(path)
            self._connections = _ConnectionPool(self.name, timeout)
        try:
            self._prepare()
        except BaseException:
            self._connections.close()
            raise

    @classmethod
    def from_url(cls, url: str) -> SQLiteStorage:
        """The factory registered for the ``sqlite`` scheme."""
        return cls(parse_url(url))

    def __repr__(self) -> str:
        return f"SQLiteStorage({self.name!r})"

    # -- plumbing -------------------------------------------------------------------------
    def _prepare(self) -> None:
        with self._connection() as conn:
            if self.name != MEMORY:
                # WAL is a property of the file (it persists), so once is enough. Correctness
                # does not depend on it (locks do that), only readers' concurrency: warn, go on.
                (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
                if str(mode).lower() != "wal":
                    log.warning("SQLite %s stays in %s journal mode (no WAL)", self.name, mode)
                _set_synchronous(conn)  # this connection was opened before the switch
            migrate(conn)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """A connection for one operation; driver errors leave as ``StorageError``."""
        try:
            with self._connections.connection() as conn:
                yield conn
        except (sqlite3.Error, SchemaTooNew) as exc:
            raise StorageError(f"SQLite database {self.name}: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; any exception rolls everything back and propagates.

        ``BEGIN IMMEDIATE`` rather than a deferred ``BEGIN``: a deferred transaction takes the
        write lock only at its first write, so two read-then-write transactions could both
        read the old value (and one would then fail with "database is locked").
        """
        with self._connections.writer(), self._connection() as conn:
            _begin_immediate(conn, self._timeout)
            try:
                yield conn
            except BaseException:
                _rollback_quietly(conn)
                raise
            conn.execute("COMMIT")

    def _one(self, model: type[M], sql: str, params: Sequence[object] = ()) -> M | None:
        with self._connection() as conn:
            return _fetch_one(conn, model, sql, params)

    def _all(self, model: type[M], sql: str, params: Sequence[object] = ()) -> list[M]:
        with self._connection() as conn:
            return _fetch_all(conn, model, sql, params)

    # -- lifecycle ------------------------------------------------------------------------
    def ping(self) -> None:
        with self._connection() as conn:
            version = check_version(conn)  # SchemaTooNew when a newer EduVerse migrated it
            if version != SCHEMA_VERSION:
                raise StorageError(
                    f"SQLite database {self.name} has schema version {version},"
                    f" expected {SCHEMA_VERSION}"
                )

    def close(self) -> None:
        self._connections.close()

    # -- users ----------------------------------------------------------------------------
    def create_user(self, user: User) -> None:
        with self._transaction() as conn:
            _require_new_id(conn, "users", user.id, "user")
            _require_email_free(conn, user)
            conn.execute(
                "INSERT INTO users (id, email, role, created_us, data) VALUES (?, ?, ?, ?, ?)",
                (user.id, user.email, user.role, _micros(user.created_at), user.model_dump_json()),
            )

    def get_user(self, user_id: str) -> User | None:
        return self._one(User, "SELECT data FROM users WHERE id = ?", (user_id,))

    def get_user_by_email(self, email: str) -> User | None:
        return self._one(User, "SELECT data FROM users WHERE email = ?", (email,))

    def update_user(self, user: User) -> None:
        with self._transaction() as conn:
            _require_row(conn, "SELECT 1 FROM users WHERE id = ?", (user.id,), f"user {user.id!r}")
            _require_email_free(conn, user)
            conn.execute(
                "UPDATE users SET email = ?, role = ?, created_us = ?, data = ? WHERE id = ?",
                (user.email, user.role, _micros(user.created_at), user.model_dump_json(), user.id),
            )

    def list_users(self, role: str | None = None) -> list[User]:
        where, params = _where({"role": role})
        return self._all(User, f"SELECT data FROM users {where} ORDER BY created_us, id", params)

    # -- progress -------------------------------------------------------------------------
    def get_progress(self, user_id: str, pack_id: str) -> Progress | None:
        with self._connection() as conn:
            return _read_progress(conn, user_id, pack_id)

    def update_progress(self, user_id: str, pack_id: str, mutate: ProgressMutation) -> Progress:
        with self._transaction() as conn:
            return _mutate_progress(conn, user_id, pack_id, mutate)

    def get_users(self, user_ids: list[str]) -> dict[str, User]:
        found: dict[str, User] = {}
        with self._connection() as conn:
            for chunk in _chunks(sorted(set(user_ids)), IN_CHUNK):
                marks = ", ".join("?" * len(chunk))
                for user in _fetch_all(
                    conn, User, f"SELECT data FROM users WHERE id IN ({marks})", chunk
                ):
                    found[user.id] = user
        return found

    def list_progress(self, user_ids: list[str], pack_id: str) -> dict[str, Progress]:
        found: dict[str, Progress] = {}
        with self._connection() as conn:
            for chunk in _chunks(sorted(set(user_ids)), IN_CHUNK):
                marks = ", ".join("?" * len(chunk))
                sql = f"SELECT data FROM progress WHERE pack_id = ? AND user_id IN ({marks})"
                for progress in _fetch_all(conn, Progress, sql, [pack_id, *chunk]):
                    found[progress.user_id] = progress
        return found

    # -- classes --------------------------------------------------------------------------
    def create_classroom(self, classroom: Classroom) -> None:
        with self._transaction() as conn:
            _require_new_id(conn, "classrooms", classroom.id, "class")
            _require_invite_code_free(conn, classroom.invite_code, classroom.id)
            conn.execute(
                "INSERT INTO classrooms (id, invite_code, instructor_id, created_us, data)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    classroom.id,
                    classroom.invite_code,
                    classroom.instructor_id,
                    _micros(classroom.created_at),
                    classroom.model_dump_json(),
                ),
            )

    def get_classroom(self, class_id: str) -> Classroom | None:
        return self._one(Classroom, "SELECT data FROM classrooms WHERE id = ?", (class_id,))

    def get_classroom_by_invite_code(self, invite_code: str) -> Classroom | None:
        sql = "SELECT data FROM classrooms WHERE invite_code = ?"
        return self._one(Classroom, sql, (invite_code,))

    def list_classrooms(self, instructor_id: str | None = None) -> list[Classroom]:
        where, params = _where({"instructor_id": instructor_id})
        sql = f"SELECT data FROM classrooms {where} ORDER BY created_us, id"
        return self._all(Classroom, sql, params)

    def set_invite_code(self, class_id: str, invite_code: str) -> Classroom:
        with self._transaction() as conn:
            current = _require_classroom(conn, class_id)
            _require_invite_code_free(conn, invite_code, class_id)
            # model_validate, not model_copy(update=…): the new code must match the pattern.
            changed = Classroom.model_validate({**current.model_dump(), "invite_code": invite_code})
            conn.execute(
                "UPDATE classrooms SET invite_code = ?, data = ? WHERE id = ?",
                (invite_code, changed.model_dump_json(), class_id),
            )
            return changed

    def delete_classroom(self, class_id: str) -> None:
        scope = f"class:{class_id}"
        with self._transaction() as conn:
            _require_classroom(conn, class_id)
            conn.execute("DELETE FROM questions WHERE class_id = ?", (class_id,))
            # The scope itself, and every scope starting with "class:<id>:", as a range on the
            # key: those are exactly the strings in ["class:<id>:", "class:<id>;") (';' follows
            # ':'). Not LIKE, whose '%' and '_' could occur in an id.
            conn.execute(
                "DELETE FROM counters WHERE scope = ? OR (scope >= ? AND scope < ?)",
                (scope, scope + ":", scope + ";"),
            )
            # Memberships go with the class: ON DELETE CASCADE.
            conn.execute("DELETE FROM classrooms WHERE id = ?", (class_id,))

    def join_classroom(self, membership: Membership) -> Membership | None:
        with self._transaction() as conn:
            _require_classroom(conn, membership.class_id)
            previous = _read_membership(conn, membership.user_id)
            conn.execute(
                "INSERT INTO memberships (user_id, class_id, joined_us, data) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET class_id = excluded.class_id,"
                " joined_us = excluded.joined_us, data = excluded.data",
                (
                    membership.user_id,
                    membership.class_id,
                    _micros(membership.joined_at),
                    membership.model_dump_json(),
                ),
            )
            return previous

    def leave_classroom(self, user_id: str) -> Membership | None:
        with self._transaction() as conn:
            previous = _read_membership(conn, user_id)
            conn.execute("DELETE FROM memberships WHERE user_id = ?", (user_id,))
            return previous

    def get_membership(self, user_id: str) -> Membership | None:
        with self._connection() as conn:
            return _read_membership(conn, user_id)

    def list_members(self, class_id: str) -> list[Membership]:
        sql = "SELECT data FROM memberships WHERE class_id = ? ORDER BY joined_us, user_id"
        return self._all(Membership, sql, (class_id,))

    # -- questions ------------------------------------------------------------------------
    def add_question(self, question: Question) -> None:
        with self._transaction() as conn:
            _require_new_id(conn, "questions", question.id, "question")
            conn.execute(
                "INSERT INTO questions (class_id, student_id, created_us, data, id)"
                " VALUES (?, ?, ?, ?, ?)",
                (*_question_columns(question), question.id),
            )

    def get_question(self, question_id: str) -> Question | None:
        return self._one(Question, "SELECT data FROM questions WHERE id = ?", (question_id,))

    def update_question(self, question: Question) -> None:
        with self._transaction() as conn:
            sql = "SELECT 1 FROM questions WHERE id = ?"
            _require_row(conn, sql, (question.id,), f"question {question.id!r}")
            conn.execute(
                "UPDATE questions SET class_id = ?, student_id = ?, created_us = ?, data = ?"
                " WHERE id = ?",
                (*_question_columns(question), question.id),
            )

    def list_questions(
        self, *, class_id: str | None = None, student_id: str | None = None
    ) -> list[Question]:
        where, params = _where({"class_id": class_id, "student_id": student_id})
        sql = f"SELECT data FROM questions {where} ORDER BY created_us DESC, id DESC"
        return self._all(Question, sql, params)

    def question_summary(self, class_id: str) -> QuestionSummary:
        """One aggregate over the class's index range (``resolved`` lives in the JSON)."""
        with self._connection() as conn:
            unanswered, newest = conn.execute(
                "SELECT COALESCE(SUM(json_extract(data, '$.resolved') = 0), 0), MAX(created_us)"
                " FROM questions WHERE class_id = ?",
                (class_id,),
            ).fetchone()
        newest_at = _EPOCH + timedelta(microseconds=newest) if newest is not None else None
        return QuestionSummary(int(unanswered), newest_at)

    # -- submissions ----------------------------------------------------------------------
    def record_submission(
        self, log: SubmissionLog, counters: CounterDeltas, mutate_progress: ProgressMutation | None
    ) -> Progress:
        with self._transaction() as conn:
            _require_new_id(conn, "submissions", log.id, "submission")
            conn.execute(
                "INSERT INTO submissions (id, student_id, class_id, pack_id, at_us, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    log.id,
                    log.student_id,
                    log.class_id,
                    log.pack_id,
                    _micros(log.at),
                    log.model_dump_json(),
                ),
            )
            _add_counters(conn, counters)
            if mutate_progress is not None:
                return _mutate_progress(conn, log.student_id, log.pack_id, mutate_progress)
            current = _read_progress(conn, log.student_id, log.pack_id)
            return current or Progress(user_id=log.student_id, pack_id=log.pack_id)

    def list_submissions(
        self,
        *,
        class_id: str | None = None,
        student_id: str | None = None,
        pack_id: str | None = None,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[SubmissionLog]:
        filters = {"class_id": class_id, "student_id": student_id, "pack_id": pack_id}
        with self._connection() as conn:
            extra: list[tuple[str, Sequence[object]]] = []
            if after is not None:
                # Keyset pagination on the (at, id) order: exact even when times tie.
                cursor = conn.execute("SELECT at_us, id FROM submissions WHERE id = ?", (after,))
                row = cursor.fetchone()
                if row is None:
                    raise NotFound(f"submission {after!r} not found (the `after` cursor)")
                extra.append(("(at_us, id) > (?, ?)", tuple(row)))
            where, params = _where(filters, extra)
            sql = f"SELECT data FROM submissions {where} ORDER BY at_us, id"
            if limit is not None:
                sql += " LIMIT ?"
                params.append(max(limit, 0))  # SQLite reads a negative LIMIT as "no limit"
            return _fetch_all(conn, SubmissionLog, sql, params)

    # -- reflections ----------------------------------------------------------------------
    def save_reflection(
        self, reflection: Reflection, deltas: ReflectionDeltas
    ) -> Reflection | None:
        key = (reflection.student_id, reflection.pack_id, reflection.week)
        with self._transaction() as conn:
            previous = _read_reflection(conn, *key)
            changes = deltas(previous, reflection)
            conn.execute(
                "INSERT INTO reflections (student_id, pack_id, week, class_id, at_us, data)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (student_id, pack_id, week) DO UPDATE"
                " SET class_id = excluded.class_id, at_us = excluded.at_us, data = excluded.data",
                (*key, reflection.class_id, _micros(reflection.at), reflection.model_dump_json()),
            )
            _add_counters(conn, changes)
            return previous

    def get_reflection(self, student_id: str, pack_id: str, week: int) -> Reflection | None:
        with self._connection() as conn:
            return _read_reflection(conn, student_id, pack_id, week)

    def list_reflections(
        self,
        *,
        student_id: str | None = None,
        class_id: str | None = None,
        pack_id: str | None = None,
        week: int | None = None,
    ) -> list[Reflection]:
        filters = {"student_id": student_id, "class_id": class_id, "pack_id": pack_id}
        where, params = _where({**filters, "week": week})
        sql = f"SELECT data FROM reflections {where} ORDER BY week, at_us, student_id, pack_id"
        return self._all(Reflection, sql, params)

    # -- auth state -----------------------------------------------------------------------
    # Purging happens on write, inside the write's transaction (the lock is held anyway), a
    # bounded batch through the expiry index. Reads filter by expiry themselves, so results
    # never depend on how far purging has got.
    def revoke_token(self, token_id: str, expires_at: datetime) -> None:
        expires_us = _micros(require_aware(expires_at, "expires_at"))
        with self._transaction() as conn:
            conn.execute(_PURGE_REVOKED_TOKENS, (_micros(utcnow()), PURGE_BATCH))
            # max(): a retry carrying an older expiry must not shorten the revocation.
            conn.execute(
                "INSERT INTO revoked_tokens (token_id, expires_us) VALUES (?, ?)"
                " ON CONFLICT (token_id) DO UPDATE"
                " SET expires_us = max(expires_us, excluded.expires_us)",
                (token_id, expires_us),
            )

    def is_token_revoked(self, token_id: str) -> bool:
        sql = "SELECT 1 FROM revoked_tokens WHERE token_id = ? AND expires_us > ?"
        with self._connection() as conn:
            return conn.execute(sql, (token_id, _micros(utcnow()))).fetchone() is not None

    def hit_rate_limit(self, key: str, window_seconds: int, now: datetime) -> int:
        window = _window_key(key, window_seconds, now)
        with self._transaction() as conn:
            # The caller's clock, not ours: it is the one the windows are defined by.
            conn.execute(_PURGE_RATE_LIMITS, (_micros(now), PURGE_BATCH))
            # Upsert, then read back in the same transaction: RETURNING would need SQLite
            # 3.35, while the rest of this module needs only 3.24 (upserts).
            conn.execute(
                "INSERT INTO rate_limits"
                " (key, window_seconds, window_start_us, ends_us, hits) VALUES (?, ?, ?, ?, 1)"
                " ON CONFLICT (key, window_seconds, window_start_us) DO UPDATE"
                " SET hits = hits + 1",
                window,
            )
            (hits,) = conn.execute(_READ_RATE_LIMIT, window[:3]).fetchone()
            return int(hits)

    def peek_rate_limit(self, key: str, window_seconds: int, now: datetime) -> int:
        window = _window_key(key, window_seconds, now)
        with self._connection() as conn:
            row = conn.execute(_READ_RATE_LIMIT, window[:3]).fetchone()
            return 0 if row is None else int(row[0])

    # -- counters -------------------------------------------------------------------------
    def get_counters(self, scope: str) -> dict[str, int]:
        with self._connection() as conn:
            rows = conn.execute("SELECT name, value FROM counters WHERE scope = ?", (scope,))
            return {name: int(value) for name, value in rows}

    # -- published packs ------------------------------------------------------------------
    def publish_pack(
        self, pack_id: str, version: str, document: Mapping[str, Any], published_at: datetime
    ) -> None:
        if not pack_id:
            raise ValueError("a published pack needs a non-empty pack id")
        moment = require_aware(published_at, "published_at")
        info = PublishedPackInfo(pack_id=pack_id, version=version, published_at=moment)
        text = published_document_json(document)  # encoded (a copy) before the lock is taken
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO published_packs (pack_id, published_us, data, document)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (pack_id) DO UPDATE SET"
                " published_us = excluded.published_us, data = excluded.data,"
                " document = excluded.document",
                (pack_id, _micros(moment), info.model_dump_json(), text),
            )

    def get_published_pack(self, pack_id: str) -> PublishedPack | None:
        sql = "SELECT data, document FROM published_packs WHERE pack_id = ?"
        with self._connection() as conn:
            row = conn.execute(sql, (pack_id,)).fetchone()
        if row is None:
            return None
        info = _decode(PublishedPackInfo, row[0])
        return PublishedPack(**dict(info), document=_decode_document(pack_id, row[1]))

    def list_published_packs(self) -> list[PublishedPackInfo]:
        sql = "SELECT data FROM published_packs ORDER BY pack_id"
        return self._all(PublishedPackInfo, sql)


# -- connections ------------------------------------------------------------------------------
class _Connections(Protocol):
    def connection(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def writer(self) -> AbstractContextManager[object]: ...

    def close(self) -> None: ...


def _connect(database: str, timeout: float) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; writes say BEGIN IMMEDIATE themselves.
    # check_same_thread=False: a pooled connection moves between threads, but only ever
    # serves the one thread that holds it. `timeout` is SQLite's busy_timeout.
    conn = sqlite3.connect(database, timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")  # per connection, off by default
    _set_synchronous(conn)
    return conn


def _set_synchronous(conn: sqlite3.Connection) -> None:
    """``synchronous = NORMAL`` on a WAL database (per connection; the default is FULL).

    Under WAL, NORMAL syncs at checkpoints instead of on every COMMIT: the file cannot be
    corrupted and an application crash loses nothing; only a power failure or OS crash may
    lose the last commits. FULL would fsync every write while it holds the one write lock, so
    all writers (the live-code autosave is one) would queue behind the disk. Never without
    WAL: there NORMAL could corrupt the file on power loss.
    """
    (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
    if str(mode).lower() == "wal":
        conn.execute("PRAGMA synchronous = NORMAL")


class _ConnectionPool:
    """Connections to a database file, each lent to one thread at a time.

    A pool rather than a connection per thread (``threading.local``): werkzeug's threaded
    server starts a new thread per request, so per-thread connections would be opened for
    every request and linger. Up to :data:`MAX_IDLE_CONNECTIONS` idle ones are kept.
    """

    def __init__(self, path: str, timeout: float) -> None:
        self._path = path
        self._timeout = timeout
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        self._writer = threading.RLock()

    @contextmanager
    def writer(self) -> Iterator[None]:
        """This process's turn to write: its threads queue here, each woken the moment the
        one before it commits, so only one at a time waits for other processes (see
        ``_begin_immediate``). Re-entrant like the in-memory lock: a nested write still
        fails in SQLite, not here."""
        if not self._writer.acquire(timeout=self._timeout):
            raise StorageError(
                f"SQLite database {self._path} is locked: another thread has been writing"
                f" for {self._timeout:g} s"
            )
        try:
            yield
        finally:
            self._writer.release()

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        conn = self._take()
        broken = False
        try:
            yield conn
        except sqlite3.Error:
            broken = True  # disk full, file replaced…: do not hand it to the next caller
            raise
        finally:
            self._give_back(conn, broken)

    def _take(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise StorageError(f"SQLite storage {self._path} is closed")
            if self._idle:
                return self._idle.pop()
        return _connect(self._path, self._timeout)

    def _give_back(self, conn: sqlite3.Connection, broken: bool) -> None:
        with self._lock:
            keep = not (broken or self._closed or len(self._idle) >= MAX_IDLE_CONNECTIONS)
            if keep and not conn.in_transaction:
                self._idle.append(conn)
                return
        conn.close()  # closing also rolls back a transaction a failed COMMIT left open

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class _SharedConnection:
    """One connection behind a lock: an in-memory database exists only inside its connection.

    Re-entrant, so a nested call from the same thread (a mutation that, against the rules,
    reads storage) sees its own transaction instead of deadlocking.
    """

    def __init__(self, timeout: float) -> None:
        self._conn = _connect(MEMORY, timeout)
        self._lock = threading.RLock()
        self._closed = False

    def writer(self) -> AbstractContextManager[object]:
        return nullcontext()  # every use of the one connection is serialised already

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise StorageError("SQLite storage :memory: is closed")
            yield self._conn

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()


def _begin_immediate(conn: sqlite3.Connection, timeout: float) -> None:
    """``BEGIN IMMEDIATE``, waiting up to ``timeout`` seconds while another process writes.

    SQLite's busy handler sleeps 1, 2, 5, 10 … ms between tries, while a write here holds the
    lock for a fraction of a millisecond, so a server waiting on it sits idle: with two
    gunicorn workers saving live code, a fifth of the CPU went unused. It is switched off for
    this one statement, which is retried after 0.05 ms, doubling up to 0.5 ms, instead.
    """
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        deadline = time.monotonic() + timeout
        pause = WRITE_RETRY_FIRST_S
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # extended → primary
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, WRITE_RETRY_MAX_S)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {round(timeout * 1000)}")


def _rollback_quietly(conn: sqlite3.Connection) -> None:
    # If even ROLLBACK fails, the connection is unusable: the original error is the one to
    # report, and the pool discards the connection (closing it rolls back).
    try:
        conn.execute("ROLLBACK")
    except sqlite3.Error:
        log.debug("ROLLBACK failed", exc_info=True)


# -- rows -------------------------------------------------------------------------------------
def _decode(model: type[M], data: str) -> M:
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        # Stored rows were valid when written: this is a damaged or foreign database.
        raise StorageError(
            f"stored {model.__name__} is invalid: {exc.error_count()} errors"
        ) from exc


def _decode_document(pack_id: str, text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise StorageError(f"stored document of published pack {pack_id!r} is not JSON") from exc
    if not isinstance(document, dict):
        raise StorageError(f"stored document of published pack {pack_id!r} is not an object")
    return document


def _fetch_one(
    conn: sqlite3.Connection, model: type[M], sql: str, params: Sequence[object]
) -> M | None:
    row = conn.execute(sql, params).fetchone()
    return None if row is None else _decode(model, row[0])


def _fetch_all(
    conn: sqlite3.Connection, model: type[M], sql: str, params: Sequence[object]
) -> list[M]:
    return [_decode(model, data) for (data,) in conn.execute(sql, params)]


def _where(
    filters: Mapping[str, object], extra: Iterable[tuple[str, Sequence[object]]] = ()
) -> tuple[str, list[object]]:
    """``WHERE`` clause and parameters: ``column = ?`` for each filter given (None means any),
    AND-ed with the ``extra`` clauses. Column names come from this module, never from input."""
    clauses = [f"{column} = ?" for column, value in filters.items() if value is not None]
    params = [value for value in filters.values() if value is not None]
    for clause, values in extra:
        clauses.append(clause)
        params.extend(values)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def _micros(moment: datetime) -> int:
    """Sort key of a time: microseconds since the epoch (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _window_key(key: str, window_seconds: int, now: datetime) -> tuple[str, int, int, int]:
    """``key, window_seconds, window_start_us, ends_us`` of the window containing ``now``."""
    start, end = rate_limit_window(now, window_seconds)
    return key, window_seconds, _micros(start), _micros(end)


# Bounded purges: DELETE … LIMIT needs a compile-time option, a keyed subquery does not.
_PURGE_REVOKED_TOKENS = (
    "DELETE FROM revoked_tokens WHERE token_id IN"
    " (SELECT token_id FROM revoked_tokens WHERE expires_us <= ? LIMIT ?)"
)
_PURGE_RATE_LIMITS = (
    "DELETE FROM rate_limits WHERE (key, window_seconds, window_start_us) IN"
    " (SELECT key, window_seconds, window_start_us FROM rate_limits WHERE ends_us <= ? LIMIT ?)"
)
_READ_RATE_LIMIT = (
    "SELECT hits FROM rate_limits WHERE key = ? AND window_seconds = ? AND window_start_us = ?"
)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _question_columns(question: Question) -> tuple[str, str, int, str]:
    """``class_id, student_id, created_us, data``: shared by insert and update."""
    return (
        question.class_id,
        question.student_id,
        _micros(question.created_at),
        question.model_dump_json(),
    )


# -- reads and checks inside a transaction ----------------------------------------------------
def _require_row(conn: sqlite3.Connection, sql: str, params: Sequence[object], what: str) -> None:
    if conn.execute(sql, params).fetchone() is None:
        raise NotFound(f"{what} not found")


def _require_new_id(conn: sqlite3.Connection, table: str, record_id: str, what: str) -> None:
    # Inserts never overwrite: a reused id is a caller bug that must not erase a record.
    if conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (record_id,)).fetchone():
        raise Conflict(f"{what} {record_id!r} already exists", code="id_taken")


def _require_email_free(conn: sqlite3.Connection, user: User) -> None:
    row = conn.execute("SELECT id FROM users WHERE email = ?", (user.email,)).fetchone()
    if row is not None and row[0] != user.id:
        raise Conflict(f"e-mail {user.email!r} is already registered", code="email_taken")


def _require_invite_code_free(conn: sqlite3.Connection, code: str, class_id: str) -> None:
    row = conn.execute("SELECT id FROM classrooms WHERE invite_code = ?", (code,)).fetchone()
    if row is not None and row[0] != class_id:
        raise Conflict(f"invite code {code!r} is already in use", code="invite_code_taken")


def _require_classroom(conn: sqlite3.Connection, class_id: str) -> Classroom:
    sql = "SELECT data FROM classrooms WHERE id = ?"
    classroom = _fetch_one(conn, Classroom, sql, (class_id,))
    if classroom is None:
        raise NotFound(f"class {class_id!r} not found")
    return classroom


def _read_membership(conn: sqlite3.Connection, user_id: str) -> Membership | None:
    sql = "SELECT data FROM memberships WHERE user_id = ?"
    return _fetch_one(conn, Membership, sql, (user_id,))


def _read_progress(conn: sqlite3.Connection, user_id: str, pack_id: str) -> Progress | None:
    sql = "SELECT data FROM progress WHERE user_id = ? AND pack_id = ?"
    return _fetch_one(conn, Progress, sql, (user_id, pack_id))


def _read_reflection(
    conn: sqlite3.Connection, student_id: str, pack_id: str, week: int
) -> Reflection | None:
    sql = "SELECT data FROM reflections WHERE student_id = ? AND pack_id = ? AND week = ?"
    return _fetch_one(conn, Reflection, sql, (student_id, pack_id, week))


# -- writes inside a transaction --------------------------------------------------------------
def _mutate_progress(
    conn: sqlite3.Connection, user_id: str, pack_id: str, mutate: ProgressMutation
) -> Progress:
    current = _read_progress(conn, user_id, pack_id)
    changed = mutate(current or Progress(user_id=user_id, pack_id=pack_id))
    data = changed.model_dump_json()
    conn.execute(
        "INSERT INTO progress (user_id, pack_id, data) VALUES (?, ?, ?)"
        " ON CONFLICT (user_id, pack_id) DO UPDATE SET data = excluded.data",
        (user_id, pack_id, data),
    )
    # A fresh instance (the caller's mutation may hold on to `changed`), validated on the way:
    # a mutation built with model_copy(update=…) skips validation, storage must not.
    return Progress.model_validate_json(data)


def _add_counters(conn: sqlite3.Connection, deltas: CounterDeltas) -> None:
    rows = [(scope, name, n) for scope, names in deltas.items() for name, n in names.items()]
    conn.executemany(
        "INSERT INTO counters (scope, name, value) VALUES (?, ?, ?)"
        " ON CONFLICT (scope, name) DO UPDATE SET value = value + excluded.value",
        rows,
    )
