"""`eduverse pack publish` / `eduverse pack published`, and instances serving publications.

Packs are published into a SQLite file with the real command line (validation, then `pack
check` on the sandbox grader), and read by Eduverse instances on the same file, as server
instances on one database would. The refresh interval runs on a clock the tests move.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from eduverse_core import Eduverse
from eduverse_core import engine as engine_module
from eduverse_core.cli import cli
from eduverse_core.default_plugins.sqlite_storage import SQLiteStorage
from eduverse_core.engine import pack_document
from eduverse_core.errors import StartupError, StorageError
from eduverse_core.models import ScenarioPack
from eduverse_core.packs import load_pack
from eduverse_core.storage import T0, PublishedPackInfo, Storage
from webapp import create_app

from fakes import test_settings

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "minimal-pack.yaml"
REFRESH_SECONDS = 30.0


# -- helpers ----------------------------------------------------------------------------------
class Clock:
    """The engine's refresh clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(engine_module, "_clock", fake)
    return fake


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "eduverse.db"


def env_for(db: Path) -> dict[str, str]:
    return {
        "EDUVERSE_LOAD_ENTRY_POINTS": "0",
        "EDUVERSE_SECRET_KEY": "test",
        "EDUVERSE_DISABLED_PLUGINS": "bundled_packs",
        "EDUVERSE_STORAGE": f"sqlite:///{db}",
        "EDUVERSE_PACK_REFRESH_SECONDS": str(REFRESH_SECONDS),
    }


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env_for(db))


def example_data() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    data.pop("$schema")
    return data


def write_pack(folder: Path, data: dict[str, Any], name: str = "pack.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def revised(tmp_path: Path, version: str = "1.1.0", title: str = "First day, revised") -> Path:
    """The example pack with a new version and English title (still passing every check)."""
    data = example_data()
    data["version"] = version
    data["title"]["en"] = title
    return write_pack(tmp_path, data, f"minimal-{version}.yaml")


def instance(db: Path, **settings: Any) -> Eduverse:
    """A server instance on ``db`` whose registered pack is the example (version 1.0.0)."""
    values: dict[str, Any] = {
        "storage": f"sqlite:///{db}",
        "default_pack": "minimal",
        "default_grader": "sandbox",
        "pack_paths": (EXAMPLE,),
        "pack_refresh_seconds": REFRESH_SECONDS,
        **settings,
    }
    return Eduverse(test_settings(**values))


@pytest.fixture
def store(db: Path) -> Iterator[SQLiteStorage]:
    """Direct access to the database the commands and instances use."""
    storage = SQLiteStorage(db)
    yield storage
    storage.close()


def title_of(ev: Eduverse, pack_id: str = "minimal") -> Any:
    return ev.pack(pack_id).title


# -- the command ------------------------------------------------------------------------------
def test_publish_validates_checks_and_stores_the_pack(
    db: Path, store: SQLiteStorage, tmp_path: Path
) -> None:
    result = run(db, "pack", "publish", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "published minimal 1.0.0 after 10 checks; running instances serve it within 30 s\n"
    )
    published = store.get_published_pack("minimal")
    assert published is not None and published.version == "1.0.0"
    pack = load_pack(EXAMPLE)
    assert published.document == pack_document(pack)
    assert "$schema" not in published.document and "schema_" not in published.document
    assert ScenarioPack.model_validate(published.document) == pack.model_copy(
        update={"schema_": None}
    )

    again = run(db, "pack", "publish", str(revised(tmp_path)), "--json")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)
    assert summary["published"] is True and summary["checks"] == 10
    assert (summary["pack_id"], summary["version"]) == ("minimal", "1.1.0")
    assert summary["previous"]["version"] == "1.0.0"
    assert summary["published_at"].endswith("Z") and summary["problems"] == []
    assert [(i.pack_id, i.version) for i in store.list_published_packs()] == [("minimal", "1.1.0")]


def test_grading_by_pack_id_uses_its_publication_and_never_creates_a_database(
    db: Path, tmp_path: Path
) -> None:
    code = tmp_path / "main.py"
    code.write_text('print("Hello, LogiCore")\n', encoding="utf-8")
    env = {**env_for(db), "EDUVERSE_PACKS": str(EXAMPLE)}
    grade = ["grade", "--pack", "minimal", "--week", "1", "--cycle", "1", str(code)]
    result = CliRunner().invoke(cli, grade, env=env)
    assert result.exit_code == 0, result.output  # the registered pack
    assert not db.exists()  # no database there: no publications, and none made
    # A publication whose cycle wants other output is what grading by id then uses.
    text = EXAMPLE.read_text(encoding="utf-8").replace("Hello, LogiCore", "Hello, EduVerse")
    data = yaml.safe_load(text.replace("version: 1.0.0", "version: 2.0.0"))
    data.pop("$schema")
    assert data["version"] == "2.0.0"
    published = run(db, "pack", "publish", str(write_pack(tmp_path, data, "v2.yaml")))
    assert published.exit_code == 0, published.output
    result = CliRunner().invoke(cli, grade, env=env)
    assert result.exit_code == 1, result.output
    assert "Hello, EduVerse" in result.stdout


def test_published_lists_what_is_published(db: Path, store: SQLiteStorage) -> None:
    empty = run(db, "pack", "published")
    assert (empty.exit_code, empty.stdout, empty.stderr) == (0, "", "no published packs\n")
    assert json.loads(run(db, "pack", "published", "--json").stdout) == []
    store.publish_pack("zeta", "2.0", {"id": "zeta"}, T0)
    store.publish_pack("alpha", "1.0", {"id": "alpha"}, T0.replace(microsecond=5))
    listed = run(db, "pack", "published")
    assert listed.exit_code == 0
    assert listed.stdout == "alpha\t1.0\t2024-03-04T09:00:00Z\nzeta\t2.0\t2024-03-04T09:00:00Z\n"
    as_json = json.loads(run(db, "pack", "published", "--json").stdout)
    assert as_json == [
        {"pack_id": "alpha", "version": "1.0", "published_at": "2024-03-04T09:00:00.000005Z"},
        {"pack_id": "zeta", "version": "2.0", "published_at": "2024-03-04T09:00:00Z"},
    ]


def test_a_pack_that_does_not_validate_is_refused_and_nothing_is_stored(
    db: Path, store: SQLiteStorage, tmp_path: Path
) -> None:
    data = example_data()
    data["weeks"][0]["intro"]["character"] = "nobody"
    data["weeks"][0]["cycles"][0]["beginner"]["starter_code"] = "print('unclosed'\n"
    path = write_pack(tmp_path, data)
    result = run(db, "pack", "publish", str(path))
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 2  # one line per problem, as `pack validate`
    assert "'nobody'" in result.stdout and "starter_code" in result.stdout
    assert result.stderr == (
        f"error: {path}: 2 problems in 1 file, not published (see `eduverse pack validate`)\n"
    )
    assert store.list_published_packs() == []

    as_json = run(db, "pack", "publish", str(path), "--json")
    assert as_json.exit_code == 1
    summary = json.loads(as_json.stdout)
    assert summary["published"] is False and len(summary["problems"]) == 2
    assert store.list_published_packs() == []


def test_a_pack_whose_code_fails_its_tests_is_refused_and_nothing_is_stored(
    db: Path, store: SQLiteStorage, tmp_path: Path
) -> None:
    store.publish_pack("minimal", "1.0.0", pack_document(load_pack(EXAMPLE)), T0)
    data = example_data()
    data["version"] = "1.1.0"
    beginner = data["weeks"][0]["cycles"][0]["beginner"]
    beginner["solution"] = 'print("Hello, world")\n'  # valid Python, wrong answer
    path = write_pack(tmp_path, data)
    result = run(db, "pack", "publish", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "week 1 w01-c01 [beginner] solution [ko]: expected passed, got failed:"
        " 'Hello, LogiCore'를 출력해야 해요.",
        "week 1 w01-c01 [beginner] solution [en]: expected passed, got failed:"
        " Print 'Hello, LogiCore'.",
    ]
    assert result.stderr == (
        "error: minimal: 2 of 10 checks failed, not published (see `eduverse pack check`)\n"
    )
    # The publication before is untouched.
    assert [(i.pack_id, i.version) for i in store.list_published_packs()] == [("minimal", "1.0.0")]

    as_json = run(db, "pack", "publish", str(path), "--json")
    summary = json.loads(as_json.stdout)
    assert as_json.exit_code == 1 and summary["published"] is False
    assert summary["failures"] and summary["failures"][0]["cycle"] == "w01-c01"


def test_usage_errors_exit_2_with_one_line(db: Path) -> None:
    missing = run(db, "pack", "publish", "no/such/pack.yaml")
    assert (missing.exit_code, missing.stderr) == (2, "error: 'no/such/pack.yaml' not found\n")
    no_path = run(db, "pack", "publish")
    assert no_path.exit_code == 2
    skip = run(db, "pack", "publish", str(EXAMPLE), "--skip-check")
    assert skip.exit_code == 2 and "No such option" in skip.stderr  # deliberately not offered


def test_storage_failure_is_one_line_and_exit_1(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 999")
    result = run(newer, "pack", "publish", str(EXAMPLE))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: SQLite database") and "newer" in result.stderr
    assert len(result.stderr.splitlines()) == 1


# -- instances --------------------------------------------------------------------------------
def test_an_instance_serves_a_publication_after_the_refresh_interval(
    db: Path, tmp_path: Path, clock: Clock
) -> None:
    with instance(db) as running:
        assert title_of(running)["en"] == "First day"
        result = run(db, "pack", "publish", str(revised(tmp_path)))
        assert result.exit_code == 0, result.output

        clock.advance(REFRESH_SECONDS - 1)
        assert running.pack("minimal").version == "1.0.0"  # not looked at yet
        clock.advance(1)
        assert running.pack("minimal").version == "1.1.0"
        assert title_of(running)["en"] == "First day, revised"
        assert running.pack_dirs["minimal"] == EXAMPLE.parent  # assets still come from there

        # A new instance serves the publication from the start.
        with instance(db) as started_later:
            assert started_later.pack("minimal").version == "1.1.0"

        # The web app sees it too: the engine is all it asks.
        app = create_app(eduverse=running)
        result = run(db, "pack", "publish", str(revised(tmp_path, "1.2.0", "Day one")))
        assert result.exit_code == 0, result.output
        clock.advance(REFRESH_SECONDS)
        response = app.test_client().get("/api/packs/minimal?locale=en")
        assert response.status_code == 200
        assert response.get_json()["pack"]["version"] == "1.2.0"
        assert response.get_json()["pack"]["title"] == "Day one"


def test_the_refresh_reads_only_the_list_until_something_changes(
    db: Path, store: SQLiteStorage, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.publish_pack("minimal", "1.1.0", pack_document(load_pack(revised(db.parent))), T0)
    with instance(db) as running:
        assert running.pack("minimal").version == "1.1.0"
        storage = running.storage
        calls: list[str] = []
        for name in ("list_published_packs", "get_published_pack"):
            method = getattr(storage, name)

            def spy(*args: Any, _name: str = name, _method: Any = method) -> Any:
                calls.append(_name)
                return _method(*args)

            monkeypatch.setattr(storage, name, spy)
        for _ in range(3):
            clock.advance(REFRESH_SECONDS)
            running.pack("minimal")
            running.pack("minimal")  # within the interval: nothing read
        assert calls == ["list_published_packs"] * 3
        store.publish_pack(
            "minimal", "1.1.0", pack_document(load_pack(EXAMPLE)), T0.replace(second=1)
        )
        clock.advance(REFRESH_SECONDS)
        assert running.pack("minimal").version == "1.0.0"  # same version, newer publication
        assert calls[-2:] == ["list_published_packs", "get_published_pack"]


def test_a_publication_wins_over_the_registered_pack_and_adds_new_ones(
    db: Path, store: SQLiteStorage
) -> None:
    other = example_data()
    other["id"] = "second-course"
    store.publish_pack("second-course", "0.1.0", other, T0)
    store.publish_pack("minimal", "1.1.0", pack_document(load_pack(revised(db.parent))), T0)
    with instance(db) as ev:
        assert ev.packs.names() == ["minimal", "second-course"]
        assert ev.pack("minimal").version == "1.1.0"
        assert ev.pack("second-course").version == "1.0.0"  # the document's own version
        assert "second-course" not in ev.pack_dirs  # published only: no folder, no portraits
        # A pack registered after loading does not push its publication aside…
        late = load_pack(EXAMPLE).model_copy(update={"id": "second-course", "version": "0.0.1"})
        ev.register_pack(late)
        assert ev.pack("second-course").version == "1.0.0"
        # …and registering an id twice is still an error.
        with pytest.raises(StartupError, match="registered twice"):
            ev.register_pack(late)


def test_a_broken_publication_is_logged_and_the_registered_pack_served(
    db: Path, store: SQLiteStorage, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    broken = {**pack_document(load_pack(EXAMPLE)), "version": "9.0.0", "added_later": True}
    store.publish_pack("minimal", "9.0.0", broken, T0)
    with caplog.at_level(logging.ERROR, logger="eduverse_core.engine"), instance(db) as ev:
        assert ev.pack("minimal").version == "1.0.0"
        assert ev.packs.names() == ["minimal"]
    [record] = caplog.records
    assert record.levelno == logging.ERROR
    assert record.getMessage() == (
        "published pack minimal version 9.0.0 (published 2024-03-04T09:00:00+00:00) does not"
        " load: added_later: Extra inputs are not permitted; serving the registered pack"
    )


def test_a_broken_publication_after_a_good_one_keeps_the_good_one_served(
    db: Path, store: SQLiteStorage, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    store.publish_pack("minimal", "1.1.0", pack_document(load_pack(revised(db.parent))), T0)
    with instance(db) as ev:
        assert ev.pack("minimal").version == "1.1.0"
        wrong_id = {**pack_document(load_pack(EXAMPLE)), "id": "other", "version": "2.0.0"}
        store.publish_pack("minimal", "2.0.0", wrong_id, T0.replace(minute=5))
        store.publish_pack("ghost", "1.0", {"weeks": "not a list"}, T0)
        clock.advance(REFRESH_SECONDS)
        with caplog.at_level(logging.ERROR, logger="eduverse_core.engine"):
            assert ev.pack("minimal").version == "1.1.0"
            assert ev.packs.names() == ["minimal"]
        messages = sorted(record.getMessage() for record in caplog.records)
        assert len(messages) == 2
        assert messages[0].startswith("published pack ghost version 1.0")
        assert messages[0].endswith("; serving no pack under that id")
        assert "does not load: the document is pack 'other'" in messages[1]
        assert messages[1].endswith("; serving the previous publication")
        caplog.clear()
        clock.advance(REFRESH_SECONDS)
        ev.pack("minimal")
        assert caplog.records == []  # logged once per publication, not at every refresh


def test_unreachable_storage_keeps_the_packs_served_and_is_tried_again(
    db: Path, store: SQLiteStorage, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    with instance(db) as ev:
        assert ev.pack("minimal").version == "1.0.0"
        storage: Storage = ev.storage
        real = storage.list_published_packs
        failures = [0]

        def down() -> list[PublishedPackInfo]:
            failures[0] += 1
            raise StorageError("database is locked (injected)")

        storage.list_published_packs = down  # type: ignore[method-assign]
        store.publish_pack("minimal", "1.1.0", pack_document(load_pack(revised(db.parent))), T0)
        clock.advance(REFRESH_SECONDS)
        with caplog.at_level(logging.WARNING, logger="eduverse_core.engine"):
            assert ev.pack("minimal").version == "1.0.0"
            assert ev.pack("minimal").version == "1.0.0"  # not tried on every use
        assert failures == [1]
        assert "published packs not read (database is locked (injected))" in caplog.text
        storage.list_published_packs = real  # type: ignore[method-assign]
        clock.advance(REFRESH_SECONDS)
        assert ev.pack("minimal").version == "1.1.0"


def test_a_withdrawn_publication_gives_the_registered_pack_back(
    db: Path, store: SQLiteStorage, clock: Clock
) -> None:
    store.publish_pack("minimal", "1.1.0", pack_document(load_pack(revised(db.parent))), T0)
    other = {**example_data(), "id": "second-course"}
    store.publish_pack("second-course", "1.0.0", other, T0)
    with instance(db) as ev:
        assert ev.pack("minimal").version == "1.1.0" and "second-course" in ev.packs
        # The port has no withdrawal; a store restored from an older backup has the effect.
        with sqlite3.connect(db) as conn:
            conn.execute("DELETE FROM published_packs")
        clock.advance(REFRESH_SECONDS)
        assert ev.pack("minimal").version == "1.0.0"
        assert ev.packs.names() == ["minimal"]


def test_readers_never_fail_while_publications_are_swapped_in(
    db: Path, store: SQLiteStorage
) -> None:
    versions = [f"1.{n}.0" for n in range(6)]
    documents = {
        version: pack_document(load_pack(EXAMPLE).model_copy(update={"version": version}))
        for version in versions
    }
    other = {**example_data(), "id": "second-course"}
    with instance(db, pack_refresh_seconds=0) as ev:  # 0: look on every use
        ev.pack("minimal")
        stop = threading.Event()
        errors: list[BaseException] = []
        seen: set[str] = set()

        def read() -> None:
            while not stop.is_set():
                try:
                    names = ev.packs.names()
                    seen.add(ev.pack("minimal").version)
                    assert "minimal" in names
                except BaseException as exc:  # collected: the assertion is below
                    errors.append(exc)
                    return
                time.sleep(0.0005)  # requests, not a busy loop starving the publisher

        readers = [threading.Thread(target=read) for _ in range(4)]
        for thread in readers:
            thread.start()
        for n, version in enumerate(versions):
            store.publish_pack("minimal", version, documents[version], T0.replace(second=n))
            store.publish_pack("second-course", str(n), other, T0.replace(second=n))
        deadline = time.monotonic() + 30
        while "1.5.0" not in seen and not errors and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()
        for thread in readers:
            thread.join(timeout=30)
        assert errors == []
        assert {"1.0.0", "1.5.0"} <= seen and ev.pack("minimal").version == "1.5.0"


def test_publish_then_export_and_import_keep_the_publication(db: Path, tmp_path: Path) -> None:
    assert run(db, "pack", "publish", str(EXAMPLE)).exit_code == 0
    backup = tmp_path / "backup.jsonl"
    exported = run(db, "export", str(backup))
    assert exported.exit_code == 0, exported.output
    assert "published packs 1" in exported.stdout
    restored = tmp_path / "restored.db"
    imported = run(restored, "import", str(backup))
    assert imported.exit_code == 0, imported.output
    assert run(restored, "pack", "published").stdout.startswith("minimal\t1.0.0\t")


def test_the_publishing_instance_serves_at_once_and_refresh_packs_forces_a_look(
    db: Path, store: SQLiteStorage, clock: Clock
) -> None:
    with instance(db) as publisher, instance(db) as other:
        assert publisher.pack("minimal").version == other.pack("minimal").version == "1.0.0"
        info = publisher.publish_pack(load_pack(revised(db.parent)))
        assert (info.pack_id, info.version) == ("minimal", "1.1.0")
        assert publisher.pack("minimal").version == "1.1.0"  # no interval to wait for
        assert other.pack("minimal").version == "1.0.0"
        other.refresh_packs()  # e.g. from an admin hook
        assert other.pack("minimal").version == "1.1.0"


def test_publishing_portraits_no_instance_can_serve_is_a_warning(
    db: Path, store: SQLiteStorage, tmp_path: Path
) -> None:
    data = example_data()
    data["id"] = "art"
    data["cast"][0]["portrait"] = "alex.svg"
    (tmp_path / "alex.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    path = write_pack(tmp_path, data)
    result = run(db, "pack", "publish", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "warning: portraits are not published, and no registered pack 'art' has a folder to"
        " serve them from: learners see none\n"
    )
    summary = json.loads(run(db, "pack", "publish", str(path), "--json").stdout)
    assert summary["published"] is True and len(summary["warnings"]) == 1
    assert [info.pack_id for info in store.list_published_packs()] == ["art"]
