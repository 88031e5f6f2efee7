"""The SQLite schema as an ordered list of migrations, tracked with ``PRAGMA user_version``.

Migration *n* (1-based) turns a database at version *n - 1* into version *n*. Migrations are
append-only: once released, a script is never edited, because databases in the field already
ran it; a change is a new script at the end.

Every model is stored whole as JSON in ``data`` (the source of truth, read back with
``model_validate_json``); the other columns are copies of the fields that lookups, uniqueness
and ordering need. Times used for ordering are integer microseconds since the epoch in UTC,
because ISO strings with different offsets do not sort by instant.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema.
    """
    CREATE TABLE users (
        id          TEXT PRIMARY KEY,
        email       TEXT NOT NULL UNIQUE,
        role        TEXT NOT NULL,
        created_us  INTEGER NOT NULL,
        data        TEXT NOT NULL
    );
    CREATE INDEX users_by_role ON users (role, created_us, id);

    CREATE TABLE progress (
        user_id     TEXT NOT NULL,
        pack_id     TEXT NOT NULL,
        data        TEXT NOT NULL,
        PRIMARY KEY (user_id, pack_id)
    );

    CREATE TABLE classrooms (
        id             TEXT PRIMARY KEY,
        invite_code    TEXT NOT NULL UNIQUE,
        instructor_id  TEXT NOT NULL,
        created_us     INTEGER NOT NULL,
        data           TEXT NOT NULL
    );
    CREATE INDEX classrooms_by_instructor ON classrooms (instructor_id, created_us, id);

    -- A student is in at most one class, hence user_id is the key. Deleting a class deletes
    -- its memberships through the cascade (foreign_keys is ON for every connection).
    CREATE TABLE memberships (
        user_id     TEXT PRIMARY KEY,
        class_id    TEXT NOT NULL REFERENCES classrooms (id) ON DELETE CASCADE,
        joined_us   INTEGER NOT NULL,
        data        TEXT NOT NULL
    );
    CREATE INDEX memberships_by_class ON memberships (class_id, joined_us, user_id);

    -- No foreign key to classrooms: the port does not promise that a question's class exists
    -- (Firestore could not enforce it), so delete_classroom removes questions explicitly.
    CREATE TABLE questions (
        id          TEXT PRIMARY KEY,
        class_id    TEXT NOT NULL,
        student_id  TEXT NOT NULL,
        created_us  INTEGER NOT NULL,
        data        TEXT NOT NULL
    );
    CREATE INDEX questions_by_class ON questions (class_id, created_us);
    CREATE INDEX questions_by_student ON questions (student_id, created_us);

    -- Logs are history: they keep their class_id after the class is deleted.
    CREATE TABLE submissions (
        id          TEXT PRIMARY KEY,
        student_id  TEXT NOT NULL,
        class_id    TEXT,
        pack_id     TEXT NOT NULL,
        at_us       INTEGER NOT NULL,
        data        TEXT NOT NULL
    );
    CREATE INDEX submissions_by_time ON submissions (at_us, id);
    CREATE INDEX submissions_by_class ON submissions (class_id, at_us, id);
    CREATE INDEX submissions_by_student ON submissions (student_id, at_us, id);

    CREATE TABLE reflections (
        student_id  TEXT NOT NULL,
        pack_id     TEXT NOT NULL,
        week        INTEGER NOT NULL,
        class_id    TEXT,
        at_us       INTEGER NOT NULL,
        data        TEXT NOT NULL,
        PRIMARY KEY (student_id, pack_id, week)
    );
    CREATE INDEX reflections_by_class ON reflections (class_id, week, at_us);

    CREATE TABLE counters (
        scope       TEXT NOT NULL,
        name        TEXT NOT NULL,
        value       INTEGER NOT NULL,
        PRIMARY KEY (scope, name)
    ) WITHOUT ROWID;
    """,
    # 2: auth state that several server instances share (tokens themselves are stateless).
    # Both tables hold short-lived rows: the expiry columns are indexed so that writes purge
    # expired rows a bounded batch at a time, without scanning.
    """
    CREATE TABLE revoked_tokens (
        token_id    TEXT PRIMARY KEY,
        expires_us  INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_us);

    -- window_seconds is part of the key: one key limited per minute and per hour at once
    -- keeps two counts. ends_us (start + size) is stored because purging by start alone
    -- would drop a long window that began together with an ended short one.
    CREATE TABLE rate_limits (
        key              TEXT NOT NULL,
        window_seconds   INTEGER NOT NULL,
        window_start_us  INTEGER NOT NULL,
        ends_us          INTEGER NOT NULL,
        hits             INTEGER NOT NULL,
        PRIMARY KEY (key, window_seconds, window_start_us)
    ) WITHOUT ROWID;
    CREATE INDEX rate_limits_by_end ON rate_limits (ends_us);
    """,
    # 3: published scenario packs (`eduverse pack publish`), the latest publication of each.
    # `data` is the PublishedPackInfo (id, version, time), so listing reads no document;
    # `document` is the pack as JSON text (about 1.5 MB for the bundled course).
    """
    CREATE TABLE published_packs (
        pack_id       TEXT PRIMARY KEY,
        published_us  INTEGER NOT NULL,
        data          TEXT NOT NULL,
        document      TEXT NOT NULL
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
"""The version a database has once every known migration ran."""


def migrate(conn: sqlite3.Connection, migrations: tuple[str, ...] = MIGRATIONS) -> int:
    """Bring the database up to date in one ``BEGIN IMMEDIATE`` transaction; return the version.

    The write lock is taken before ``user_version`` is read, so several processes starting at
    once apply each migration exactly once. DDL is transactional in SQLite: a failing script
    leaves the database at its previous version. ``executescript`` is avoided because it
    commits first; statements are run one by one instead. The caller turns
    ``sqlite3.Error`` into ``StorageError``.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = check_version(conn, len(migrations))
        for number in range(version + 1, len(migrations) + 1):
            for statement in split_statements(migrations[number - 1]):
                conn.execute(statement)
            # PRAGMA takes no parameters; `number` is an int we computed.
            conn.execute(f"PRAGMA user_version = {number:d}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return len(migrations)


class SchemaTooNew(Exception):
    """The database was written by a newer EduVerse than this one."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"schema version {found} is newer than this EduVerse knows ({known}); upgrade EduVerse"
        )
        self.found = found
        self.known = known


def check_version(conn: sqlite3.Connection, known: int = SCHEMA_VERSION) -> int:
    """The database's schema version; ``SchemaTooNew`` when we cannot understand it."""
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > known:
        raise SchemaTooNew(version, known)
    return int(version)


def split_statements(script: str) -> Iterator[str]:
    """The SQL statements of ``script``, one by one.

    Cut at each ``;`` that ``sqlite3.complete_statement`` says ends a statement, so semicolons
    inside strings and comments do not split. Empty statements are dropped.
    """
    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \t\r\n;"):
                yield statement.strip()
            statement = ""
