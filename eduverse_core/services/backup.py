"""Portable backups: every record of a store as JSON Lines, and back into any other store.

The file is backend-neutral: it is written and read only through the :class:`Storage` port, so
the same functions copy SQLite to Firestore and back. One JSON object per line::

    {"format": "eduverse-export", "version": 1, "created_at": "2026-…Z"}
    {"kind": "user", "data": {…}}
    …
    {"kind": "end", "counts": {"user": 60, …}}

``data`` is the JSON dump of the record's model (times in UTC). Records come in the order an
import needs them (:data:`KINDS`); the final ``end`` line, with the number of records of each
kind, shows that the file is complete. Both directions stream: submission logs are read in
pages of :data:`PAGE_SIZE` and the file line by line, so neither needs all logs in memory.

What is exported: users (with their password hashes: the file is a secret), classes, current
memberships, questions, submission logs, reflections, progress, published scenario packs
(``eduverse pack publish``: one line each, the whole pack document) and the analytics counters.
What is not: revoked tokens and rate-limit windows (short-lived auth state that expires by
itself), counters of deleted classes (removed with them), and progress in a pack that no
registered pack, class, submission or reflection names (the port cannot list progress by pack).

An import replays the logs and reflections through the same counter functions the live
services use, so the counters are rebuilt rather than copied; the exported counters are only
compared with the result (:attr:`ImportReport.warnings`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, Final

from pydantic import BaseModel, Field, ValidationError

from ..errors import Conflict, EduverseError, NotFound
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
from ..storage import PublishedPack, Storage
from .reflections import reflection_counters, replacement_deltas
from .submissions import submission_counters

FORMAT: Final = "eduverse-export"
"""The header's ``format``: what makes a file an EduVerse export."""

VERSION: Final = 1
"""The format version written; an import refuses any other."""

PAGE_SIZE: Final = 500
"""Submission logs read per ``list_submissions`` call while exporting."""

MAX_LISTED: Final = 100
"""Conflicts kept with their message in an :class:`ImportReport` (all are counted)."""


class ScopeCounters(Model):
    """The counters of one scope, as exported (zero counters left out)."""

    scope: str = Field(min_length=1, description="Scope name, e.g. `class:<id>`.")
    counters: dict[str, int] = Field(description="Counter name → value.")


RECORD_MODELS: Final[dict[str, type[BaseModel]]] = {
    "user": User,
    "classroom": Classroom,
    "membership": Membership,
    "question": Question,
    "submission": SubmissionLog,
    "reflection": Reflection,
    "progress": Progress,
    "published_pack": PublishedPack,
    "counters": ScopeCounters,
}
"""The model of each record kind, in file order: the order an import needs (classes before
their members, logs before the counters they rebuild)."""

KINDS: Final[tuple[str, ...]] = tuple(RECORD_MODELS)
STORED_KINDS: Final[tuple[str, ...]] = KINDS[:-1]
"""The kinds an import stores as they are (the counters are rebuilt instead)."""

OnRecord = Callable[[str], None]
"""Called with the kind of each record written or read (drives a progress bar)."""


class BackupError(EduverseError):
    """A file that is not a complete, valid export; the message names the line."""

    code = "backup_invalid"


@dataclass
class ExportSummary:
    """What :func:`export_records` wrote."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Records written (header and end line excluded)."""
        return sum(self.counts.values())


@dataclass
class ImportReport:
    """What :func:`import_records` did.

    ``counts`` are the records stored, per kind (counters are rebuilt, not stored: every
    kind but ``counters``). A record that collides with stored state (an id or e-mail taken,
    a user already in a class, a reflection, a different progress or a publication of the
    same pack already there) is
    skipped: counted in ``conflict_count`` and, for the first :data:`MAX_LISTED`, described
    in ``conflicts``. ``scopes_checked`` exported counter scopes were compared with the
    rebuilt ones; ``warnings`` name every scope that differs.
    """

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STORED_KINDS, 0))
    scopes_checked: int = 0
    conflicts: list[str] = field(default_factory=list)
    conflict_count: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Records stored."""
        return sum(self.counts.values())

    def conflict(self, message: str) -> None:
        """Count a skipped record, keeping its description if there is room."""
        self.conflict_count += 1
        if len(self.conflicts) < MAX_LISTED:
            self.conflicts.append(message)


# -- export -----------------------------------------------------------------------------------
def export_records(
    storage: Storage,
    pack_ids: Iterable[str],
    out: IO[str],
    *,
    page_size: int = PAGE_SIZE,
    on_record: OnRecord | None = None,
) -> ExportSummary:
    """Write every record of ``storage`` to ``out`` as JSON Lines (see the module docstring).

    ``pack_ids`` are the registered packs; packs named by classes, logs and reflections are
    added, and progress is exported for each of them. Submission logs are read ``page_size``
    at a time. For an exact copy, export while nothing writes: logs, progress and counters are
    read one after the other, not in one snapshot.
    """
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, got {page_size}")
    counts = dict.fromkeys(KINDS, 0)

    def emit(kind: str, model: BaseModel) -> None:
        out.write(_line({"kind": kind, "data": _in_utc(model).model_dump(mode="json")}))
        counts[kind] += 1
        if on_record is not None:
            on_record(kind)

    created_at = utcnow().isoformat().replace("+00:00", "Z")
    out.write(_line({"format": FORMAT, "version": VERSION, "created_at": created_at}))

    users = sorted(storage.list_users(), key=lambda u: (u.created_at, u.id))
    user_ids = {user.id for user in users}
    for user in users:
        emit("user", user)

    classrooms = sorted(storage.list_classrooms(), key=lambda c: (c.created_at, c.id))
    packs = set(pack_ids) | {classroom.pack_id for classroom in classrooms}
    for classroom in classrooms:
        emit("classroom", classroom)
    for classroom in classrooms:
        members = storage.list_members(classroom.id)
        for membership in sorted(members, key=lambda m: (m.joined_at, m.user_id)):
            emit("membership", membership)
            user_ids.add(membership.user_id)

    questions = sorted(storage.list_questions(), key=lambda q: (q.created_at, q.id))
    for question in questions:
        emit("question", question)
    del questions

    # (learner, pack) pairs with logs: their `user:` counter scopes are written by submissions.
    submitted: set[tuple[str, str]] = set()
    for log in _all_submissions(storage, page_size):
        emit("submission", log)
        submitted.add((log.student_id, log.pack_id))
    user_ids.update(student for student, _ in submitted)
    packs.update(pack for _, pack in submitted)

    reflections = sorted(
        storage.list_reflections(), key=lambda r: (r.week, r.at, r.student_id, r.pack_id)
    )
    for reflection in reflections:
        emit("reflection", reflection)
        user_ids.add(reflection.student_id)
        packs.add(reflection.pack_id)
    del reflections

    everyone = sorted(user_ids)
    for pack_id in sorted(packs):
        listed = storage.list_progress(everyone, pack_id)
        for user_id in sorted(listed):
            emit("progress", listed[user_id])

    for info in storage.list_published_packs():
        published = storage.get_published_pack(info.pack_id)
        if published is not None:  # listed, then gone: nothing to export
            emit("published_pack", published)

    for scope in _counter_scopes(classrooms, everyone, sorted(packs), submitted):
        counters = _nonzero(storage.get_counters(scope))
        if counters:
            emit("counters", ScopeCounters(scope=scope, counters=dict(sorted(counters.items()))))

    out.write(_line({"kind": "end", "counts": counts}))
    return ExportSummary(counts)


def _all_submissions(storage: Storage, page_size: int) -> Iterator[SubmissionLog]:
    """Every log, oldest first, one page in memory at a time."""
    after: str | None = None
    while True:
        page = storage.list_submissions(limit=page_size, after=after)
        yield from page
        if len(page) < page_size:
            return
        after = page[-1].id


def _counter_scopes(
    classrooms: list[Classroom],
    user_ids: list[str],
    pack_ids: list[str],
    submitted: set[tuple[str, str]],
) -> Iterator[str]:
    """Every scope the services write counters in (see ``submission_counters`` and
    ``reflection_counters``): each existing class, and each learner in each pack."""
    for classroom in classrooms:
        yield f"class:{classroom.id}"
    pairs = {(user_id, pack_id) for user_id in user_ids for pack_id in pack_ids} | submitted
    for user_id, pack_id in sorted(pairs):
        yield f"user:{user_id}:{pack_id}"


def _nonzero(counters: dict[str, int]) -> dict[str, int]:
    """Counters without the zeros: a replaced reflection leaves its names at 0 in the class
    it was in, which reads the same as no counter at all."""
    return {name: value for name, value in counters.items() if value != 0}


def _in_utc(value: Any) -> Any:
    """``value`` with every aware datetime in it (nested models too) converted to UTC, so two
    backends' exports of the same data are the same text (Firestore returns UTC anyway)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.utcoffset() is not None else value
    if isinstance(value, BaseModel):
        changes = {}
        for name in type(value).model_fields:
            current = getattr(value, name)
            converted = _in_utc(current)
            if converted is not current:
                changes[name] = converted
        return value.model_copy(update=changes) if changes else value
    return value


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


# -- reading ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Record:
    """One validated record of an export file."""

    line: int
    kind: str
    model: BaseModel


def read_records(lines: Iterable[str | bytes]) -> Iterator[Record]:
    """Validate ``lines`` of an export one at a time and yield their records.

    Checks the header, every record against its model, the order of kinds, and that the file
    ends with an ``end`` line whose counts match; ``BackupError`` naming the line otherwise.
    Blank lines are ignored. Bytes are decoded as UTF-8 (so a file opened in binary mode gives
    the exact line of a bad byte).
    """
    counts = dict.fromkeys(KINDS, 0)
    position = 0
    header_seen = end_seen = False
    number = 0
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        if end_seen:
            raise BackupError(f"line {number}: data after the end line")
        obj = _parse(number, text)
        if not header_seen:
            _check_header(number, obj)
            header_seen = True
            continue
        kind = obj.get("kind")
        if kind == "end":
            _check_end(number, obj, counts)
            end_seen = True
            continue
        if kind not in RECORD_MODELS:
            known = ", ".join([*KINDS, "end"])
            raise BackupError(f"line {number}: unknown record kind {kind!r} (known: {known})")
        if set(obj) != {"kind", "data"}:
            raise BackupError(f'line {number}: a record has exactly the keys "kind" and "data"')
        if KINDS.index(kind) < position:
            raise BackupError(
                f"line {number}: {kind} record after {KINDS[position]} records"
                f" (records must be in the order {', '.join(KINDS)})"
            )
        position = KINDS.index(kind)
        try:
            model = RECORD_MODELS[kind].model_validate(obj["data"])
        except ValidationError as exc:
            raise BackupError(f"line {number}: invalid {kind} record: {_problems(exc)}") from None
        counts[kind] += 1
        yield Record(number, kind, model)
    if not header_seen:
        raise BackupError("the file is empty: not an EduVerse export")
    if not end_seen:
        raise BackupError(f"the file stops at line {number} without its end line: it is truncated")


def verify_backup(
    lines: Iterable[str | bytes], on_record: OnRecord | None = None
) -> dict[str, int]:
    """Read a whole export without storing anything; return its record counts per kind.
    ``BackupError`` at the first problem. Run it before :func:`import_records` when the file
    can be read twice, so that a broken file imports nothing."""
    counts = dict.fromkeys(KINDS, 0)
    for record in read_records(lines):
        counts[record.kind] += 1
        if on_record is not None:
            on_record(record.kind)
    return counts


def _parse(number: int, text: str | bytes) -> dict[str, Any]:
    try:
        obj = json.loads(text)
    except UnicodeDecodeError:
        raise BackupError(f"line {number}: not UTF-8 text") from None
    except ValueError as exc:
        raise BackupError(f"line {number}: not JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise BackupError(f"line {number}: expected a JSON object, got {type(obj).__name__}")
    return obj


def _check_header(number: int, obj: dict[str, Any]) -> None:
    if obj.get("format") != FORMAT:
        raise BackupError(f'line {number}: not an EduVerse export (no "format": "{FORMAT}")')
    version = obj.get("version")
    if version != VERSION:
        raise BackupError(
            f"line {number}: export format version {version!r} is not supported"
            f" (this EduVerse reads version {VERSION})"
        )


def _check_end(number: int, obj: dict[str, Any], counts: dict[str, int]) -> None:
    declared = obj.get("counts")
    if not isinstance(declared, dict) or set(obj) != {"kind", "counts"}:
        raise BackupError(f'line {number}: the end line has exactly "kind" and "counts"')
    for kind in sorted(set(declared) | set(counts)):
        if declared.get(kind, 0) != counts.get(kind, 0):
            raise BackupError(
                f"line {number}: the end line counts {declared.get(kind, 0)!r} {kind} records,"
                f" the file has {counts.get(kind, 0)}: records are missing"
            )


def _problems(exc: ValidationError, limit: int = 3) -> str:
    problems = [
        f"{'.'.join(map(str, error['loc'])) or 'record'}: {error['msg']}"
        for error in exc.errors()[:limit]
    ]
    more = exc.error_count() - limit
    return "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")


# -- import -----------------------------------------------------------------------------------
def store_contents(storage: Storage) -> str | None:
    """None for an empty store (no users, classes or submission logs); else what it holds,
    e.g. ``"3 users, 1 class"``."""
    users = len(storage.list_users())
    classes = len(storage.list_classrooms())
    logs = len(storage.list_submissions(limit=1))
    if not (users or classes or logs):
        return None
    parts = [f"{users} user{'s' * (users != 1)}", f"{classes} class{'es' * (classes != 1)}"]
    if logs:
        parts.append("submission logs")
    return ", ".join(parts)


def require_empty(storage: Storage) -> None:
    """``Conflict(code="store_not_empty")`` unless :func:`store_contents` finds nothing."""
    contents = store_contents(storage)
    if contents is not None:
        raise Conflict(
            f"the store is not empty ({contents}): import into an empty store, or pass"
            " --force to add the records to it (conflicts are reported)",
            code="store_not_empty",
        )


def import_records(
    storage: Storage,
    lines: Iterable[str | bytes],
    *,
    force: bool = False,
    on_record: OnRecord | None = None,
) -> ImportReport:
    """Store every record of an export (``lines``) in ``storage``, streaming.

    The store must be empty (see :func:`store_contents`); ``Conflict(code="store_not_empty")``
    otherwise, unless ``force``: then the records are added to what is there and every one
    that collides is skipped and reported. Logs are replayed with the live counter functions,
    so counters come out as the services would have built them; they are then compared with
    the exported ones (:attr:`ImportReport.warnings`). Progress is set last, as exported.

    Records are stored as they are read: a file that turns out broken (``BackupError``) leaves
    the records before the bad line stored. Check a file with :func:`verify_backup` first.
    """
    if not force:
        require_empty(storage)
    report = ImportReport()
    rebuilt: set[str] = set()
    compared: set[str] = set()
    for record in read_records(lines):
        model = record.model
        if isinstance(model, ScopeCounters):
            compared.add(model.scope)
            report.scopes_checked += 1
            _compare(model.scope, model.counters, storage, report)
        elif _store(storage, model, report):
            report.counts[record.kind] += 1
        if isinstance(model, SubmissionLog):
            rebuilt.update(submission_counters(model))
        elif isinstance(model, Reflection):
            rebuilt.update(reflection_counters(model))
        if on_record is not None:
            on_record(record.kind)
    for scope in sorted(rebuilt - compared):
        _compare(scope, {}, storage, report)
    return report


def _store(storage: Storage, model: BaseModel, report: ImportReport) -> bool:
    """Store one record; False (and a conflict in ``report``) when it collides."""
    try:
        if isinstance(model, User):
            storage.create_user(model)
        elif isinstance(model, Classroom):
            storage.create_classroom(model)
        elif isinstance(model, Membership):
            return _join(storage, model, report)
        elif isinstance(model, Question):
            storage.add_question(model)
        elif isinstance(model, SubmissionLog):
            storage.record_submission(model, submission_counters(model), None)
        elif isinstance(model, Reflection):
            return _save_reflection(storage, model, report)
        elif isinstance(model, Progress):
            return _set_progress(storage, model, report)
        elif isinstance(model, PublishedPack):
            return _publish(storage, model, report)
        else:
            raise TypeError(f"no way to store a {type(model).__name__}")
    except (Conflict, NotFound) as exc:
        report.conflict(f"{_describe(model)}: {exc.message}")
        return False
    return True


def _join(storage: Storage, membership: Membership, report: ImportReport) -> bool:
    # join_classroom moves a learner who is in another class: never do that to existing data.
    current = storage.get_membership(membership.user_id)
    if current is not None:
        report.conflict(f"{_describe(membership)}: already in class {current.class_id!r}")
        return False
    storage.join_classroom(membership)
    return True


def _save_reflection(storage: Storage, reflection: Reflection, report: ImportReport) -> bool:
    key = (reflection.student_id, reflection.pack_id, reflection.week)
    if storage.get_reflection(*key) is not None:
        report.conflict(f"{_describe(reflection)}: a reflection for that week exists")
        return False
    storage.save_reflection(reflection, replacement_deltas)
    return True


def _set_progress(storage: Storage, progress: Progress, report: ImportReport) -> bool:
    fresh = Progress(user_id=progress.user_id, pack_id=progress.pack_id)

    def set_unless_started(current: Progress) -> Progress:
        # Pure (the backend may retry it): the exported progress, unless some is stored.
        return progress if current == fresh else current

    stored = storage.update_progress(progress.user_id, progress.pack_id, set_unless_started)
    if stored != progress:
        report.conflict(f"{_describe(progress)}: progress in that pack exists")
        return False
    return True


def _publish(storage: Storage, published: PublishedPack, report: ImportReport) -> bool:
    # Never replace a publication: the store's may be newer than the file's.
    if any(info.pack_id == published.pack_id for info in storage.list_published_packs()):
        report.conflict(f"{_describe(published)}: a publication of that pack exists")
        return False
    storage.publish_pack(
        published.pack_id, published.version, published.document, published.published_at
    )
    return True


def _compare(scope: str, exported: dict[str, int], storage: Storage, report: ImportReport) -> None:
    """Warn when the rebuilt counters of ``scope`` differ from the exported ones."""
    rebuilt = _nonzero(storage.get_counters(scope))
    expected = _nonzero(exported)
    if rebuilt == expected:
        return
    if not expected:
        hint = " (a deleted class?)" if scope.startswith("class:") else ""
        report.warnings.append(
            f"counters of {scope} were rebuilt from the logs but are not in the export{hint}"
        )
        return
    names = sorted(set(rebuilt) | set(expected))
    diffs = [
        f"{name} {rebuilt.get(name, 0)} (exported {expected.get(name, 0)})"
        for name in names
        if rebuilt.get(name, 0) != expected.get(name, 0)
    ]
    shown = ", ".join(diffs[:5]) + (f" and {len(diffs) - 5} more" if len(diffs) > 5 else "")
    report.warnings.append(f"counters of {scope} differ from the export: {shown}")


def _describe(model: BaseModel) -> str:
    """A short name for a record in a conflict message."""
    if isinstance(model, User):
        return f"user {model.id} ({model.email})"
    if isinstance(model, Classroom):
        return f"class {model.id}"
    if isinstance(model, Membership):
        return f"membership of {model.user_id} in {model.class_id}"
    if isinstance(model, Question):
        return f"question {model.id}"
    if isinstance(model, SubmissionLog):
        return f"submission {model.id}"
    if isinstance(model, Reflection):
        return f"reflection of {model.student_id} on {model.pack_id} week {model.week}"
    if isinstance(model, Progress):
        return f"progress of {model.user_id} in {model.pack_id}"
    if isinstance(model, PublishedPack):
        return f"published pack {model.pack_id} {model.version}"
    return type(model).__name__
