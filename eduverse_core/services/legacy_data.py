"""Convert the original system's user data (its Firestore collections) into any storage.

The original kept accounts, classes, questions, graded submissions and reflections in Cloud
Firestore in a layout of its own. :func:`migrate_legacy` takes those documents
(:class:`LegacyDocument`, read by whoever has access to the old project: the Firestore plugin's
``eduverse migrate legacy-firestore``) and stores them through the :class:`Storage` port, so it
works for every backend. It is **idempotent**: every record gets an id derived from its legacy
key, anything already stored is left alone and reported as already present, so a second run
stores nothing. ``dry_run=True`` converts and reports everything and writes nothing. The
:class:`MigrationReport` counts, per collection, what was converted, what was already present
and what could not be converted (``users/bob@x: <one-line reason>``), plus notes on records that
were converted with a caveat. Data is never trusted: fields may be missing, mistyped or extra;
a bad document is reported, never fatal (only a broken backend, ``StorageError``, stops a run).

Records are stored in dependency order: users → classes → memberships → questions →
submission logs → reflections → progress.

``users/{email}`` → :class:`User`, id ``legacy-<sha256(normalised e-mail)[:32]>``
    The document id is the e-mail (else the ``email`` field), normalised as at sign-up.
    ``name`` (spaces collapsed, cut at 80 characters; missing: the e-mail's local part).
    ``role``: ``student``; ``instructor``, ``professor``, ``teacher`` → ``instructor``;
    anything else → ``student`` (noted: never more rights than certain).
    ``passwordHash`` in Werkzeug's ``pbkdf2:<hash>:<iterations>$salt$hex`` form is kept as it
    is (it verifies, and is re-hashed with scrypt at the next log-in); Werkzeug's
    ``scrypt:<n>:<r>:<p>$salt$hex`` is rewritten losslessly into our ``scrypt$…`` form. A
    plain-text ``password`` is hashed with :func:`hash_password` (plain text is never stored).
    With neither, or an unusable hash, the account is **created locked**: its hash is the
    scrypt hash of a random secret that is thrown away, so nobody can log in, yet a log-in
    attempt takes as long as for any account (no timing hint that the e-mail exists). The
    report lists locked accounts; a class's instructor unlocks a student with the password
    reset (``POST /api/classes/{class_id}/members/{user_id}/password-reset``).
    ``createdAt`` → ``created_at``. An e-mail that already belongs to an account this migration
    did not create is not touched, and nothing of that legacy user is converted (merging two
    accounts is a decision for a person, not for a script).
``classes/{id}`` → :class:`Classroom`, id ``legacy-<id>``, in the given pack
    ``instructorEmail`` → the migrated instructor (required). ``details``: ``subject``,
    ``year`` (an integer or a string holding one), ``semester``, ``department``, ``section``;
    a missing subject, year or semester gets a stand-in (noted). ``inviteCode`` normalised
    (upper case, no dashes or spaces); a code that is not 6 characters of
    :data:`INVITE_ALPHABET`, or that another class holds, is replaced by a fresh one (noted).
    ``createdAt`` → ``created_at``.
memberships (report section ``memberships``) → :class:`Membership`
    From a class's ``students`` (e-mails) and a student's ``classId``; when they disagree the
    student's own ``classId`` wins (noted). ``joined_at`` is the later of the class's and the
    student's creation. A student already in a class in the store is never moved.
``questions/{id}`` → :class:`Question`, id ``legacy-<id>``
    ``studentEmail`` (or ``email``), ``classId`` (else the student's class),
    ``question`` or ``text``, ``answer`` (empty: none), ``isResolved`` (missing: whether there
    is an answer), ``isNotified``, ``answeredAt``; ``answered_by`` is the class's instructor.
    ``context {week, cycle, scene, character, excerpt}``: the cycle (a 1-based position or an
    id) becomes the cycle id; a context that cannot be placed keeps what it can (noted).
``submission_logs/{id}`` → :class:`SubmissionLog`, id ``legacy-<id>``
    ``email``/``studentEmail``, ``week``, ``cycle`` (position or id) → cycle id, ``track``
    (``advanced``/``adv``, else ``beginner``), ``code``, ``success`` (true: passed; false:
    failed, or error when the message is an exception other than ``AssertionError``) or an
    ``outcome`` string, ``message``/``errorMessage``, ``timestamp``/``createdAt``,
    ``classId`` (else the student's class). Stored with ``record_submission`` and the live
    :func:`submission_counters`, so the analytics counters equal a recount of the logs.
    Replaying moves no progress. Grader errors were never attempts: not converted.
``reflections/{id}`` (often ``{email}_week{N}``) → :class:`Reflection`
    ``email`` and ``week`` (else parsed from the id), ``ratings {cycle id or position:
    {comprehension, application}}`` (ratings that cannot be placed or are not 1-5 are dropped,
    noted), ``meaningful``/``difficult``/``curious`` (or a ``feedback`` map), ``createdAt``;
    the class is ``classId`` if given, else the student's. Saved with the live
    :func:`replacement_deltas`. Several for one student and week: the latest wins.
progress (from ``users/{email}``, report section ``progress``) → :class:`Progress`
    ``progress {week, cycle}`` (cycle: 1-based position) is the position; a cycle past the
    week's end moves on to the next week, a week past the course's end means finished (both
    noted). ``completedCycles`` (ids) if present, else every cycle before the position.
    Week intros count as seen for every week before the current one (and the current one past
    its first cycle). ``seenCodingIntros`` (a bool, or a non-empty list) → ``coding_intro_seen``
    (missing: whether anything was completed). ``pauseState {week, cycle, scene, track}`` →
    :class:`PauseState` (dropped, noted, when it cannot be placed or lies ahead of the
    position). ``liveCode`` → ``live_code`` for the paused (else current) cycle.
    ``failed_attempts`` are counted from the learner's converted logs, so hints unlock as they
    would have. Written only when the learner has no progress in the pack yet.
``scenarios/week_N`` and other collections
    Course content, not user data: skipped with a line in the report (convert the course with
    ``eduverse pack import-legacy``). Unknown collections are listed and skipped too.

Times may be Firestore timestamps (``datetime``), ISO strings, epoch milliseconds (numbers
below 10¹¹ are read as seconds) or ``{seconds|_seconds, nanoseconds|_nanoseconds}`` maps;
naive times are taken as UTC. A missing time becomes the time of the run (noted). Without a
``pack``, week and cycle *positions* cannot be mapped to cycle ids: logs, ratings and progress
that need them are reported as not converted.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import partial
from typing import Any, Final

from pydantic import ValidationError

from ..errors import Conflict, NotFound, ValidationFailed
from ..models import (
    INVITE_ALPHABET,
    INVITE_CODE_LENGTH,
    ClassDetails,
    Classroom,
    Membership,
    Outcome,
    PauseState,
    Progress,
    Question,
    Rating,
    Reflection,
    ReflectionFeedback,
    Role,
    ScenarioPack,
    SceneContext,
    SubmissionLog,
    User,
    utcnow,
)
from ..passwords import MIN_PASSWORD_LENGTH, hash_password
from ..storage import Storage
from .accounts import MAX_NAME_LENGTH, check_name, normalize_email
from .base import MAX_CODE_BYTES
from .classes import generate_invite_code, normalize_invite_code
from .progress import is_reached, order_index
from .reflections import replacement_deltas
from .submissions import attempt_key, submission_counters

LEGACY_PREFIX: Final = "legacy-"
"""Every id this migration makes starts with it."""

SECTIONS: Final[tuple[str, ...]] = (
    "users",
    "classes",
    "memberships",
    "questions",
    "submission_logs",
    "reflections",
    "progress",
)
"""The report's sections, in the order records are stored. ``memberships`` and ``progress``
come out of ``users`` and ``classes`` documents; the others are legacy collections."""

CONTENT_COLLECTIONS: Final = frozenset({"scenarios"})
"""Legacy collections holding course content, skipped (see ``eduverse pack import-legacy``)."""

USER_COLLECTIONS: Final = frozenset(
    {"users", "classes", "questions", "submission_logs", "reflections"}
)
"""The legacy collections this migration converts."""


def _fields(names: str) -> frozenset[str]:
    return frozenset(names.split())


KNOWN_FIELDS: Final[dict[str, frozenset[str]]] = {
    "users": _fields(
        "email name role passwordHash password createdAt progress classId liveCode pauseState"
        " seenCodingIntros completedCycles"
    ),
    "classes": _fields("inviteCode instructorEmail students details createdAt"),
    "questions": _fields(
        "studentEmail email classId question text answer isResolved isNotified context"
        " createdAt answeredAt"
    ),
    "submission_logs": _fields(
        "email studentEmail week cycle track code success outcome message errorMessage"
        " timestamp createdAt classId"
    ),
    "reflections": _fields(
        "email studentEmail week ratings meaningful difficult curious feedback createdAt classId"
    ),
}
"""Fields of each legacy collection; any other is counted in the report as ignored."""

INSTRUCTOR_ROLES: Final = frozenset({"instructor", "professor", "teacher"})
_PROGRESS_FIELDS = ("progress", "pauseState", "liveCode", "seenCodingIntros", "completedCycles")
_FEEDBACK_FIELDS = ("meaningful", "difficult", "curious")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
_REFLECTION_ID = re.compile(r"^(?P<email>.+)_week(?P<week>\d+)$")
_EXCEPTION_LINE = re.compile(r"^\s*(Traceback \(most recent call last\)|\w*(Error|Exception)\b)")
_PBKDF2 = re.compile(r"^pbkdf2:(?P<algorithm>\w+):(?P<iterations>\d+)\$[^$]+\$(?:[0-9a-f]{2})+$")
_WERKZEUG_SCRYPT = re.compile(
    r"^scrypt:(?P<n>\d+):(?P<r>\d+):(?P<p>\d+)\$(?P<salt>[^$]+)\$(?P<hex>(?:[0-9a-f]{2})+)$"
)
_SCRYPT_MAX_BYTES = 48 * 1024 * 1024  # verify_password allows scrypt 64 MiB; keep a margin
_EPOCH_SECONDS_BELOW = 10**11  # a number below this is epoch seconds (ms: before 1973)
_OUTCOMES: Final[dict[str, Outcome]] = {
    "passed": Outcome.PASSED,
    "pass": Outcome.PASSED,
    "success": Outcome.PASSED,
    "failed": Outcome.FAILED,
    "fail": Outcome.FAILED,
    "failure": Outcome.FAILED,
    "failure_logical": Outcome.FAILED,
    "logical": Outcome.FAILED,
    "error": Outcome.ERROR,
    "runtime": Outcome.ERROR,
    "runtime_error": Outcome.ERROR,
    "failure_runtime": Outcome.ERROR,
    "syntax_error": Outcome.ERROR,
    "timeout": Outcome.TIMEOUT,
    "limit_exceeded": Outcome.LIMIT_EXCEEDED,
    "limit": Outcome.LIMIT_EXCEEDED,
    "grader_error": Outcome.GRADER_ERROR,
}
"""Legacy ``outcome`` strings (lower-cased, ``-`` and spaces as ``_``) → outcomes."""


# -- input and report -------------------------------------------------------------------------
@dataclass(frozen=True)
class LegacyDocument:
    """One document of the original Firestore: its collection, id and fields as read
    (timestamps may be ``datetime`` objects, references anything with an ``id``)."""

    collection: str
    doc_id: str
    data: Mapping[str, Any]

    @property
    def path(self) -> str:
        """``collection/doc_id``, as the report names it."""
        return f"{self.collection}/{self.doc_id}"


@dataclass(frozen=True)
class Issue:
    """A line of the report about one legacy document."""

    source: str  # "users/bob@x"
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass
class SectionReport:
    """What happened to the records of one section (see :data:`SECTIONS`).

    ``failed`` are the records that could not be converted, with the reason; ``notes`` are
    records converted with a caveat (a stand-in value, something dropped); ``ignored_fields``
    counts the documents carrying each field this migration does not know.
    """

    converted: int = 0
    already_present: int = 0
    failed: list[Issue] = field(default_factory=list)
    notes: list[Issue] = field(default_factory=list)
    ignored_fields: Counter[str] = field(default_factory=Counter)

    def fail(self, source: str, reason: str) -> None:
        """Count the record of ``source`` as not converted, for ``reason``."""
        self.failed.append(Issue(source, reason))

    def note(self, source: str, reason: str) -> None:
        """Add a caveat about the converted record of ``source``."""
        self.notes.append(Issue(source, reason))

    @property
    def total(self) -> int:
        """Records seen: converted, already present or not converted."""
        return self.converted + self.already_present + len(self.failed)


@dataclass
class MigrationReport:
    """What :func:`migrate_legacy` converted (or, in a dry run, would convert)."""

    pack_id: str
    dry_run: bool
    sections: dict[str, SectionReport] = field(
        default_factory=lambda: {name: SectionReport() for name in SECTIONS}
    )
    skipped: list[str] = field(default_factory=list)
    """Lines about whole collections left alone (course content, unknown collections)."""
    locked_accounts: list[str] = field(default_factory=list)
    """E-mails of the accounts created locked (no usable password in the legacy data)."""

    def __getitem__(self, section: str) -> SectionReport:
        return self.sections[section]

    @property
    def converted(self) -> int:
        """Records converted (stored, unless a dry run) in every section."""
        return sum(s.converted for s in self.sections.values())

    @property
    def already_present(self) -> int:
        """Records found already stored in every section."""
        return sum(s.already_present for s in self.sections.values())

    @property
    def failed(self) -> list[Issue]:
        """Every record that could not be converted, section by section."""
        return [issue for s in self.sections.values() for issue in s.failed]

    def to_text(self) -> str:
        """The report for people, one line per count and per issue."""
        verb = "would be converted" if self.dry_run else "converted"
        lines = [
            f"Legacy data → pack {self.pack_id}"
            + (" (dry run: nothing was written)" if self.dry_run else "")
        ]
        for name, s in self.sections.items():
            lines.append(
                f"{name}: {s.converted} {verb}, {s.already_present} already present,"
                f" {len(s.failed)} could not be converted"
            )
            lines += [f"  ✗ {issue}" for issue in s.failed]
            lines += [f"  · {issue}" for issue in s.notes]
            if s.ignored_fields:
                fields = ", ".join(f"{k} ({n})" for k, n in sorted(s.ignored_fields.items()))
                lines.append(f"  · ignored fields: {fields}")
        lines += self.skipped
        if self.locked_accounts:
            count = len(self.locked_accounts)
            lines.append(
                f"{count} account{'s' * (count != 1)} locked (no usable password); a class's"
                " instructor gives a student a new one with the password reset:"
                f" {', '.join(self.locked_accounts)}"
            )
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (for ``--json``)."""
        return {
            "pack_id": self.pack_id,
            "dry_run": self.dry_run,
            "sections": {
                name: {
                    "converted": s.converted,
                    "already_present": s.already_present,
                    "failed": [str(issue) for issue in s.failed],
                    "notes": [str(issue) for issue in s.notes],
                    "ignored_fields": dict(sorted(s.ignored_fields.items())),
                }
                for name, s in self.sections.items()
            },
            "skipped": list(self.skipped),
            "locked_accounts": list(self.locked_accounts),
        }


# -- ids and values ---------------------------------------------------------------------------
def legacy_user_id(email: str) -> str:
    """The id of the account migrated for the normalised ``email``. Derived, so a second run
    finds it; note that anyone knowing the e-mail can compute it (unlike :func:`new_id`)."""
    return LEGACY_PREFIX + hashlib.sha256(email.encode()).hexdigest()[:32]


def legacy_record_id(doc_id: str) -> str:
    """The id of the record migrated from the legacy document ``doc_id``: ``legacy-<doc_id>``
    when the id is URL-safe (Firestore's generated ids are), else ``legacy-~<hash of it>``
    (``~`` is in no URL-safe id, so the two forms never meet)."""
    if _SAFE_ID.match(doc_id):
        return LEGACY_PREFIX + doc_id
    return LEGACY_PREFIX + "~" + hashlib.sha256(doc_id.encode()).hexdigest()[:32]


class _Unconvertible(Exception):
    """A document that cannot become a record; the message is the report's reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_DATA_ERRORS = (_Unconvertible, ValidationFailed, ValueError, TypeError, KeyError, AttributeError)
"""What converting a document may raise because of its data (pydantic's ``ValidationError``
is a ``ValueError``): reported for that document, never fatal. ``StorageError`` is not here."""


def _failure_reason(exc: Exception) -> str:
    """The report's one-line reason for a document that raised ``exc``."""
    if isinstance(exc, _Unconvertible):
        return exc.reason
    if isinstance(exc, ValidationFailed):
        return exc.message
    if isinstance(exc, ValidationError):
        problems = [
            f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}" for e in exc.errors()[:3]
        ]
        return "invalid " + "; ".join(problems)
    return f"unreadable data ({type(exc).__name__}: {exc})"


def parse_legacy_time(value: Any) -> datetime | None:
    """A legacy time as an aware datetime; None when missing, ``ValueError`` when unreadable.

    Accepts ``datetime`` (Firestore timestamps are a subclass; naive means UTC), ``date``,
    ISO 8601 strings (``Z`` included), epoch milliseconds or seconds (numbers, or strings of
    digits), and ``{seconds, nanoseconds}`` maps as JSON exports write timestamps.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    if isinstance(value, Mapping):
        seconds = value.get("seconds", value.get("_seconds"))
        nanos = value.get("nanoseconds", value.get("_nanoseconds", 0))
        if _integer(seconds) is None or _integer(nanos) is None:
            raise ValueError(f"{dict(value)!r} is not a timestamp")
        return datetime.fromtimestamp(int(seconds) + int(nanos) / 1e9, UTC)
    seconds_attr = getattr(value, "seconds", None)  # a protobuf Timestamp
    if isinstance(seconds_attr, int) and not isinstance(value, bool | str):
        return datetime.fromtimestamp(seconds_attr + getattr(value, "nanos", 0) / 1e9, UTC)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        value = float(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        try:
            if abs(number) < _EPOCH_SECONDS_BELOW:
                return datetime.fromtimestamp(number, UTC)
            return datetime.fromtimestamp(number / 1000, UTC)
        except (OverflowError, OSError) as exc:
            raise ValueError(f"{value!r} is not a time") from exc
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not a time") from None
        return parsed if parsed.utcoffset() is not None else parsed.replace(tzinfo=UTC)
    raise ValueError(f"{value!r} is not a time")


def _integer(value: Any) -> int | None:
    """An int from an int, an integral float or a string of digits; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def _string(value: Any) -> str | None:
    """Stripped text from a string (or a number); None for anything else or blank."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _boolean(value: Any) -> bool | None:
    """A bool from a bool, 0/1 or ``"true"``/``"false"``; else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _reference(value: Any) -> str | None:
    """A document id from a string or a Firestore ``DocumentReference`` (its ``id``)."""
    if isinstance(value, str):
        return value.strip() or None
    ref_id = getattr(value, "id", None)
    return ref_id.strip() or None if isinstance(ref_id, str) else None


def _clip(text: str, limit: int, what: str, notes: list[str]) -> str:
    if len(text) <= limit:
        return text
    notes.append(f"{what} cut to {limit} characters")
    return text[:limit]


def _convert_werkzeug_scrypt(stored: str) -> str | None:
    """Werkzeug's ``scrypt:n:r:p$salt$hex`` as our ``scrypt$n$r$p$salt$hash`` (the same
    computation: UTF-8 salt, 64-byte key), or None if it is not one we can verify."""
    match = _WERKZEUG_SCRYPT.match(stored)
    if match is None:
        return None
    n, r, p = int(match["n"]), int(match["r"]), int(match["p"])
    if n < 2 or n & (n - 1) or r < 1 or p < 1 or 128 * n * r * p > _SCRYPT_MAX_BYTES:
        return None
    digest = bytes.fromhex(match["hex"])
    if len(digest) != 64:
        return None

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return "$".join(["scrypt", str(n), str(r), str(p), b64(match["salt"].encode()), b64(digest)])


def _usable_hash(stored: str) -> str | None:
    """``stored`` in a form :func:`verify_password` checks, or None."""
    match = _PBKDF2.match(stored)
    if match is not None:
        usable = match["algorithm"] in hashlib.algorithms_guaranteed
        return stored if usable and int(match["iterations"]) > 0 else None
    return _convert_werkzeug_scrypt(stored)


# -- the course: legacy positions → cycle ids ------------------------------------------------
class _Course:
    """Maps legacy week numbers and cycle positions to the pack's weeks and cycle ids."""

    def __init__(self, pack_id: str, pack: ScenarioPack | None) -> None:
        self.pack_id = pack_id
        self.pack = pack

    def week(self, raw: Any) -> int:
        number = _integer(raw)
        if number is None or number < 1:
            raise _Unconvertible("no week" if raw is None else f"week {raw!r} is not a week number")
        if self.pack is not None and self.pack.week(number) is None:
            raise _Unconvertible(f"week {number} not in pack {self.pack_id}")
        return number

    def cycle(self, week: int, raw: Any) -> str:
        """The id of the cycle ``raw`` (a 1-based position or an id) of ``week``."""
        position = _integer(raw)
        if position is not None:
            if position < 1:
                raise _Unconvertible(f"cycle {raw!r} is not a 1-based position")
            if self.pack is None:
                raise _Unconvertible(
                    f"cycle {position} of week {week}: no pack given to map positions to ids"
                )
            found = self.pack.week(week)
            cycles = found.cycles if found is not None else []
            if position > len(cycles):
                raise _Unconvertible(
                    f"week {week} of pack {self.pack_id} has no cycle {position}"
                    f" (it has {len(cycles)})"
                )
            return cycles[position - 1].id
        cycle_id = _string(raw)
        if cycle_id is None:
            raise _Unconvertible("no cycle" if raw is None else f"cycle {raw!r} is not a cycle")
        if self.pack is not None:
            located = self.pack.find_cycle(cycle_id)
            if located is None or located[0].number != week:
                raise _Unconvertible(
                    f"cycle {cycle_id!r} not in week {week} of pack {self.pack_id}"
                )
        return cycle_id


# -- the migration -----------------------------------------------------------------------------
@dataclass
class _Candidate:
    """A membership a student may get: from their ``classId`` (rank 0) or a class list (1)."""

    classroom: Classroom
    source: str
    rank: int


class _Migration:
    """One run: the state that links records across collections, and each step."""

    def __init__(
        self, storage: Storage, pack_id: str, pack: ScenarioPack | None, dry_run: bool
    ) -> None:
        self.storage = storage
        self.pack_id = pack_id
        self.course = _Course(pack_id, pack)
        self.dry_run = dry_run
        self.report = MigrationReport(pack_id=pack_id, dry_run=dry_run)
        self.now = utcnow()
        self.accounts: dict[str, User] = {}  # normalised e-mail → migrated account
        self.user_docs: dict[str, LegacyDocument] = {}  # normalised e-mail → its users doc
        self.new_user_ids: set[str] = set()  # accounts made by this run (no logs stored yet)
        self.classes: dict[str, Classroom] = {}  # legacy class id → migrated class
        self.class_of: dict[str, str] = {}  # user id → class id, once memberships are done
        self.logs_of: defaultdict[str, list[SubmissionLog]] = defaultdict(list)
        self.stored_log_ids: dict[str, set[str]] = {}  # user id → ids of their stored logs
        self.invite_codes: set[str] = set()  # codes given to classes in this run

    # -- plumbing -------------------------------------------------------------------------
    def attempt(
        self, section: str, source: str, convert: Callable[[list[str]], bool]
    ) -> bool | None:
        """Run ``convert(notes)`` (True: converted; False: already present) and count it in
        ``section``. None when it could not be converted. Notes are kept for converted records
        only: an already present one was reported by the run that stored it."""
        report = self.report[section]
        notes: list[str] = []
        try:
            stored = convert(notes)
        except _DATA_ERRORS as exc:
            report.fail(source, _failure_reason(exc))
            return None
        if stored:
            report.converted += 1
            if notes:
                report.note(source, "; ".join(notes))
        else:
            report.already_present += 1
        return stored

    def time(self, data: Mapping[str, Any], keys: tuple[str, ...], notes: list[str]) -> datetime:
        """The first of ``keys`` present in ``data`` as a time; else the run's time (noted)."""
        for key in keys:
            if data.get(key) not in (None, ""):
                try:
                    moment = parse_legacy_time(data[key])
                except ValueError as exc:
                    notes.append(f"{key}: {exc}; the migration time is used")
                    return self.now
                assert moment is not None
                return moment
        notes.append(f"no {keys[0]}: the migration time is used")
        return self.now

    def account(self, raw: Any, what: str = "student") -> User:
        """The migrated account of the e-mail ``raw``; ``_Unconvertible`` otherwise."""
        text = _string(raw) or _reference(raw)  # or a DocumentReference to users/{email}
        if text is None:
            raise _Unconvertible(f"no {what} e-mail")
        try:
            email = normalize_email(text)
        except ValidationFailed:
            raise _Unconvertible(f"{what} {text!r} is not an e-mail address") from None
        user = self.accounts.get(email)
        if user is None:
            stored = self.storage.get_user(legacy_user_id(email))
            if stored is None:
                raise _Unconvertible(f"{what} {email} has no migrated account")
            self.accounts[email] = user = stored
        return user

    def class_for(self, data: Mapping[str, Any], student: User, notes: list[str]) -> str | None:
        """The class of a record: its ``classId`` when that class was migrated, else the
        student's class (noted when ``classId`` named another)."""
        legacy_id = _reference(data.get("classId"))
        if legacy_id is not None:
            classroom = self.classes.get(legacy_id)
            if classroom is not None:
                return classroom.id
            notes.append(f"classId {legacy_id!r} is not a migrated class: the student's is used")
        return self.class_of.get(student.id)

    # -- steps ----------------------------------------------------------------------------
    def run(self, documents: Iterable[LegacyDocument]) -> MigrationReport:
        """Group the documents by collection, then migrate them step by step, in order."""
        grouped: dict[str, list[LegacyDocument]] = defaultdict(list)
        seen: set[tuple[str, str]] = set()
        for doc in documents:
            key = (doc.collection, doc.doc_id)
            if doc.collection in USER_COLLECTIONS:
                if key in seen:
                    self.report[doc.collection].fail(doc.path, "the same document appears twice")
                    continue
                if not isinstance(doc.data, Mapping):
                    self.report[doc.collection].fail(doc.path, "not a map of fields")
                    continue
                extra = set(doc.data) - KNOWN_FIELDS[doc.collection]
                self.report[doc.collection].ignored_fields.update(extra)
            seen.add(key)
            grouped[doc.collection].append(doc)
        self.migrate_users(grouped["users"])
        self.migrate_classes(grouped["classes"])
        self.migrate_memberships(grouped["classes"])
        self.migrate_questions(grouped["questions"])
        self.migrate_logs(grouped["submission_logs"])
        self.migrate_reflections(grouped["reflections"])
        self.migrate_progress()
        for name in sorted(set(grouped) - USER_COLLECTIONS):
            count = len(grouped[name])
            skipped = f"{name}: {count} document{'s' * (count != 1)} skipped"
            if name in CONTENT_COLLECTIONS:
                self.report.skipped.append(
                    f"{skipped} — course content, not user data:"
                    " convert the course with `eduverse pack import-legacy`"
                )
            else:
                self.report.skipped.append(
                    f"{skipped} — not a collection of the original system this migration knows"
                )
        return self.report

    # users ---------------------------------------------------------------------------------
    def migrate_users(self, docs: list[LegacyDocument]) -> None:
        for doc in docs:
            self.attempt("users", doc.path, partial(self.user, doc))

    def user(self, doc: LegacyDocument, notes: list[str]) -> bool:
        """Create the account of a ``users`` document (False: it exists)."""
        data = doc.data
        email = self.user_email(doc)
        if email in self.user_docs:
            raise _Unconvertible(f"same e-mail as {self.user_docs[email].path}")
        user_id = legacy_user_id(email)
        stored = self.storage.get_user(user_id)
        if stored is not None:
            self.accounts[email], self.user_docs[email] = stored, doc
            return False
        taken = self.storage.get_user_by_email(email)
        if taken is not None:
            raise _Unconvertible(
                f"e-mail already belongs to account {taken.id}, which this migration did not"
                " create: nothing of this user is converted (merge them by hand)"
            )
        role = self.role(data.get("role"), notes)
        user = User(
            id=user_id,
            email=email,
            name=self.name(data.get("name"), email, notes),
            role=role,
            password_hash=self.password_hash(data, email, notes),
            created_at=self.time(data, ("createdAt",), notes),
        )
        if not self.dry_run:
            try:
                self.storage.create_user(user)
            except Conflict as exc:
                raise _Unconvertible(f"not stored: {exc.message}") from None
        self.accounts[email], self.user_docs[email] = user, doc
        self.new_user_ids.add(user.id)
        return True

    @staticmethod
    def user_email(doc: LegacyDocument) -> str:
        for candidate in (doc.doc_id, doc.data.get("email")):
            text = _string(candidate)
            if text is None:
                continue
            try:
                return normalize_email(text)
            except ValidationFailed:
                continue
        raise _Unconvertible("neither the document id nor `email` is an e-mail address")

    @staticmethod
    def role(raw: Any, notes: list[str]) -> Role:
        text = (_string(raw) or "").lower()
        if text in INSTRUCTOR_ROLES:
            return "instructor"
        if text != "student":
            shown = "no role" if raw is None else f"unknown role {raw!r}"
            notes.append(f"{shown}: made a student")
        return "student"

    @staticmethod
    def name(raw: Any, email: str, notes: list[str]) -> str:
        text = _string(raw)
        if text is not None:
            cleaned = " ".join(text.split())
            if len(cleaned) > MAX_NAME_LENGTH:
                notes.append(f"name cut to {MAX_NAME_LENGTH} characters")
                cleaned = cleaned[:MAX_NAME_LENGTH].rstrip()
            return check_name(cleaned)
        fallback = check_name(email.split("@", 1)[0][:MAX_NAME_LENGTH])
        notes.append(f"no name: {fallback!r} (from the e-mail) is used")
        return fallback

    def password_hash(self, data: Mapping[str, Any], email: str, notes: list[str]) -> str:
        """A hash :func:`verify_password` accepts; for no usable password, the hash of a
        random secret nobody knows (a locked account, see the module docstring)."""
        stored, plain = data.get("passwordHash"), data.get("password")
        problem = None
        if isinstance(stored, str) and stored:
            usable = _usable_hash(stored)
            if usable is not None:
                return usable
            problem = "passwordHash is in a form that cannot be verified"
        elif stored is not None:
            problem = "passwordHash is not text"
        if isinstance(plain, str) and plain:
            if len(plain) < MIN_PASSWORD_LENGTH:
                notes.append(
                    f"plain-text password shorter than {MIN_PASSWORD_LENGTH} characters"
                    " (hashed as it is; ask the owner to change it)"
                )
            return hash_password(plain)
        if plain is not None:
            problem = problem or "password is not text"
        notes.append(f"{problem or 'no password or hash'} — account created locked")
        self.report.locked_accounts.append(email)
        return hash_password(secrets.token_urlsafe(32))

    # classes -------------------------------------------------------------------------------
    def migrate_classes(self, docs: list[LegacyDocument]) -> None:
        for doc in docs:
            self.attempt("classes", doc.path, partial(self.classroom, doc))

    def classroom(self, doc: LegacyDocument, notes: list[str]) -> bool:
        """Create the class of a ``classes`` document (False: it exists)."""
        class_id = legacy_record_id(doc.doc_id)
        stored = self.storage.get_classroom(class_id)
        if stored is not None:
            self.classes[doc.doc_id] = stored
            return False
        data = doc.data
        instructor = self.account(data.get("instructorEmail"), "instructor")
        if instructor.role != "instructor":
            raise _Unconvertible(f"instructorEmail {instructor.email} is a student account")
        created_at = self.time(data, ("createdAt",), notes)
        classroom = Classroom(
            id=class_id,
            details=self.details(data.get("details"), doc.doc_id, created_at, notes),
            instructor_id=instructor.id,
            pack_id=self.pack_id,
            invite_code=self.invite_code(data.get("inviteCode"), notes),
            created_at=created_at,
        )
        classroom = self.store_classroom(classroom, notes)
        self.classes[doc.doc_id] = classroom
        self.invite_codes.add(classroom.invite_code)
        return True

    @staticmethod
    def details(raw: Any, doc_id: str, created_at: datetime, notes: list[str]) -> ClassDetails:
        data: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        if not isinstance(raw, Mapping):
            notes.append("no details map: stand-ins are used")
        subject = _string(data.get("subject"))
        if subject is None:
            subject = f"Class {doc_id}"
            notes.append(f"no details.subject: {subject!r} is used")
        year_text = _string(data.get("year")) or ""
        found = re.search(r"\d{4}", year_text)
        year = int(found.group()) if found else 0
        if not 2000 <= year <= 2100:
            shown = "no details.year" if not year_text else f"details.year {year_text!r} is no year"
            year = created_at.year
            notes.append(f"{shown}: {year} (its creation) is used")
        semester = _string(data.get("semester"))
        if semester is None:
            semester = "1"
            notes.append("no details.semester: '1' is used")
        return ClassDetails(
            subject=_clip(subject, 120, "details.subject", notes),
            year=year,
            semester=_clip(semester, 20, "details.semester", notes),
            department=_clip(
                _string(data.get("department")) or "", 120, "details.department", notes
            ),
            section=_clip(_string(data.get("section")) or "", 40, "details.section", notes),
        )

    def invite_code(self, raw: Any, notes: list[str]) -> str:
        text = _string(raw)
        code = normalize_invite_code(text) if text else ""
        valid = re.fullmatch(f"[{INVITE_ALPHABET}]{{{INVITE_CODE_LENGTH}}}", code) is not None
        if valid and not self.code_taken(code):
            return code
        new = self.free_code()
        if not text:
            notes.append(f"no inviteCode: new code {new}")
        elif not valid:
            notes.append(
                f"invite code {text!r} is not {INVITE_CODE_LENGTH} characters of"
                f" {INVITE_ALPHABET}: new code {new}"
            )
        else:
            notes.append(f"invite code {code} is taken by another class: new code {new}")
        return new

    def code_taken(self, code: str) -> bool:
        taken = code in self.invite_codes
        return taken or self.storage.get_classroom_by_invite_code(code) is not None

    def free_code(self) -> str:
        for _ in range(20):
            code = generate_invite_code()
            if not self.code_taken(code):
                return code
        raise _Unconvertible("could not find a free invite code")

    def store_classroom(self, classroom: Classroom, notes: list[str]) -> Classroom:
        """Create ``classroom``; when its code was taken meanwhile, with a fresh one."""
        if self.dry_run:
            return classroom
        for _ in range(20):
            try:
                self.storage.create_classroom(classroom)
                return classroom
            except Conflict as exc:
                if exc.code != "invite_code_taken":
                    raise _Unconvertible(f"not stored: {exc.message}") from None
                new = self.free_code()
                notes.append(f"invite code {classroom.invite_code} was taken: new code {new}")
                classroom = classroom.model_copy(update={"invite_code": new})
        raise _Unconvertible("could not find a free invite code")

    # memberships ---------------------------------------------------------------------------
    def migrate_memberships(self, class_docs: list[LegacyDocument]) -> None:
        """Put each student in one class: the one their ``classId`` names, else the oldest
        class listing them. Then note everyone's class for the records that follow."""
        candidates: defaultdict[str, list[_Candidate]] = defaultdict(list)
        report = self.report["memberships"]
        for doc in class_docs:
            classroom = self.classes.get(doc.doc_id)
            if classroom is None:
                continue  # the class itself is reported
            students = doc.data.get("students")
            if students is None:
                continue
            if not isinstance(students, list):
                report.fail(doc.path, "students is not a list")
                continue
            for entry in students:
                raw = entry.get("email") if isinstance(entry, Mapping) else entry
                try:
                    student = self.account(raw)
                except _Unconvertible as exc:
                    report.fail(doc.path, exc.reason)
                    continue
                if student.role != "student":
                    report.fail(doc.path, f"{student.email} is an instructor: not made a member")
                    continue
                candidates[student.email].append(_Candidate(classroom, doc.path, 1))
        for email, doc in self.user_docs.items():
            legacy_id = _reference(doc.data.get("classId"))
            user = self.accounts[email]
            if legacy_id is None or user.role != "student":
                continue
            classroom = self.classes.get(legacy_id)
            if classroom is None:
                report.fail(doc.path, f"classId {legacy_id!r} is not a migrated class")
                continue
            candidates[email].append(_Candidate(classroom, doc.path, 0))
        for email, options in candidates.items():
            options.sort(key=lambda c: (c.rank, c.classroom.created_at, c.classroom.id))
            chosen = options[0]
            user = self.accounts[email]
            self.attempt(
                "memberships",
                chosen.source,
                partial(self.membership, user, chosen, options),
            )
        # Everyone else keeps the class they are in now (records below name it).
        for user in self.accounts.values():
            if user.id not in self.class_of and user.role == "student":
                current = self.storage.get_membership(user.id)
                if current is not None:
                    self.class_of[user.id] = current.class_id

    def membership(
        self, user: User, chosen: _Candidate, options: list[_Candidate], notes: list[str]
    ) -> bool:
        """Join ``user`` to the chosen class (False: already in it; never moved out of
        another class they are in)."""
        classroom = chosen.classroom
        current = self.storage.get_membership(user.id)
        if current is not None:
            if current.class_id != classroom.id:
                self.class_of[user.id] = current.class_id
                raise _Unconvertible(
                    f"{user.email} is already in class {current.class_id}: not moved to"
                    f" {classroom.id}"
                )
            self.class_of[user.id] = classroom.id
            return False
        others = sorted({o.classroom.id for o in options} - {classroom.id})
        if others:
            why = "its classId" if chosen.rank == 0 else "the oldest class"
            notes.append(f"{user.email} is also listed in {', '.join(others)}: joined {why}")
        membership = Membership(
            class_id=classroom.id,
            user_id=user.id,
            joined_at=max(classroom.created_at, user.created_at),
        )
        if not self.dry_run:
            try:
                self.storage.join_classroom(membership)
            except NotFound:
                raise _Unconvertible(f"class {classroom.id} disappeared") from None
        self.class_of[user.id] = classroom.id
        return True

    # questions -----------------------------------------------------------------------------
    def migrate_questions(self, docs: list[LegacyDocument]) -> None:
        for doc in docs:
            self.attempt("questions", doc.path, partial(self.question, doc))

    def question(self, doc: LegacyDocument, notes: list[str]) -> bool:
        """Store the question of a ``questions`` document (False: it exists)."""
        question_id = legacy_record_id(doc.doc_id)
        if self.storage.get_question(question_id) is not None:
            return False
        data = doc.data
        student = self.account(data.get("studentEmail", data.get("email")))
        class_id = self.class_for(data, student, notes)
        if class_id is None:
            raise _Unconvertible(f"no class: no classId, and {student.email} is in none")
        text = _string(data.get("question")) or _string(data.get("text"))
        if text is None:
            raise _Unconvertible("no question text")
        answer = _string(data.get("answer"))
        resolved = _boolean(data.get("isResolved"))
        instructor = self.instructor_of(class_id)
        answered_at = None
        if answer is not None and data.get("answeredAt") not in (None, ""):
            answered_at = self.time(data, ("answeredAt",), notes)
        question = Question(
            id=question_id,
            class_id=class_id,
            student_id=student.id,
            text=_clip(text, 4000, "question", notes),
            context=self.context(data.get("context"), notes),
            created_at=self.time(data, ("createdAt",), notes),
            answer=_clip(answer, 8000, "answer", notes) if answer is not None else None,
            answered_at=answered_at,
            answered_by=instructor if answer is not None else None,
            resolved=resolved if resolved is not None else answer is not None,
            notified=bool(_boolean(data.get("isNotified"))),
        )
        if not self.dry_run:
            try:
                self.storage.add_question(question)
            except Conflict:
                return False
        return True

    def instructor_of(self, class_id: str) -> str | None:
        """The instructor of the class ``class_id`` (migrated in this run or stored)."""
        for classroom in self.classes.values():
            if classroom.id == class_id:
                return classroom.instructor_id
        stored = self.storage.get_classroom(class_id)
        return stored.instructor_id if stored is not None else None

    def context(self, raw: Any, notes: list[str]) -> SceneContext:
        if not isinstance(raw, Mapping):
            notes.append("no context: week 1 is assumed")
            return SceneContext(week=1)
        try:
            week = self.course.week(raw.get("week"))
        except _Unconvertible as exc:
            notes.append(f"context: {exc.reason}; week 1 is assumed")
            return SceneContext(week=1)
        cycle = None
        if raw.get("cycle") not in (None, ""):
            try:
                cycle = self.course.cycle(week, raw.get("cycle"))
            except _Unconvertible as exc:
                notes.append(f"context: {exc.reason}; the cycle is left out")
        return SceneContext(
            week=week,
            cycle=cycle,
            scene=_clip(_string(raw.get("scene")) or "", 40, "context.scene", notes),
            character=_clip(_string(raw.get("character")) or "", 40, "context.character", notes),
            excerpt=_clip(_string(raw.get("excerpt")) or "", 2000, "context.excerpt", notes),
        )

    # submission logs -----------------------------------------------------------------------
    def migrate_logs(self, docs: list[LegacyDocument]) -> None:
        for doc in docs:
            self.attempt("submission_logs", doc.path, partial(self.log, doc))

    def log(self, doc: LegacyDocument, notes: list[str]) -> bool:
        """Replay a ``submission_logs`` document with its counters, moving no progress
        (False: it exists). Converted first either way: progress counts its failures."""
        data = doc.data
        student = self.account(data.get("email", data.get("studentEmail")))
        week = self.course.week(data.get("week"))
        cycle = self.course.cycle(week, data.get("cycle"))
        message = _string(data.get("message")) or _string(data.get("errorMessage")) or ""
        outcome = self.outcome(data, message)
        code = data.get("code")
        if code is not None and not isinstance(code, str):
            notes.append("code is not text: left empty")
        log = SubmissionLog(
            id=legacy_record_id(doc.doc_id),
            student_id=student.id,
            class_id=self.class_for(data, student, notes),
            pack_id=self.pack_id,
            week=week,
            cycle=cycle,
            track=self.track(data.get("track"), notes),
            outcome=outcome,
            message=message,
            code=code if isinstance(code, str) else "",
            at=self.time(data, ("timestamp", "createdAt"), notes),
        )
        self.logs_of[student.id].append(log)
        if log.id in self.stored_logs(student.id):
            return False
        if not self.dry_run:
            try:
                self.storage.record_submission(log, submission_counters(log), None)
            except Conflict:
                return False
        return True

    def stored_logs(self, user_id: str) -> set[str]:
        """Ids of the logs stored for ``user_id`` before this run (read once per learner)."""
        if user_id not in self.stored_log_ids:
            stored: set[str] = set()
            if user_id not in self.new_user_ids:
                stored = {log.id for log in self.storage.list_submissions(student_id=user_id)}
            self.stored_log_ids[user_id] = stored
        return self.stored_log_ids[user_id]

    @staticmethod
    def outcome(data: Mapping[str, Any], message: str) -> Outcome:
        success = _boolean(data.get("success"))
        if success is not None:
            if success:
                return Outcome.PASSED
            match = _EXCEPTION_LINE.match(message)
            is_error = match is not None and not message.lstrip().startswith("AssertionError")
            return Outcome.ERROR if is_error else Outcome.FAILED
        raw = _string(data.get("outcome"))
        if raw is None:
            raise _Unconvertible("neither success nor outcome: the verdict is unknown")
        outcome = _OUTCOMES.get(re.sub(r"[\s-]+", "_", raw.lower()))
        if outcome is None:
            raise _Unconvertible(f"unknown outcome {raw!r}")
        if outcome is Outcome.GRADER_ERROR:
            raise _Unconvertible("a grader error is not an attempt: not converted")
        return outcome

    @staticmethod
    def track(raw: Any, notes: list[str]) -> str:
        text = (_string(raw) or "beginner").lower()
        if text in ("advanced", "adv"):
            return "advanced"
        if text not in ("beginner", "basic"):
            notes.append(f"unknown track {raw!r}: beginner is assumed")
        return "beginner"

    # reflections ---------------------------------------------------------------------------
    def migrate_reflections(self, docs: list[LegacyDocument]) -> None:
        """Convert every reflection, keep the latest per student and week, and save those
        not stored yet."""
        converted: list[tuple[LegacyDocument, Reflection, list[str]]] = []
        for doc in docs:
            notes: list[str] = []
            try:
                converted.append((doc, self.reflection(doc, notes), notes))
            except _DATA_ERRORS as exc:
                self.report["reflections"].fail(doc.path, _failure_reason(exc))
        latest: dict[tuple[str, int], tuple[LegacyDocument, Reflection, list[str]]] = {}
        for item in sorted(converted, key=lambda c: (c[1].at, c[0].doc_id)):
            key = (item[1].student_id, item[1].week)
            if key in latest:
                older = latest[key][0]
                self.report["reflections"].fail(
                    older.path, f"superseded by {item[0].path} (a later one for that week)"
                )
            latest[key] = item
        for doc, reflection, notes in latest.values():
            self.attempt(
                "reflections",
                doc.path,
                partial(self.save_reflection, reflection, notes),
            )

    def reflection(self, doc: LegacyDocument, notes: list[str]) -> Reflection:
        """The reflection of a ``reflections`` document (not stored yet)."""
        data = doc.data
        from_id = _REFLECTION_ID.match(doc.doc_id)
        email = data.get("email", data.get("studentEmail"))
        if email is None and from_id is not None:
            email = from_id["email"]
        student = self.account(email)
        raw_week = data.get("week")
        if raw_week is None and from_id is not None:
            raw_week = from_id["week"]
        week = self.course.week(raw_week)
        raw_feedback = data.get("feedback")
        feedback_map: Mapping[str, Any] = raw_feedback if isinstance(raw_feedback, Mapping) else {}
        if raw_feedback is not None and not isinstance(raw_feedback, Mapping):
            notes.append("feedback is not a map: ignored")
        texts = {}
        for name in _FEEDBACK_FIELDS:
            value = data.get(name, feedback_map.get(name))
            texts[name] = _clip(_string(value) or "", 4000, name, notes)
        return Reflection(
            student_id=student.id,
            class_id=self.class_for(data, student, notes),
            pack_id=self.pack_id,
            week=week,
            ratings=self.ratings(data.get("ratings"), week, notes),
            feedback=ReflectionFeedback(**texts),
            at=self.time(data, ("createdAt",), notes),
        )

    def ratings(self, raw: Any, week: int, notes: list[str]) -> dict[str, Rating]:
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            notes.append("ratings is not a map: dropped")
            return {}
        ratings: dict[str, Rating] = {}
        for key, value in raw.items():
            try:
                cycle = self.course.cycle(week, key)
            except _Unconvertible as exc:
                notes.append(f"rating {key!r} dropped: {exc.reason}")
                continue
            scores = value if isinstance(value, Mapping) else {}
            comprehension = _integer(scores.get("comprehension"))
            application = _integer(scores.get("application"))
            if comprehension is None or application is None or cycle in ratings:
                notes.append(f"rating {key!r} dropped: not two scores from 1 to 5")
                continue
            try:
                ratings[cycle] = Rating(comprehension=comprehension, application=application)
            except ValidationError:
                notes.append(f"rating {key!r} dropped: scores must be from 1 to 5")
        return ratings

    def save_reflection(self, reflection: Reflection, kept: list[str], notes: list[str]) -> bool:
        key = (reflection.student_id, reflection.pack_id, reflection.week)
        if self.storage.get_reflection(*key) is not None:
            return False
        notes.extend(kept)
        if not self.dry_run:
            self.storage.save_reflection(reflection, replacement_deltas)
        return True

    # progress ------------------------------------------------------------------------------
    def migrate_progress(self) -> None:
        """Progress for every migrated user with legacy progress fields or logs."""
        for email, doc in self.user_docs.items():
            user = self.accounts[email]
            if not any(k in doc.data for k in _PROGRESS_FIELDS) and not self.logs_of[user.id]:
                continue
            self.attempt("progress", doc.path, partial(self.progress, user, doc))

    def progress(self, user: User, doc: LegacyDocument, notes: list[str]) -> bool:
        """Set the learner's progress from their ``users`` document, unless they have some
        in the pack already (False)."""
        if self.storage.get_progress(user.id, self.pack_id) is not None:
            return False
        pack = self.course.pack
        if pack is None:
            raise _Unconvertible("no pack given: positions cannot be mapped to cycle ids")
        data = doc.data
        order = pack.cycle_order()
        week, position, finished = self.position(pack, data.get("progress"), notes)
        here = len(order) if finished else order_index(pack, week, position)
        completed = self.completed(pack, data.get("completedCycles"), notes)
        if completed is None or finished:
            given = completed or []
            derived = [cycle for _, cycle in order[:here]]
            completed = [c for _, c in order if c in set(derived) | set(given)]
        finished = finished or order[-1][1] in completed
        current = pack.week(week)
        assert current is not None
        progress = Progress(
            user_id=user.id,
            pack_id=self.pack_id,
            week=week,
            cycle=position,
            completed=completed,
            intros_seen=[
                w.number
                for w in pack.weeks
                if finished or w.number < week or (w.number == week and position > 1)
            ],
            coding_intro_seen=self.coding_intro_seen(data, bool(completed), notes),
            failed_attempts=self.failed_attempts(user.id),
            finished=finished,
        )
        pause = self.pause(pack, progress, data.get("pauseState"), notes)
        live_cycle = pause.cycle if pause else current.cycles[position - 1].id
        progress = progress.model_copy(
            update={"pause_state": pause, **self.live_code(data.get("liveCode"), live_cycle, notes)}
        )
        if self.dry_run:
            return True
        fresh = Progress(user_id=user.id, pack_id=self.pack_id)

        def set_unless_started(stored: Progress) -> Progress:
            # Pure (a backend may retry it): the legacy progress, unless some is stored.
            return progress if stored == fresh else stored

        return self.storage.update_progress(user.id, self.pack_id, set_unless_started) == progress

    @staticmethod
    def position(pack: ScenarioPack, raw: Any, notes: list[str]) -> tuple[int, int, bool]:
        """(week, 1-based position, finished) from the legacy ``progress`` map."""
        weeks = sorted(pack.weeks, key=lambda w: w.number)
        last = weeks[-1]
        if not isinstance(raw, Mapping):
            shown = "no progress" if raw is None else f"progress {raw!r} is not a map"
            notes.append(f"{shown}: starts at the beginning")
            return weeks[0].number, 1, False
        week, position = _integer(raw.get("week")), _integer(raw.get("cycle"))
        if week is None or week < 1:
            notes.append(f"progress.week {raw.get('week')!r} is not a week: starts at week 1")
            return weeks[0].number, 1, False
        if week > last.number:
            notes.append(f"progress.week {week} is past the last week ({last.number}): finished")
            return last.number, len(last.cycles), True
        found = pack.week(week)
        assert found is not None  # weeks are numbered 1..N
        if position is None or position < 1:
            notes.append(f"progress.cycle {raw.get('cycle')!r} is not a position: 1 is used")
            position = 1
        if position > len(found.cycles):
            index = order_index(pack, week, len(found.cycles)) + 1
            order = pack.cycle_order()
            if index >= len(order):
                notes.append(f"progress.cycle {position} is past the course's end: finished")
                return last.number, len(last.cycles), True
            notes.append(
                f"progress.cycle {position} is past week {week}'s {len(found.cycles)} cycles:"
                f" moved on to week {order[index][0]}"
            )
            return order[index][0], 1, False
        return week, position, False

    @staticmethod
    def completed(pack: ScenarioPack, raw: Any, notes: list[str]) -> list[str] | None:
        """The ``completedCycles`` ids in course order (None when absent)."""
        if raw is None:
            return None
        if not isinstance(raw, list):
            notes.append("completedCycles is not a list: derived from the position")
            return None
        given = {str(c) for c in raw if isinstance(c, str)}
        unknown = sorted(given - {c for _, c in pack.cycle_order()})
        unusable = [c for c in raw if not isinstance(c, str)]
        if unknown or unusable:
            dropped = [*unknown, *map(repr, unusable)]
            notes.append(f"completedCycles not in pack {pack.id}: {', '.join(dropped)} dropped")
        return [c for _, c in pack.cycle_order() if c in given]

    @staticmethod
    def coding_intro_seen(data: Mapping[str, Any], completed_any: bool, notes: list[str]) -> bool:
        raw = data.get("seenCodingIntros")
        if isinstance(raw, list):
            return bool(raw)
        flag = _boolean(raw)
        if flag is not None:
            return flag
        if raw is not None:
            notes.append(f"seenCodingIntros {raw!r} is not a bool or list: derived")
        return completed_any

    def failed_attempts(self, user_id: str) -> dict[str, int]:
        counts: Counter[str] = Counter(
            attempt_key(log.cycle, log.track)
            for log in self.logs_of[user_id]
            if log.outcome is not Outcome.PASSED
        )
        return dict(sorted(counts.items()))

    def pause(
        self, pack: ScenarioPack, progress: Progress, raw: Any, notes: list[str]
    ) -> PauseState | None:
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            notes.append("pauseState is not a map: dropped")
            return None
        try:
            week = self.course.week(raw.get("week"))
            cycle = self.course.cycle(week, raw.get("cycle"))
        except _Unconvertible as exc:
            notes.append(f"pauseState dropped: {exc.reason}")
            return None
        if not is_reached(pack, progress, week, cycle):
            notes.append(f"pauseState dropped: {cycle} lies ahead of the progress")
            return None
        scene = _string(raw.get("scene"))
        if scene is None:
            notes.append("pauseState has no scene: 'task' is used")
        at = self.now
        for key in ("at", "timestamp", "updatedAt"):
            try:
                moment = parse_legacy_time(raw.get(key))
            except ValueError:
                moment = None
            if moment is not None:
                at = moment
                break
        track = self.track(raw.get("track"), notes)
        return PauseState(
            week=week,
            cycle=cycle,
            scene=scene or "task",
            track="advanced" if track == "advanced" else "beginner",
            at=at,
        )

    @staticmethod
    def live_code(raw: Any, cycle_id: str, notes: list[str]) -> dict[str, Any]:
        if raw is None or raw == "":
            return {}
        if not isinstance(raw, str):
            notes.append("liveCode is not text: dropped")
            return {}
        if len(raw.encode("utf-8", "surrogatepass")) > MAX_CODE_BYTES:
            notes.append(f"liveCode is larger than {MAX_CODE_BYTES} bytes: dropped")
            return {}
        return {"live_code": raw, "live_code_cycle": cycle_id}


def migrate_legacy(
    storage: Storage,
    documents: Iterable[LegacyDocument],
    *,
    pack_id: str,
    pack: ScenarioPack | None = None,
    dry_run: bool = False,
) -> MigrationReport:
    """Store the legacy ``documents`` in ``storage`` as records of the pack ``pack_id`` and
    report what happened (see the module docstring for the mapping).

    ``pack`` is that course (e.g. ``ev.pack("logicore")``): it maps legacy week and cycle
    positions to cycle ids; without it, whatever needs that mapping is reported as not
    converted. Idempotent: records already stored (same derived id, or the same key for
    reflections and progress) are left alone and counted as already present. With
    ``dry_run`` nothing is written; the report says what a real run would do. The documents
    are read into memory once (they are grouped by collection to store them in order).
    ``StorageError`` (a broken backend) stops the run; problems in the data never do.
    """
    if pack is not None and pack.id != pack_id:
        raise ValueError(f"pack {pack.id!r} given for pack_id {pack_id!r}")
    return _Migration(storage, pack_id, pack, dry_run).run(documents)
