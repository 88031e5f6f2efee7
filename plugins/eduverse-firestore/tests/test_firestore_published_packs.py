"""Published packs in Firestore: compressed, in parts under the 1 MiB document limit, switched
atomically, old parts cleaned up. (The port's behaviour is in the contract.)"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from google.cloud.firestore_v1.base_query import FieldFilter

from eduverse_core.errors import StorageError
from eduverse_core.models import ScenarioPack, utcnow
from eduverse_core.packs import load_pack
from eduverse_core.resources import bundled_dir
from eduverse_core.storage import (
    T0,
    StorageContract,
    incompressible_text,
    make_pack_document,
    published_document_json,
)
from eduverse_firestore.layout import PART_BYTES, PUBLISHED_PACK_PARTS, PUBLISHED_PACKS, doc_id
from eduverse_firestore.ops import OpsSnapshot
from eduverse_firestore.storage import FirestoreStorage

FIRESTORE_DOCUMENT_LIMIT = 1024 * 1024


def parts_of(storage: FirestoreStorage, pack_id: str) -> list[dict[str, Any]]:
    """Every part document of ``pack_id`` as stored, by key and index."""
    query = storage._client.collection(PUBLISHED_PACK_PARTS).where(
        filter=FieldFilter("pack_id", "==", pack_id)
    )
    found = [snapshot.to_dict() or {} for snapshot in query.stream()]
    return sorted(found, key=lambda part: (part["key"], part["index"]))


def head_of(storage: FirestoreStorage, pack_id: str) -> dict[str, Any]:
    snapshot = storage._client.collection(PUBLISHED_PACKS).document(doc_id(pack_id)).get()
    return snapshot.to_dict() or {}


@pytest.fixture
def small_parts(project: str) -> Iterator[FirestoreStorage]:
    """A backend cutting documents into 1 000-byte parts, so that small documents have many."""
    backend = FirestoreStorage(project, part_bytes=1_000)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def logicore() -> ScenarioPack:
    return load_pack(bundled_dir("scenario_packs") / "logicore")


def test_the_bundled_course_is_above_the_document_limit_and_fits_one_part_compressed(
    storage: FirestoreStorage, logicore: ScenarioPack
) -> None:
    document = logicore.model_dump(mode="json", by_alias=True, exclude={"schema_"})
    size = len(published_document_json(document).encode())
    assert size > FIRESTORE_DOCUMENT_LIMIT  # ~1.5 MB: one plain document could not hold it
    before = storage.ops.snapshot()
    storage.publish_pack("logicore", logicore.version, document, T0)
    cost = storage.ops.snapshot() - before
    head = head_of(storage, "logicore")
    assert head["size"] == size and head["parts"] == 1
    assert head["compressed"] < PART_BYTES < FIRESTORE_DOCUMENT_LIMIT
    # One part written, one transaction reading and switching the head, one cleanup query.
    assert cost == OpsSnapshot(reads=2, writes=2, transactions=1)
    published = storage.get_published_pack("logicore")
    assert published is not None
    assert ScenarioPack.model_validate(published.document) == logicore.model_copy(
        update={"schema_": None}
    )


def test_a_large_document_is_split_into_parts_under_the_limit(storage: FirestoreStorage) -> None:
    document = make_pack_document(blob=incompressible_text(1_400_000))
    storage.publish_pack("big", "1", document, T0)
    parts = parts_of(storage, "big")
    assert len(parts) >= 2
    assert all(len(bytes(part["data"])) <= PART_BYTES for part in parts)
    joined = b"".join(bytes(part["data"]) for part in parts)
    assert json.loads(gzip.decompress(joined)) == document
    published = storage.get_published_pack("big")
    assert published is not None and published.document == document


def test_replacing_deletes_the_old_parts_and_keeps_other_packs(
    small_parts: FirestoreStorage,
) -> None:
    storage = small_parts
    first = make_pack_document(blob=incompressible_text(5_000, seed=1))
    storage.publish_pack("p", "1", first, T0)
    storage.publish_pack("q", "1", make_pack_document("q"), T0)
    old_key = head_of(storage, "p")["key"]
    assert len(parts_of(storage, "p")) >= 4
    second = make_pack_document(blob=incompressible_text(2_500, seed=2))
    storage.publish_pack("p", "2", second, T0 + timedelta(minutes=1))
    keys = {part["key"] for part in parts_of(storage, "p")}
    assert keys == {head_of(storage, "p")["key"]} and old_key not in keys
    assert len(parts_of(storage, "q")) >= 1
    published = storage.get_published_pack("p")
    assert published is not None and published.document == second


def test_a_publish_that_stopped_half_way_changes_nothing_and_is_cleaned_up_later(
    small_parts: FirestoreStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = small_parts
    storage.publish_pack("p", "1", make_pack_document(version="1"), T0)

    def switch_fails(*args: object, **kwargs: object) -> None:
        raise StorageError("Firestore is down (injected)")

    with monkeypatch.context() as patch:
        patch.setattr(storage, "_transact", switch_fails)
        with pytest.raises(StorageError, match="injected"):
            storage.publish_pack("p", "2", make_pack_document(version="2"), T0)
    published = storage.get_published_pack("p")
    assert published is not None and published.version == "1"
    assert {part["key"] for part in parts_of(storage, "p")} == {head_of(storage, "p")["key"]}

    # A process that died between its parts and its switch leaves orphans: a later publish
    # deletes them once they are old enough not to belong to a publish still running.
    orphan = storage._client.collection(PUBLISHED_PACK_PARTS).document(doc_id("p", "dead", 0))
    orphan.set({"pack_id": "p", "key": "dead", "index": 0, "written_at": T0, "data": b"x"})
    young = storage._client.collection(PUBLISHED_PACK_PARTS).document(doc_id("p", "busy", 0))
    young.set({"pack_id": "p", "key": "busy", "index": 0, "written_at": utcnow()})
    storage.publish_pack("p", "3", make_pack_document(version="3"), T0)
    keys = {part["key"] for part in parts_of(storage, "p")}
    assert keys == {head_of(storage, "p")["key"], "busy"}


def test_a_reader_whose_parts_vanish_reads_the_new_publication(
    small_parts: FirestoreStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = small_parts
    storage.publish_pack("p", "1", make_pack_document(blob=incompressible_text(3_000)), T0)
    real_get_all = storage._get_all
    calls = [0]

    def get_all_racing_a_publish(refs: Any) -> dict[str, bytes]:
        calls[0] += 1
        if calls[0] == 1:  # between reading the head and its parts, a new publication lands
            monkeypatch.setattr(storage, "_get_all", real_get_all)
            storage.publish_pack("p", "2", make_pack_document(version="2"), T0)
            monkeypatch.setattr(storage, "_get_all", get_all_racing_a_publish)
        return real_get_all(refs)

    monkeypatch.setattr(storage, "_get_all", get_all_racing_a_publish)
    published = storage.get_published_pack("p")
    assert published is not None and published.version == "2"
    assert published.document == make_pack_document(version="2")
    assert calls[0] == 2


def test_a_damaged_publication_is_storage_error(storage: FirestoreStorage) -> None:
    storage.publish_pack("p", "1", make_pack_document(), T0)
    key = head_of(storage, "p")["key"]
    part = storage._client.collection(PUBLISHED_PACK_PARTS).document(doc_id("p", str(key), 0))
    part.update({"data": b"not what was written"})
    with pytest.raises(StorageError, match="damaged"):
        storage.get_published_pack("p")


def test_part_size_is_bounded_by_the_document_limit(project: str) -> None:
    with pytest.raises(ValueError, match="part_bytes"):
        FirestoreStorage(project, part_bytes=PART_BYTES + 1)
    with pytest.raises(ValueError, match="part_bytes"):
        FirestoreStorage(project, part_bytes=0)


class _FewerRounds(StorageContract):
    __test__ = False
    concurrency_rounds = 4


def test_the_contract_concurrency_holds_with_many_parts(project: str) -> None:
    """Publications of several parts each, racing readers: never a mix of two."""
    backend = FirestoreStorage(project, part_bytes=100)
    try:
        _FewerRounds().test_concurrent_publications_and_reads_never_mix_versions(backend)
    finally:
        backend.close()
