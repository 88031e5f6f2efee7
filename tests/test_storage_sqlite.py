"""The SQLite backend: the storage contract (file and in-memory), plus what only SQLite has —
URLs, pragmas, migrations, locking across connections and processes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from eduverse_core.default_plugins import sqlite_storage
from eduverse_core.default_plugins.sqlite_schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    migrate,
    split_statements,
)
from eduverse_core.default_plugins.sqlite_storage import (
    IN_CHUNK,
    MEMORY,
    PURGE_BATCH,
    SQLiteStorage,
    parse_url,
)
from eduverse_core.errors import StartupError, StorageError
from eduverse_core.models import Progress
from eduverse_core.storage import (
    T0,
    StorageContract,
    StorageFactory,
    complete,
    from_now,
    make_classroom,
    make_membership,
    make_pack_document,
    make_submission,
    make_user,
)


class TestSQLiteStorage(StorageContract):
    """The whole contract, once on a file and once in memory (their connection handling
    differs: a pool of connections versus one shared connection behind a lock)."""

    many_records = IN_CHUNK * 2 + 1  # three IN (…) batches

    @pytest.fixture(params=["file", "memory"])
    def storage(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLiteStorage]:
        url = f"sqlite:///{tmp_path / 'contract.db'}" if request.param == "file" else None
        backend = SQLiteStorage.from_url(url or "sqlite://:memory:")
        yield backend
        backend.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a test's SQLite file lives."""
    return tmp_path / "eduverse.db"


@pytest.fixture
def file_storage(db_path: Path) -> Iterator[SQLiteStorage]:
    """A SQLite backend on :func:`db_path`, closed after the test."""
    backend = SQLiteStorage(db_path)
    yield backend
    backend.close()


def raw(path: Path) -> closing[sqlite3.Connection]:
    """A plain connection, as another program (or a rogue admin) would have."""
    return closing(sqlite3.connect(path, isolation_level=None))


def run_sql(path: Path, statement: str) -> list[tuple[object, ...]]:
    """Run one statement on ``path`` from outside the backend."""
    with raw(path) as conn:
        return conn.execute(statement).fetchall()


# -- the plugin and its URLs ------------------------------------------------------------------
def test_plugin_registers_the_sqlite_scheme() -> None:
    registered: dict[str, StorageFactory] = {}
    sqlite_storage.eduverse_register_storage_backends(register=registered.__setitem__)
    assert list(registered) == ["sqlite"]
    backend = registered["sqlite"]("sqlite://:memory:")
    assert isinstance(backend, SQLiteStorage)
    backend.close()


@pytest.mark.parametrize(
    ("url", "database"),
    [
        ("sqlite:///relative/path.db", Path("relative/path.db")),
        ("sqlite:///eduverse.db", Path("eduverse.db")),
        ("sqlite:////abs/path.db", Path("/abs/path.db")),
        ("sqlite://:memory:", MEMORY),
        ("sqlite:///:memory:", MEMORY),
        ("sqlite://", MEMORY),
    ],
)
def test_url_names_the_database_like_sqlalchemy(url: str, database: Path | str) -> None:
    assert parse_url(url) == database


@pytest.mark.parametrize(
    "url",
    ["postgres://host/db", "sqlite:/x.db", "sqlite://host/x.db", "sqlite:///", "sqlite:///x?a=1"],
)
def test_bad_url_is_startup_error_naming_the_url(url: str) -> None:
    with pytest.raises(StartupError) as info:
        SQLiteStorage.from_url(url)
    assert repr(url) in str(info.value)


def test_relative_url_is_fixed_against_the_working_directory_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    backend = SQLiteStorage.from_url("sqlite:///data/school.db")
    monkeypatch.chdir(tmp_path / "data")  # a later chdir must not move the database
    backend.create_user(make_user(id="u1"))
    backend.close()
    assert (tmp_path / "data" / "school.db").is_file()
    assert not (tmp_path / "data" / "data").exists()


def test_missing_parent_folder_is_storage_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    with pytest.raises(StorageError) as info:
        SQLiteStorage.from_url(f"sqlite:///{missing / 'x.db'}")
    assert str(missing) in str(info.value)


# -- pragmas and locking ----------------------------------------------------------------------
def test_file_database_is_in_wal_mode(file_storage: SQLiteStorage, db_path: Path) -> None:
    assert run_sql(db_path, "PRAGMA journal_mode") == [("wal",)]


def test_every_connection_enforces_foreign_keys_and_waits_for_locks(
    file_storage: SQLiteStorage,
) -> None:
    # Two connections at once, so the second is certainly a new one from the pool.
    with file_storage._connection() as first, file_storage._connection() as second:
        assert first is not second
        for conn in (first, second):
            assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
            assert conn.execute("PRAGMA busy_timeout").fetchone() == (5000,)


def test_write_transactions_take_the_lock_before_reading(db_path: Path) -> None:
    """With a deferred BEGIN, the mutation would run on a value another writer is changing."""
    backend = SQLiteStorage(db_path, timeout=0.2)
    calls: list[Progress] = []

    def mutate(progress: Progress) -> Progress:
        calls.append(progress)
        return progress

    with raw(db_path) as other_process:
        other_process.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageError, match="locked"):
            backend.update_progress("u1", "logicore", mutate)
        assert calls == []
        other_process.execute("ROLLBACK")
    assert backend.update_progress("u1", "logicore", complete("a")).completed == ["a"]
    backend.close()


def test_two_instances_on_one_file_lose_no_update(db_path: Path) -> None:
    """Like two gunicorn workers: separate pools, one file."""
    workers = [SQLiteStorage(db_path), SQLiteStorage(db_path)]

    def work(backend: SQLiteStorage, name: str) -> None:
        for n in range(25):
            log = make_submission(id=f"{name}-{n}")
            backend.record_submission(log, {"class:c1": {"n": 1}}, complete(log.id))

    threads = [threading.Thread(target=work, args=(workers[i % 2], f"t{i}")) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert workers[0].get_counters("class:c1") == {"n": 150}
    progress = workers[1].get_progress("student-1", "logicore")
    assert progress is not None and len(progress.completed) == 150
    for backend in workers:
        backend.close()


WORKER_SCRIPT = """
import sys
from eduverse_core.default_plugins.sqlite_storage import SQLiteStorage
from eduverse_core.storage import count_failure, make_submission

backend = SQLiteStorage(sys.argv[1])
for n in range(40):
    log = make_submission(id=f"{sys.argv[2]}-{n}")
    backend.record_submission(log, {"all": {"n": 1}}, count_failure("c:beginner"))
backend.close()
"""


@pytest.mark.slow
def test_separate_processes_lose_no_update(file_storage: SQLiteStorage, db_path: Path) -> None:
    script = textwrap.dedent(WORKER_SCRIPT)
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(db_path), f"p{i}"]) for i in range(4)
    ]
    assert [process.wait(timeout=120) for process in processes] == [0, 0, 0, 0]
    assert file_storage.get_counters("all") == {"n": 160}
    progress = file_storage.get_progress("student-1", "logicore")
    assert progress is not None and progress.failed_attempts == {"c:beginner": 160}


def test_in_memory_database_is_one_per_instance_shared_by_its_threads() -> None:
    first, second = SQLiteStorage(MEMORY), SQLiteStorage(MEMORY)
    first.create_user(make_user(id="u1"))
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(first.get_user("u1")))
    thread.start()
    thread.join()
    assert seen[0] is not None
    assert second.get_user("u1") is None
    first.close()
    second.close()


# -- migrations -------------------------------------------------------------------------------
def test_migrations_are_tracked_in_user_version(file_storage: SQLiteStorage, db_path: Path) -> None:
    assert len(MIGRATIONS) == SCHEMA_VERSION
    assert run_sql(db_path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_reopening_an_existing_file_keeps_data_and_reapplies_nothing(db_path: Path) -> None:
    first = SQLiteStorage(db_path)
    user = make_user()
    first.create_user(user)
    first.close()
    # A re-run migration would fail on CREATE TABLE: opening again must simply work.
    again = SQLiteStorage(db_path)
    assert again.get_user(user.id) == user
    again.close()
    with raw(db_path) as conn:
        assert migrate(conn) == SCHEMA_VERSION


def test_upgrade_from_version_1_keeps_data_and_adds_auth_state(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database written before auth state existed upgrades in place when opened."""
    # Written by the real backend code, stopped at migration 1 (as the previous release was).
    monkeypatch.setattr(sqlite_storage, "migrate", lambda conn: migrate(conn, MIGRATIONS[:1]))
    old = SQLiteStorage(db_path)
    user, classroom = make_user(), make_classroom()
    old.create_user(user)
    old.create_classroom(classroom)
    old.join_classroom(make_membership(classroom.id, user.id))
    log = make_submission(student_id=user.id, class_id=classroom.id)
    old.record_submission(log, {f"class:{classroom.id}": {"passed": 1}}, complete("w1-hello"))
    old.close()
    assert run_sql(db_path, "PRAGMA user_version") == [(1,)]
    monkeypatch.undo()

    upgraded = SQLiteStorage(db_path)
    upgraded.ping()  # ping insists on the current version
    assert run_sql(db_path, "PRAGMA user_version") == [(SCHEMA_VERSION,)] and SCHEMA_VERSION >= 2
    assert upgraded.get_user(user.id) == user
    assert upgraded.get_classroom(classroom.id) == classroom
    assert [m.user_id for m in upgraded.list_members(classroom.id)] == [user.id]
    assert upgraded.list_submissions() == [log]
    assert upgraded.get_counters(f"class:{classroom.id}") == {"passed": 1}
    progress = upgraded.get_progress(user.id, log.pack_id)
    assert progress is not None and progress.completed == ["w1-hello"]
    upgraded.revoke_token("token-1", from_now(60))
    assert upgraded.is_token_revoked("token-1")
    assert upgraded.hit_rate_limit("login:ada", 60, T0) == 1
    upgraded.close()


def test_upgrade_from_version_2_keeps_data_and_adds_published_packs(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database of the release before `pack publish` upgrades in place when opened, and a
    second process opening it meanwhile finds it current."""
    monkeypatch.setattr(sqlite_storage, "migrate", lambda conn: migrate(conn, MIGRATIONS[:2]))
    old = SQLiteStorage(db_path)
    user = make_user()
    old.create_user(user)
    old.revoke_token("token-1", from_now(60))
    old.close()
    assert run_sql(db_path, "PRAGMA user_version") == [(2,)]
    assert run_sql(db_path, "SELECT name FROM sqlite_master WHERE name = 'published_packs'") == []
    monkeypatch.undo()

    upgraded = SQLiteStorage(db_path)
    upgraded.ping()
    assert run_sql(db_path, "PRAGMA user_version") == [(SCHEMA_VERSION,)] and SCHEMA_VERSION >= 3
    assert upgraded.get_user(user.id) == user
    assert upgraded.is_token_revoked("token-1")
    assert upgraded.list_published_packs() == []
    upgraded.publish_pack("logicore", "2.0.0", make_pack_document(version="2.0.0"), T0)
    again = SQLiteStorage(db_path)  # another instance: nothing left to migrate
    published = again.get_published_pack("logicore")
    assert published is not None and published.document == make_pack_document(version="2.0.0")
    again.close()
    upgraded.close()


def test_newer_schema_version_is_storage_error(db_path: Path) -> None:
    run_sql(db_path, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError, match=f"version {SCHEMA_VERSION + 1} is newer"):
        SQLiteStorage(db_path)


def test_ping_fails_when_the_schema_changes_underneath(
    file_storage: SQLiteStorage, db_path: Path
) -> None:
    run_sql(db_path, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError, match="newer"):
        file_storage.ping()


def test_failed_migration_leaves_the_database_at_its_previous_version(db_path: Path) -> None:
    broken = (*MIGRATIONS, "CREATE TABLE half_done (x); SELECT * FROM no_such_table;")
    with raw(db_path) as conn, pytest.raises(sqlite3.OperationalError):
        migrate(conn, broken)
    assert run_sql(db_path, "PRAGMA user_version") == [(0,)]
    assert run_sql(db_path, "SELECT name FROM sqlite_master") == []


def test_statements_split_at_semicolons_outside_strings_and_comments() -> None:
    script = "CREATE TABLE t (x);\nINSERT INTO t VALUES ('a;b'); -- a comment; with one\n"
    with closing(sqlite3.connect(":memory:")) as conn:
        for statement in split_statements(script):
            conn.execute(statement)
        assert conn.execute("SELECT x FROM t").fetchall() == [("a;b",)]


# -- auth state -------------------------------------------------------------------------------
def _micros(seconds: int) -> int:
    return seconds * 1_000_000


T0_US = _micros(int(T0.timestamp()))
"""The contract's clock in the backend's unit, for rows written from outside."""


def _count(db_path: Path, table: str) -> int:
    ((rows,),) = run_sql(db_path, f"SELECT count(*) FROM {table}")
    assert isinstance(rows, int)
    return rows


def test_revoking_purges_expired_revocations_a_bounded_batch_at_a_time(
    file_storage: SQLiteStorage, db_path: Path
) -> None:
    expired = PURGE_BATCH * 2 + 5  # long expired: 1970
    with raw(db_path) as conn:
        rows = [(f"old-{n}", n) for n in range(expired)]
        conn.executemany("INSERT INTO revoked_tokens (token_id, expires_us) VALUES (?, ?)", rows)
    assert not file_storage.is_token_revoked("old-1")
    assert _count(db_path, "revoked_tokens") == expired  # reads filter, never write

    file_storage.revoke_token("live-1", from_now(60))
    assert _count(db_path, "revoked_tokens") == expired - PURGE_BATCH + 1
    file_storage.revoke_token("live-2", from_now(60))
    file_storage.revoke_token("live-3", from_now(60))
    tokens = run_sql(db_path, "SELECT token_id FROM revoked_tokens ORDER BY token_id")
    assert tokens == [("live-1",), ("live-2",), ("live-3",)]


def test_rate_limit_hits_purge_ended_windows_a_bounded_batch_at_a_time(
    file_storage: SQLiteStorage, db_path: Path
) -> None:
    ended = PURGE_BATCH + 3
    day_start = T0_US - T0_US % _micros(86400)
    with raw(db_path) as conn:
        rows = [(f"old-{n}", 60, _micros(60 * n), _micros(60 * (n + 1)), 1) for n in range(ended)]
        # Started long before T0 but still running at T0: must survive every purge.
        rows.append(("day", 86400, day_start, day_start + _micros(86400), 3))
        conn.executemany(
            "INSERT INTO rate_limits (key, window_seconds, window_start_us, ends_us, hits)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    assert file_storage.peek_rate_limit("old-1", 60, T0) == 0
    assert _count(db_path, "rate_limits") == ended + 1

    assert file_storage.hit_rate_limit("login:ada", 60, T0) == 1
    assert _count(db_path, "rate_limits") == ended - PURGE_BATCH + 2
    assert file_storage.hit_rate_limit("login:ada", 60, T0) == 2
    keys = run_sql(db_path, "SELECT key FROM rate_limits ORDER BY key")
    assert keys == [("day",), ("login:ada",)]
    assert file_storage.peek_rate_limit("day", 86400, T0) == 3


def test_purges_find_expired_rows_through_the_expiry_indexes(
    file_storage: SQLiteStorage,
) -> None:
    """Bounded work per write needs an index: without one, each purge scans the table."""
    purges = {
        sqlite_storage._PURGE_REVOKED_TOKENS: "revoked_tokens_by_expiry",
        sqlite_storage._PURGE_RATE_LIMITS: "rate_limits_by_end",
    }
    with file_storage._connection() as conn:
        for sql, index in purges.items():
            plan = " | ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", (0, 1)))
            assert f"INDEX {index}" in plan, plan
            assert "SCAN" not in plan, plan


def test_auth_state_is_shared_by_instances_on_one_file(db_path: Path) -> None:
    """Like two gunicorn workers: a logout on one is seen by the other, and attempts made
    through either count against one limit, each seeing its own count."""
    workers = [SQLiteStorage(db_path), SQLiteStorage(db_path)]
    workers[0].revoke_token("token-1", from_now(60))
    assert workers[1].is_token_revoked("token-1")

    seen: list[int] = []

    def work(backend: SQLiteStorage) -> None:
        for _ in range(20):
            seen.append(backend.hit_rate_limit("login:ada", 60, T0))

    threads = [threading.Thread(target=work, args=(workers[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 81))
    assert workers[0].peek_rate_limit("login:ada", 60, T0) == 80
    for backend in workers:
        backend.close()


# -- errors -----------------------------------------------------------------------------------
def test_driver_errors_surface_as_short_storage_errors(
    file_storage: SQLiteStorage, db_path: Path
) -> None:
    run_sql(db_path, "DROP TABLE users")
    with pytest.raises(StorageError, match="no such table: users") as info:
        file_storage.get_user("u1")
    assert isinstance(info.value.__cause__, sqlite3.Error)
    file_storage.create_classroom(make_classroom(id="c1"))  # other tables still work
    assert file_storage.get_classroom("c1") is not None


def test_a_damaged_stored_row_is_storage_error(file_storage: SQLiteStorage, db_path: Path) -> None:
    file_storage.create_user(make_user(id="u1"))
    run_sql(db_path, """UPDATE users SET data = '{"id": "u1"}'""")
    with pytest.raises(StorageError, match="stored User is invalid"):
        file_storage.get_user("u1")


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_every_operation_after_close_is_storage_error(kind: str, db_path: Path) -> None:
    backend = SQLiteStorage(db_path if kind == "file" else MEMORY)
    backend.close()
    with pytest.raises(StorageError, match="closed"):
        backend.get_user("u1")
    with pytest.raises(StorageError, match="closed"):
        backend.update_progress("u1", "logicore", complete("a"))
