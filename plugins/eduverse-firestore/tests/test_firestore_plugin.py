"""URLs, the entry point, credentials and driver errors: how the backend meets the engine."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

from eduverse_core import Eduverse, Settings
from eduverse_core.errors import StartupError, StorageError
from eduverse_core.plugins import ENTRY_POINT_GROUP, describe_plugins
from eduverse_core.storage import StorageFactory, make_user
from eduverse_firestore import plugin
from eduverse_firestore.emulator import free_port
from eduverse_firestore.layout import LAYOUT_VERSION, META
from eduverse_firestore.storage import FirestoreStorage, parse_url


# -- URLs -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "project", "database"),
    [
        ("firestore://eduverse-prod", "eduverse-prod", "(default)"),
        ("firestore://my-school-123/eduverse", "my-school-123", "eduverse"),
        ("firestore://my-school-123/(default)", "my-school-123", "(default)"),
        ("firestore://example.com:legacy-project", "example.com:legacy-project", "(default)"),
    ],
)
def test_url_names_project_and_database(url: str, project: str, database: str) -> None:
    assert parse_url(url) == (project, database)


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("sqlite:///x.db", "not a firestore URL"),
        ("firestore:/project-id", "not a firestore URL"),
        ("firestore://", "project id is missing"),
        ("firestore:///eduverse", "project id is missing"),
        ("firestore://Project-Id", "not a Google Cloud project id"),
        ("firestore://abc", "not a Google Cloud project id"),
        ("firestore://my_project", "not a Google Cloud project id"),
        ("firestore://project-id-", "not a Google Cloud project id"),
        ("firestore://project-id/", "not a database id"),
        ("firestore://project-id/Eduverse", "not a database id"),
        ("firestore://project-id/db/extra", "not a database id"),
        ("firestore://project-id?database=x", "no query"),
        ("firestore://user@project-id", "no query"),
    ],
)
def test_bad_url_is_startup_error_naming_the_url(url: str, complaint: str) -> None:
    with pytest.raises(StartupError) as info:
        FirestoreStorage.from_url(url)
    assert repr(url) in str(info.value)
    assert complaint in str(info.value)


def test_storage_names_its_url(project: str) -> None:
    backend = FirestoreStorage.from_url(f"firestore://{project}")
    named = FirestoreStorage(project, "other-db")
    assert (
        backend.name == f"firestore://{project}"
        and repr(backend) == f"FirestoreStorage({backend.name!r})"
    )
    assert named.name == f"firestore://{project}/other-db"
    backend.close()
    named.close()


# -- the entry point --------------------------------------------------------------------------
def test_the_distribution_declares_the_entry_point() -> None:
    (found,) = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "firestore"]
    assert found.value == "eduverse_firestore.plugin"
    assert found.load() is plugin


def test_plugin_registers_the_firestore_scheme(project: str) -> None:
    registered: dict[str, StorageFactory] = {}
    plugin.eduverse_register_storage_backends(register=registered.__setitem__)
    assert list(registered) == ["firestore"]
    backend = registered["firestore"](f"firestore://{project}")
    assert isinstance(backend, FirestoreStorage) and backend.project == project
    backend.close()


def test_eduverse_with_entry_points_opens_firestore_urls(project: str) -> None:
    settings = Settings(storage=f"firestore://{project}", load_entry_points=True)
    with Eduverse(settings) as eduverse:
        assert "firestore" in eduverse.storage_backends.names()
        storage = eduverse.storage
        assert isinstance(storage, FirestoreStorage) and storage.project == project
        storage.ping()
        origins = {info.name: info.source for info in describe_plugins(eduverse.pm)}
        assert origins["firestore"] == "entry point"
        # And it works through the services, not only the port.
        user = eduverse.accounts.sign_up("ada@example.org", "Ada", "correct horse battery")
        assert storage.get_user_by_email("ada@example.org") == user
    with pytest.raises(StorageError, match="closed"):
        storage.ping()  # closed with the instance


def test_without_entry_points_firestore_urls_are_unknown(project: str) -> None:
    eduverse = Eduverse(Settings(storage=f"firestore://{project}", load_entry_points=False))
    with pytest.raises(StartupError, match="no storage backend for 'firestore://"):
        eduverse.storage  # noqa: B018 (the property opens the storage)


# -- credentials and the network -------------------------------------------------------------
def test_missing_credentials_are_a_startup_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("FIRESTORE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    with pytest.raises(
        StartupError, match="no Google Cloud credentials for firestore://eduverse-prod"
    ):
        FirestoreStorage.from_url("firestore://eduverse-prod")


def test_unreachable_firestore_fails_ping_fast_as_storage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")  # nobody there
    backend = FirestoreStorage("nobody-listens")
    with pytest.raises(StorageError, match="firestore://nobody-listens"):
        backend.ping()
    backend.close()


def test_server_errors_surface_as_storage_errors(storage: FirestoreStorage) -> None:
    # A document over Firestore's 1 MiB limit: the server refuses it (INVALID_ARGUMENT).
    huge = make_user(name="x" * (1024 * 1024 + 1))
    with pytest.raises(StorageError, match=storage.name) as info:
        storage.create_user(huge)
    assert not isinstance(info.value.__cause__, StorageError)
    assert storage.get_user(huge.id) is None


def test_every_operation_after_close_is_storage_error(storage: FirestoreStorage) -> None:
    storage.close()
    for call in (
        lambda: storage.get_user("u1"),
        lambda: storage.create_user(make_user()),
        lambda: storage.get_counters("class:c1"),
        lambda: storage.list_progress(["u1"], "logicore"),
    ):
        with pytest.raises(StorageError, match="closed"):
            call()


# -- the layout version -----------------------------------------------------------------------
def test_ping_records_the_layout_version_of_a_fresh_database(storage: FirestoreStorage) -> None:
    storage.ping()
    meta = storage._client.collection(META).document("layout").get().to_dict()
    assert meta == {"version": LAYOUT_VERSION}
    storage.ping()  # and accepts it afterwards


def test_ping_refuses_a_database_written_by_a_newer_layout(storage: FirestoreStorage) -> None:
    storage._client.collection(META).document("layout").set({"version": LAYOUT_VERSION + 1})
    with pytest.raises(StorageError, match="newer"):
        storage.ping()


def test_a_damaged_stored_document_is_storage_error(storage: FirestoreStorage) -> None:
    user = make_user()
    storage.create_user(user)
    storage._client.collection("users").document(user.id).update({"data": '{"id": 1}'})
    with pytest.raises(StorageError, match="stored User is invalid"):
        storage.get_user(user.id)
    storage._client.collection("users").document(user.id).update({"data": 7})
    with pytest.raises(StorageError, match="has no data"):
        storage.get_user(user.id)
