"""Where every record lives in Firestore: collections, document ids, fields.

All collections are top-level (no subcollections), so a collection name in
``firestore.indexes.json`` is also its collection group. Every record document holds the model
as JSON in ``data`` (the exact model, read back with the same validation as SQLite's rows) plus
the few *query fields* that filters and orderings need, with times as Firestore timestamps so
they sort by instant. ``data`` is exempt from indexing (``fieldOverrides``): it is never queried.

``users/{id}``
    ``id, email, role, created_at`` — written by ``create_user``, ``update_user``.
``user_emails/{email}``
    ``user_id``: the uniqueness guard of e-mails — ``create_user``, ``update_user``.
``classrooms/{id}``
    ``id, instructor_id, invite_code, created_at`` — ``create_classroom``,
    ``set_invite_code``, ``delete_classroom``.
``invite_codes/{code}``
    ``class_id``: the uniqueness guard of invite codes — the same three.
``memberships/{user_id}``
    ``class_id, user_id, joined_at``: a student is in at most one class, so the membership is
    keyed by student and joining another class replaces it — ``join_classroom``,
    ``leave_classroom``, ``delete_classroom``.
``questions/{id}``
    ``id, class_id, student_id, created_at, resolved`` — ``add_question``, ``update_question``,
    ``delete_classroom``.
``submissions/{id}``
    ``id, student_id, class_id, pack_id, at`` — ``record_submission``.
``progress/{user}|{pack}``
    ``user_id, pack_id`` — ``update_progress``, ``record_submission``.
``reflections/{student}|{pack}|{week}``
    ``student_id, class_id, pack_id, week, at`` — ``save_reflection``.
``counter_shards/{scope}|{NN}``
    ``scope, shard, counts`` (a map: counter name, encoded by :func:`encode_key`, to the
    shard's partial sum; see :data:`COUNTER_SHARDS_DEFAULT`) — ``record_submission``,
    ``save_reflection``, ``delete_classroom``.
``revoked_tokens/{token_id}``
    ``token_id, expires_at`` (a TTL field), no ``data`` — ``revoke_token``.
``rate_limits/{key}|{window_seconds}|{window start in µs}``
    ``key, window_seconds, window_start, hits, expires_at`` (a TTL field), no ``data`` —
    ``hit_rate_limit``.
``published_packs/{pack_id}``
    ``pack_id, version, published_at, key, parts, size, compressed, sha256``: the latest
    publication of a pack, pointing at its document's parts — ``publish_pack``.
``published_pack_parts/{pack_id}|{key}|{n}``
    ``pack_id, key, index, written_at, data`` (bytes, at most :data:`PART_BYTES`): part ``n``
    of the gzip-compressed JSON document of the publication ``key`` (random, new for every
    publication), no ``data`` model — ``publish_pack``. See :data:`PART_BYTES`.
``eduverse_meta/layout``
    ``version`` (:data:`LAYOUT_VERSION`) — ``ping``.

Firestore has no unique constraints, so the two guard collections make e-mails and invite
codes unique: the transaction that claims one reads its guard document, and two transactions
claiming the same value conflict on it.

Document ids come from opaque strings (ids, e-mails, scopes, rate-limit keys) through
:func:`doc_id`, which is injective and always yields a legal id.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final
from urllib.parse import unquote

USERS: Final = "users"
USER_EMAILS: Final = "user_emails"
CLASSROOMS: Final = "classrooms"
INVITE_CODES: Final = "invite_codes"
MEMBERSHIPS: Final = "memberships"
QUESTIONS: Final = "questions"
SUBMISSIONS: Final = "submissions"
PROGRESS: Final = "progress"
REFLECTIONS: Final = "reflections"
COUNTER_SHARDS: Final = "counter_shards"
REVOKED_TOKENS: Final = "revoked_tokens"
RATE_LIMITS: Final = "rate_limits"
PUBLISHED_PACKS: Final = "published_packs"
PUBLISHED_PACK_PARTS: Final = "published_pack_parts"
META: Final = "eduverse_meta"

# The query fields of each collection of model records (see above), written from the model's
# attributes of the same names next to ``data``, the model as JSON.
QUERY_FIELDS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        USERS: ("id", "email", "role", "created_at"),
        CLASSROOMS: ("id", "instructor_id", "invite_code", "created_at"),
        MEMBERSHIPS: ("class_id", "user_id", "joined_at"),
        QUESTIONS: ("id", "class_id", "student_id", "created_at", "resolved"),
        SUBMISSIONS: ("id", "student_id", "class_id", "pack_id", "at"),
        REFLECTIONS: ("student_id", "class_id", "pack_id", "week", "at"),
    }
)

COLLECTIONS: Final = (
    USERS,
    USER_EMAILS,
    CLASSROOMS,
    INVITE_CODES,
    MEMBERSHIPS,
    QUESTIONS,
    SUBMISSIONS,
    PROGRESS,
    REFLECTIONS,
    COUNTER_SHARDS,
    REVOKED_TOKENS,
    RATE_LIMITS,
    PUBLISHED_PACKS,
    PUBLISHED_PACK_PARTS,
    META,
)

TTL_FIELDS: Final = frozenset({(REVOKED_TOKENS, "expires_at"), (RATE_LIMITS, "expires_at")})
"""``(collection, field)`` of the timestamps after which Firestore's TTL policy deletes a
document (declared in ``firestore.indexes.json``; TTL deletion may lag by a day, so reads
compare the field with the clock themselves)."""

LAYOUT_VERSION: Final = 1
"""Version of this layout, kept in ``eduverse_meta/layout``. A later layout that needs data
moved bumps it; :meth:`~eduverse_firestore.storage.FirestoreStorage.ping` refuses a database
written by a newer one."""

COUNTER_SHARDS_DEFAULT: Final = 16
"""Shards per counter scope.

Firestore sustains about one write per second on one document (more in bursts, then writes
queue and transactions abort). A counter scope such as ``class:<id>`` is written by every
submission and reflection of every student in the class: sixty students in a lab hour, each
submitting every few seconds while they iterate, is several writes per second on one scope.
Each change therefore goes to *one* of 16 shard documents picked at random inside the
transaction, which spreads a scope's writes over 16 documents (~16 writes/s sustained, far
above a school's peak); a read sums the shards of the scope, at most 16 document reads, and
only on the analytics views, which are read far less often than counters are written. Fewer
shards (8) would halve those reads but leave little headroom for two classes sharing a lab;
more would make every dashboard read pay for headroom no class needs. Shards are created on
first use, so a quiet scope costs as many reads as it has been written shards.
"""

PART_BYTES: Final = 900_000
"""Bytes of compressed document per ``published_pack_parts`` document.

A Firestore document holds at most 1 MiB (1 048 576 bytes, names and field names included),
and the bundled course is about 1.5 MB of JSON. Compressed with gzip it is about 300 kB, so it
fits in one part today; the parts are there so that a course twice or ten times as large, or
less compressible, still publishes. 900 000 bytes leave room for the document's name and other
fields. Every part is written on its own (one ~1 MB request each, well under the 10 MiB of a
commit), before the publication points at them (see ``FirestoreStorage.publish_pack``).
"""

MAX_PARTS: Final = 64
"""Parts of one published document, at most (~55 MB compressed): beyond, ``StorageError``.
:data:`eduverse_core.storage.PUBLISHED_DOCUMENT_CAPACITY` (8 MiB of JSON) needs at most 10."""

MAX_ID_BYTES: Final = 1500
"""Firestore's limit on a document id (and on a field name) in bytes."""

_SEPARATOR: Final = "|"
_RESERVED = re.compile(r"^__.*__$", re.DOTALL)


def _escape(part: str) -> str:
    return part.replace("%", "%25").replace("/", "%2F").replace(_SEPARATOR, "%7C")


def doc_id(*parts: str | int) -> str:
    """A legal document id naming ``parts``; distinct parts always give distinct ids.

    Firestore ids may not contain ``/``, be ``.`` or ``..``, match ``__.*__``, be empty or
    exceed 1500 bytes. Each part has ``%``, ``/`` and ``|`` percent-encoded and the parts are
    joined with ``|``; the whole id then has the forbidden forms encoded (``%2E``, ``%5F`` for
    a leading ``_``, ``%`` alone for the empty string), none of which the first step can
    produce. An over-long id becomes ``%H`` and its SHA-256. Readable for ordinary ids
    (``progress/ada|logicore``); nothing ever parses an id back.
    """
    text = _SEPARATOR.join(_escape(str(part)) for part in parts)
    if text == "":
        return "%"
    if text in (".", ".."):
        return text.replace(".", "%2E")
    if _RESERVED.match(text):
        text = "%5F" + text[1:]
    if len(text.encode()) > MAX_ID_BYTES:
        return "%H" + hashlib.sha256(text.encode()).hexdigest()
    return text


def encode_key(name: str) -> str:
    """A legal map key (field name) for the counter ``name``; :func:`decode_key` reverses it.

    Field names may be any string but the empty one and those matching ``__.*__``. ``%`` is
    percent-encoded so that the two encoded forms (``%`` alone for the empty name, ``%5F`` for
    the leading ``_`` of a reserved one) cannot collide with a real name.
    """
    text = name.replace("%", "%25")
    if text == "":
        return "%"
    if _RESERVED.match(text):
        return "%5F" + text[1:]
    return text


def decode_key(key: str) -> str:
    """The counter name that :func:`encode_key` turned into ``key``."""
    return "" if key == "%" else unquote(key)
