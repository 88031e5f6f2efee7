"""Document ids, composite indexes and security rules: the deployment side of the layout."""

from __future__ import annotations

import base64
import itertools
import json
import time
import urllib.error
import urllib.request

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eduverse_core.storage import (
    T0,
    make_classroom,
    make_membership,
    make_pack_document,
    make_question,
    make_reflection,
    make_submission,
    make_user,
    no_deltas,
)
from eduverse_firestore.emulator import Emulator
from eduverse_firestore.layout import (
    COLLECTIONS,
    MAX_ID_BYTES,
    TTL_FIELDS,
    decode_key,
    doc_id,
    encode_key,
)
from eduverse_firestore.queries import (
    ASCENDING,
    DESCENDING,
    CompositeIndex,
    IndexFile,
    QueryShape,
    uncovered,
)
from eduverse_firestore.storage import FirestoreStorage

from conftest import INDEXES_FILE, RULES_FILE


# -- document ids and map keys ----------------------------------------------------------------
def _legal_id(text: str) -> bool:
    return (
        text not in ("", ".", "..")
        and "/" not in text
        and not (text.startswith("__") and text.endswith("__"))
        and len(text.encode()) <= MAX_ID_BYTES
    )


parts = st.lists(st.one_of(st.text(), st.integers()), min_size=1, max_size=3)


@given(parts, parts)
def test_doc_ids_are_legal_and_distinct_for_distinct_parts(
    first: list[str | int], second: list[str | int]
) -> None:
    assert _legal_id(doc_id(*first)) and _legal_id(doc_id(*second))
    if [str(p) for p in first] != [str(p) for p in second]:
        assert doc_id(*first) != doc_id(*second)


@pytest.mark.parametrize(
    "text", ["", ".", "..", "__x__", "a/b", "a|b", "%", "%2F", "%5F_x__", "x" * 2000]
)
def test_awkward_strings_become_legal_ids(text: str) -> None:
    assert _legal_id(doc_id(text))
    assert doc_id(text) != doc_id(text + "x")


@given(st.text())
def test_map_keys_round_trip(name: str) -> None:
    key = encode_key(name)
    assert key != "" and not (key.startswith("__") and key.endswith("__"))
    assert decode_key(key) == name


def test_awkward_ids_are_separate_records(storage: FirestoreStorage) -> None:
    ids = ["", ".", "..", "__x__", "a/b", "a|b", "a%7Cb", "%", "x" * 2000, "ü"]
    users = [make_user(id=user_id) for user_id in ids]
    for user in users:
        storage.create_user(user)
    for user in users:
        assert storage.get_user(user.id) == user
        storage.update_progress(user.id, "pack/1", lambda p: p)
    assert sorted(storage.list_progress(ids, "pack/1")) == sorted(ids)


# -- composite indexes ------------------------------------------------------------------------
def exercise_every_query(storage: FirestoreStorage) -> None:
    """Call every method that queries, with every combination of its filters (and the
    submission cursor), on a little data so that each query also runs."""
    classroom = make_classroom(id="c1")
    storage.create_classroom(classroom)
    storage.join_classroom(make_membership("c1", "s1"))
    storage.add_question(make_question(class_id="c1", student_id="s1"))
    first = make_submission(class_id="c1", student_id="s1", pack_id="p1")
    storage.record_submission(first, {"class:c1": {"n": 1}, "class:c1:w1": {"n": 1}}, None)
    storage.save_reflection(
        make_reflection(class_id="c1", student_id="s1", pack_id="p1"), no_deltas
    )
    storage.create_user(make_user())

    for role in (None, "student"):
        storage.list_users(role=role)
    storage.get_user_by_email("nobody@example.com")
    for instructor in (None, "i1"):
        storage.list_classrooms(instructor)
    storage.get_classroom_by_invite_code(classroom.invite_code)
    storage.list_members("c1")
    for class_id, student_id in itertools.product((None, "c1"), (None, "s1")):
        storage.list_questions(class_id=class_id, student_id=student_id)
    filters = itertools.product(
        (None, "c1"), (None, "s1"), (None, "p1"), (None, 2), (None, first.id)
    )
    for class_id, student_id, pack_id, limit, after in filters:
        storage.list_submissions(
            class_id=class_id, student_id=student_id, pack_id=pack_id, limit=limit, after=after
        )
    weeks = (None, 1)
    for class_id, student_id, pack_id, week in itertools.product(
        (None, "c1"), (None, "s1"), (None, "p1"), weeks
    ):
        storage.list_reflections(
            class_id=class_id, student_id=student_id, pack_id=pack_id, week=week
        )
    storage.get_counters("class:c1")
    storage.delete_classroom("c1")
    storage.publish_pack("p1", "1.0.0", make_pack_document("p1"), T0)
    storage.publish_pack("p1", "1.0.1", make_pack_document("p1"), T0)  # deletes the old parts
    storage.get_published_pack("p1")
    storage.list_published_packs()


@pytest.fixture(scope="module")
def index_file() -> IndexFile:
    return IndexFile.load(INDEXES_FILE)


def test_every_composite_query_has_its_index_and_every_index_a_query(
    storage: FirestoreStorage, index_file: IndexFile
) -> None:
    exercise_every_query(storage)
    shapes = storage.queries.shapes()
    assert {shape.collection for shape in shapes} >= {"users", "submissions", "reflections"}
    missing = uncovered(shapes, index_file.indexes)
    assert not missing, "add to firestore.indexes.json:\n" + "\n".join(map(str, missing))
    unused = [i for i in index_file.indexes if not any(s.covered_by(i) for s in shapes)]
    assert not unused, "no query uses:\n" + "\n".join(map(str, unused))
    duplicates = [i for i, n in _counts(index_file.indexes).items() if n > 1]
    assert not duplicates


def _counts(indexes: tuple[CompositeIndex, ...]) -> dict[CompositeIndex, int]:
    counted: dict[CompositeIndex, int] = {}
    for index in indexes:
        counted[index] = counted.get(index, 0) + 1
    return counted


def test_no_query_filters_or_orders_on_a_field_exempt_from_indexing(
    storage: FirestoreStorage, index_file: IndexFile
) -> None:
    exercise_every_query(storage)
    for shape in storage.queries.shapes():
        used = {*shape.equals, *shape.ranges, *(field for field, _ in shape.order)}
        assert not {(shape.collection, field) for field in used} & index_file.exempt, shape
    collections = {collection for collection, _ in index_file.exempt | index_file.ttl}
    collections |= {index.collection for index in index_file.indexes}
    assert collections <= set(COLLECTIONS)


def test_ttl_policies_cover_the_auth_state_expiry_fields(index_file: IndexFile) -> None:
    assert index_file.ttl == TTL_FIELDS
    assert index_file.ttl <= index_file.exempt  # monotonic timestamps: no index hot-spots


def test_the_shape_model_knows_what_needs_a_composite_index() -> None:
    asc = ASCENDING
    assert not QueryShape("users", equals=("email",)).needs_composite_index
    assert not QueryShape("users", equals=("email", "role")).needs_composite_index  # merged
    assert not QueryShape("c", ranges=("scope",)).needs_composite_index
    assert not QueryShape("c", order=(("at", asc),)).needs_composite_index
    assert QueryShape("c", equals=("a",), order=(("at", asc),)).needs_composite_index
    assert QueryShape("c", order=(("at", asc), ("id", asc))).needs_composite_index
    shape = QueryShape("c", equals=("a", "b"), order=(("at", asc),))
    assert shape.covered_by(CompositeIndex("c", (("b", asc), ("a", DESCENDING), ("at", asc))))
    assert not shape.covered_by(CompositeIndex("c", (("a", asc), ("at", asc), ("b", asc))))
    assert not shape.covered_by(CompositeIndex("d", (("a", asc), ("b", asc), ("at", asc))))


def test_index_file_is_well_formed_json_for_the_firebase_cli() -> None:
    raw = json.loads(INDEXES_FILE.read_text(encoding="utf-8"))
    assert set(raw) == {"indexes", "fieldOverrides"}
    for index in raw["indexes"]:
        assert set(index) == {"collectionGroup", "queryScope", "fields"}
        assert len(index["fields"]) >= 2


# -- security rules ---------------------------------------------------------------------------
def _request(
    emulator: Emulator, project: str, path: str, method: str = "GET", token: str | None = None
) -> tuple[int, str]:
    url = f"{emulator.url}/v1/projects/{project}/databases/(default)/documents/{path}"
    body = json.dumps({"fields": {"role": {"stringValue": "instructor"}}}).encode()
    request = urllib.request.Request(url, data=body if method != "GET" else None, method=method)
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()


def _signed_in_token(project: str, uid: str) -> str:
    """A Firebase ID token as the emulator accepts it (unsigned): a signed-in browser."""

    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    now = int(time.time())
    claims = {
        "iss": f"https://securetoken.google.com/{project}",
        "aud": project,
        "sub": uid,
        "user_id": uid,
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
    }
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_rules_deny_every_client(
    emulator: Emulator, storage: FirestoreStorage, project: str
) -> None:
    """The emulator runs with ``firestore.rules``: our server (the owner, as a service account
    is) reads what it stored, while a browser, signed in or not, can neither read nor write —
    not even its own user document, nor a collection we do not use."""
    user = make_user(id="u1")
    storage.create_user(user)
    assert _request(emulator, project, "users/u1", token="owner")[0] == 200
    for token in (None, _signed_in_token(project, "u1")):
        for method, path in [
            ("GET", "users/u1"),
            ("GET", "counter_shards"),
            ("PATCH", "users/u1"),
            ("PATCH", "anything/else"),
            ("DELETE", "users/u1"),
        ]:
            status, body = _request(emulator, project, path, method, token)
            assert status == 403, (method, path, token is not None, body)
            assert "PERMISSION_DENIED" in body
    assert storage.get_user("u1") == user  # untouched


def test_rules_file_denies_everything_it_matches() -> None:
    rules = RULES_FILE.read_text(encoding="utf-8")
    assert "rules_version = '2';" in rules
    assert "match /{document=**}" in rules and "allow read, write: if false;" in rules
    assert "if true" not in rules and "request.auth" not in rules
