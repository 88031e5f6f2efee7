"""Import the original system's ``scenario.json`` as a folder pack.

The original stored the LogiCore course as ``{courseTitle, weeks: [...]}`` (or a bare list of
weeks) with camelCase fields, an ``_adv`` suffix for the advanced track, Korean texts and no
reference solutions. The importer converts whatever it can, never stops at the first gap, and
writes a report of everything an author must still do: missing fields it filled in, fields it
could not place, and every problem ``eduverse pack validate`` finds in the result (empty
solutions, test code that does not compile, unknown characters…). The written pack always
loads; it becomes valid once the report is worked through.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Conflict, ValidationFailed
from .models import ScenarioPack
from .models.pack import ID_PATTERN
from .packs import (
    FOLDER_PACK_FILE,
    WEEKS_FOLDER,
    json_path,
    parse_json_path,
    read_data_file,
    validate,
)
from .schemas import PACK_SCHEMA_ID

LOCALE = "ko"
REPORT_FILE = "IMPORT-REPORT.md"
LECTURER = "prof-kim"

CAST: tuple[dict[str, Any], ...] = (
    {"id": "alex", "name": {LOCALE: "알렉스"}, "role": {LOCALE: "팀장"}},
    {"id": "sena", "name": {LOCALE: "세나"}, "role": {LOCALE: "시니어 개발자"}},
    {"id": LECTURER, "name": {LOCALE: "김 교수"}, "role": {LOCALE: "교수"}},
)
"""The legacy cast: Alex (team lead), Sena (senior developer), Prof. Kim (professor)."""

_CHARACTERS = {"alex": "alex", "sena": "sena", "profkim": LECTURER}
"""Legacy character names, lower-cased without separators, → cast ids."""

_FEEDBACK_DEFAULTS = {
    "success": ("성공!", "<p>{{USERNAME}}님, 테스트를 모두 통과했어요.</p>"),
    "failure_logical": ("다시 확인해 볼까요?", "<p>{{ERROR_MESSAGE}}</p>"),
    "failure_runtime": ("실행 중 오류가 났어요", "<p>{{ERROR_MESSAGE}}</p>"),
}

_TRACK_FIELDS = ("starterCode", "testCode", "task", "briefing")
"""Legacy fields with an ``_adv`` twin: any twin present means the cycle has an advanced track."""

_KNOWN = {
    "course": {"courseTitle", "weeks"},
    "week": {"week", "title", "cycles"},
    "cycle": {"title", "syntax_key", "filename", "lecture", "feedback"}
    | {f"{name}{suffix}" for name in _TRACK_FIELDS for suffix in ("", "_adv")},
    "scene": {"character", "subtitle", "title", "content"},
    "lecture": {"character", "title", "keyTakeaway", "sandboxCode", "sections"},
    "section": {"heading", "text", "code"},
    "feedback": set(_FEEDBACK_DEFAULTS),
}
"""Fields of the legacy format; anything else is reported as ignored, never dropped silently."""


@dataclass(frozen=True)
class ReportItem:
    """One thing to fix, located by week number and cycle id (None: pack level)."""

    week: int | None
    cycle: str | None
    message: str


@dataclass
class ImportReport:
    """What the import wrote and what still needs an author."""

    source: Path
    out_dir: Path
    pack_id: str
    weeks: dict[int, str] = field(default_factory=dict)  # number → title
    cycles: dict[str, str] = field(default_factory=dict)  # id → title
    items: list[ReportItem] = field(default_factory=list)

    def to_markdown(self) -> str:
        """The report as Markdown (also written to ``DIR/IMPORT-REPORT.md``)."""
        summary = (
            f"{len(self.items)} items to work through; the pack is ready when"
            f" `eduverse pack validate {self.out_dir}` passes."
            if self.items
            else "Nothing to fix: the pack is valid."
        )
        lines = [
            "# Legacy import report",
            "",
            f"`{self.source}` → `{self.out_dir}` (pack `{self.pack_id}`)."
            f" Weeks: {len(self.weeks)}, cycles: {len(self.cycles)}.",
            "",
            summary,
        ]
        for week, items in self._by_week():
            lines += ["", self._heading(week), ""]
            lines += [f"- {self._where(item)}{item.message}" for item in items]
        return "\n".join(lines) + "\n"

    def _by_week(self) -> Iterator[tuple[int | None, list[ReportItem]]]:
        for week in [None, *sorted(self.weeks)]:
            items = [item for item in self.items if item.week == week]
            items.sort(key=lambda item: item.cycle or "")  # stable: notes, then validation
            if items:
                yield week, items

    def _heading(self, week: int | None) -> str:
        return "## Pack" if week is None else f"## Week {week} — {self.weeks[week]}"

    def _where(self, item: ReportItem) -> str:
        if item.cycle is None:
            return ""
        return f"**{item.cycle}** «{self.cycles.get(item.cycle, '')}»: "


# -- conversion ---------------------------------------------------------------------------
def _text(value: Any) -> dict[str, str]:
    """A legacy text as LocalizedText. A map (not a plain string) so that adding a locale
    later makes `pack validate` list every text still to translate."""
    return {LOCALE: "" if value is None else str(value)}


def _code(value: Any) -> str:
    return "" if value is None else str(value).replace("\r\n", "\n")


def cycle_id(week: int, position: int) -> str:
    """The stable id of the ``position``-th (1-based) cycle of ``week``: ``w01-c01``."""
    return f"w{week:02d}-c{position:02d}"


def _week_number(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    usable = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    return value if usable else None


def _character_id(name: str) -> str:
    """``profKim`` → ``prof-kim``; an unknown name becomes a valid id in the same spirit."""
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    if key in _CHARACTERS:
        return _CHARACTERS[key]
    kebab = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name.strip()).lower()
    return re.sub(r"[^a-z0-9_-]+", "-", kebab).strip("-_")[:64]


class _Converter:
    """Turns legacy data into a pack document, noting every gap at its week and cycle."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.week: int | None = None
        self.cycle: str | None = None

    def note(self, message: str) -> None:
        self.report.items.append(ReportItem(self.week, self.cycle, message))

    def ignore_unknown(self, raw: dict[str, Any], kind: str, where: str = "") -> None:
        for key in raw:
            if key not in _KNOWN[kind]:
                self.note(f"ignored unknown field `{where}{key}`")

    def field(self, raw: dict[str, Any], key: str, where: str = "") -> Any:
        """``raw[key]``, noting when it is missing."""
        if raw.get(key) is None:
            self.note(f"missing `{where}{key}`")
        return raw.get(key)

    # -- course and weeks -----------------------------------------------------------------
    def course(self, data: Any) -> dict[str, Any]:
        raw_weeks = data if isinstance(data, list) else data["weeks"]
        if isinstance(data, dict):
            self.ignore_unknown(data, "course")
        title = data.get("courseTitle") if isinstance(data, dict) else None
        if not title:
            self.note("no `courseTitle`: the pack is titled after its id")
        weeks = [w for w in raw_weeks if self._is_week(w)]
        numbered = sorted(zip(self._numbers(weeks), weeks, strict=True), key=lambda nw: nw[0])
        return {
            "$schema": PACK_SCHEMA_ID,
            "id": self.report.pack_id,
            "version": "1.0.0",
            "title": _text(title or self.report.pack_id),
            "locales": [LOCALE],
            "default_locale": LOCALE,
            "lecturer": LECTURER,
            "cast": [dict(c) for c in CAST],
            "weeks": [doc for n, w in numbered if (doc := self.week_doc(n, w)) is not None],
        }

    def _is_week(self, raw: Any) -> bool:
        if not isinstance(raw, dict):
            self.note(f"skipped a week that is not an object: {str(raw)[:40]!r}")
        return isinstance(raw, dict)

    def _numbers(self, weeks: list[dict[str, Any]]) -> list[int]:
        """Legacy week numbers when they are usable, else positions (noted)."""
        numbers = [_week_number(w.get("week")) for w in weeks]
        if None not in numbers and len(set(numbers)) == len(numbers):
            return [n for n in numbers if n is not None]
        self.note("week numbers missing or repeated: weeks are numbered by position")
        return list(range(1, len(weeks) + 1))

    def week_doc(self, number: int, raw: dict[str, Any]) -> dict[str, Any] | None:
        """The week, or None (noted) when it has no cycles: a pack week needs one."""
        self.week, self.cycle = number, None
        self.ignore_unknown(raw, "week")
        title = str(self.field(raw, "title") or f"{number}주차")
        self.report.weeks[number] = title
        cycles = raw.get("cycles") if isinstance(raw.get("cycles"), list) else None
        if not cycles:
            self.note("skipped: the week has no cycles (`cycles` is missing or empty)")
            return None
        return {
            "number": number,
            "title": _text(title),
            "intro": {
                "character": "alex",
                "title": _text(title),
                "subtitle": _text(f"{number}주차"),
                "content": _text(f"<p>이번 주에는 {len(cycles)}개의 과제가 기다리고 있어요.</p>"),
            },
            "cycles": [self.cycle_doc(number, i, c) for i, c in enumerate(cycles, start=1)],
        }

    # -- cycles ---------------------------------------------------------------------------
    def cycle_doc(self, week: int, position: int, raw: Any) -> dict[str, Any]:
        self.cycle = cycle_id(week, position)
        if not isinstance(raw, dict):
            self.note(f"the cycle is not an object: {str(raw)[:40]!r}")
            raw = {}
        self.ignore_unknown(raw, "cycle")
        title = str(self.field(raw, "title") or self.cycle)
        self.report.cycles[self.cycle] = title
        test = self.field(raw, "testCode")
        doc: dict[str, Any] = {"id": self.cycle, "title": _text(title)}
        if raw.get("syntax_key"):
            doc["syntax_keys"] = self._syntax_keys(raw["syntax_key"])
        if raw.get("filename"):
            doc["filename"] = str(raw["filename"])
        if test is not None:
            doc["test"] = _code(test)
        doc["lecture"] = self.lecture(raw.get("lecture"), title)
        doc["feedback"] = self.feedback(raw.get("feedback"))
        doc["beginner"] = self.track(raw, "")
        if any(raw.get(f"{key}_adv") is not None for key in _TRACK_FIELDS):
            doc["advanced"] = self.advanced(raw)
        return doc

    def _syntax_keys(self, value: Any) -> list[str]:
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]

    def track(self, raw: dict[str, Any], suffix: str) -> dict[str, Any]:
        """One track; ``suffix`` is ``""`` (beginner) or ``"_adv"`` (advanced)."""
        return {
            "task": self.scene(raw.get("task" + suffix), "alex", "task" + suffix),
            "briefing": self.scene(raw.get("briefing" + suffix), "sena", "briefing" + suffix),
            "starter_code": _code(self.field(raw, "starterCode" + suffix)),
            "solution": "",  # the original had none: the report lists them all
        }

    def advanced(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The ``_adv`` track; a missing scene or test falls back to the beginner's (noted)."""
        fallback = {**raw}
        for key in ("task", "briefing"):
            if raw.get(f"{key}_adv") is None:
                self.note(f"missing `{key}_adv`: the beginner's `{key}` stands in")
                fallback[f"{key}_adv"] = raw.get(key)
        track = self.track(fallback, "_adv")
        test = raw.get("testCode_adv")
        if test is None:
            self.note("missing `testCode_adv`: the advanced track uses the beginner's `testCode`")
        elif test != raw.get("testCode"):
            track["test"] = _code(test)
        return track

    def scene(self, raw: Any, default_character: str, where: str) -> dict[str, Any]:
        """A legacy scene; a missing one becomes an empty scene by ``default_character``."""
        if isinstance(raw, str):  # a bare text: the speaker is implied
            raw = {"content": raw, "character": default_character, "title": ""}
        if not isinstance(raw, dict):
            self.note(f"missing `{where}`: an empty scene by `{default_character}` stands in")
            return {"character": default_character, "title": _text(""), "content": _text("")}
        self.ignore_unknown(raw, "scene", f"{where}.")
        character = raw.get("character")
        if not character:
            self.note(f"missing `{where}.character`: `{default_character}` speaks")
        scene = {
            "character": _character_id(str(character or default_character)) or default_character,
            "title": _text(self.field(raw, "title", f"{where}.")),
        }
        if raw.get("subtitle"):
            scene["subtitle"] = _text(raw["subtitle"])
        scene["content"] = _text(self.field(raw, "content", f"{where}."))
        return scene

    def lecture(self, raw: Any, cycle_title: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            self.note("missing `lecture`: an empty note titled after the cycle stands in")
            raw = {"title": cycle_title, "keyTakeaway": ""}
        self.ignore_unknown(raw, "lecture", "lecture.")
        doc: dict[str, Any] = {
            "title": _text(self.field(raw, "title", "lecture.") or cycle_title),
            "key_takeaway": _text(self.field(raw, "keyTakeaway", "lecture.")),
            "sandbox_code": _code(raw.get("sandboxCode")),
            "sections": [self.section(s, i) for i, s in enumerate(raw.get("sections") or [])],
        }
        character = _character_id(str(raw.get("character") or LECTURER))
        if character != LECTURER:
            doc["character"] = character
        return doc

    def section(self, raw: Any, index: int) -> dict[str, Any]:
        where = f"lecture.sections[{index}]."
        raw = raw if isinstance(raw, dict) else {}
        self.ignore_unknown(raw, "section", where)
        return {
            "heading": _text(self.field(raw, "heading", where)),
            "text": _text(self.field(raw, "text", where)),
            "code": _code(raw.get("code")),
        }

    def feedback(self, raw: Any) -> dict[str, Any]:
        raw = raw if isinstance(raw, dict) else {}
        self.ignore_unknown(raw, "feedback", "feedback.")
        doc = {}
        for kind, (title, content) in _FEEDBACK_DEFAULTS.items():
            if isinstance(raw.get(kind), dict | str):
                doc[kind] = self.scene(raw[kind], "sena", f"feedback.{kind}")
            else:
                self.note(f"missing `feedback.{kind}`: a generic scene by `sena` stands in")
                doc[kind] = {"character": "sena", "title": _text(title), "content": _text(content)}
        return doc


# -- writing ------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings (code, HTML) as ``|`` blocks an author can edit."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _yaml(data: Any, header: str = "") -> str:
    body = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096)
    return header + body


def _refuse_non_empty(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise Conflict(f"{str(out_dir)!r} is not empty (use --force to replace the pack in it)")


def _write(document: dict[str, Any], out_dir: Path) -> dict[str, int]:
    """Write the folder pack; returns the week number of every week file written.

    Old week files go first: a stale ``weeks/13.yaml`` from an earlier import would otherwise
    join the new pack. Nothing else in the folder is touched.
    """
    weeks_dir = out_dir / WEEKS_FOLDER
    weeks_dir.mkdir(parents=True, exist_ok=True)
    for stale in [*weeks_dir.glob("*.yaml"), *weeks_dir.glob("*.yml")]:
        stale.unlink()
    head = {k: v for k, v in document.items() if k != "weeks"}
    (out_dir / FOLDER_PACK_FILE).write_text(_yaml(head), encoding="utf-8")
    modeline = f"# yaml-language-server: $schema={PACK_SCHEMA_ID}#/$defs/Week\n"
    files = {}
    for week in document["weeks"]:
        path = weeks_dir / f"{week['number']:02d}.yaml"
        path.write_text(_yaml(week, modeline), encoding="utf-8")
        files[str(path)] = week["number"]
    return files


def _validation_items(report: ImportReport, out_dir: Path, files: dict[str, int]) -> None:
    """Add what ``pack validate`` says about the written pack, located by week and cycle."""
    for problem in validate(out_dir).problems:
        week = files.get(problem.file)
        path = parse_json_path(problem.path) or ()
        cycle = None
        if week is not None and len(path) >= 2 and path[0] == "cycles":
            cycle = cycle_id(week, int(path[1]) + 1)
            path = path[2:]
        where = f"`{json_path(path).removeprefix('$.')}`: " if path else ""
        report.items.append(ReportItem(week, cycle, where + problem.message))


def _load_legacy(source: Path) -> Any:
    data = read_data_file(source)
    if isinstance(data, list) or (isinstance(data, dict) and isinstance(data.get("weeks"), list)):
        return data
    raise ValidationFailed(
        f"{str(source)!r} is not a legacy scenario: expected {{courseTitle, weeks: [...]}}"
        " or a list of weeks"
    )


def default_pack_id(out_dir: Path) -> str:
    """A pack id from the output folder's name (``LogiCore Tech`` → ``logicore-tech``)."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", out_dir.resolve().name.lower()).strip("-_")[:64]
    return slug if re.fullmatch(ID_PATTERN, slug) else "imported"


def import_legacy(
    source: Path, out_dir: Path, *, pack_id: str | None = None, force: bool = False
) -> ImportReport:
    """Convert ``source`` into a folder pack in ``out_dir`` and report what is left to do.

    Raises :class:`ValidationFailed` when ``source`` cannot be read as a legacy scenario at
    all, and :class:`Conflict` when ``out_dir`` is not empty and ``force`` is false.
    """
    pack_id = pack_id or default_pack_id(out_dir)
    if not re.fullmatch(ID_PATTERN, pack_id):
        raise ValidationFailed(f"invalid pack id {pack_id!r}: use lower-case letters, digits, -_")
    data = _load_legacy(source)
    _refuse_non_empty(out_dir, force)
    report = ImportReport(source, out_dir, pack_id)
    document = _Converter(report).course(data)
    if not document["weeks"]:
        raise ValidationFailed(f"{str(source)!r} has no week with cycles: nothing to import")
    ScenarioPack.model_validate(document)  # a converter bug must fail here, not in the app
    files = _write(document, out_dir)
    _validation_items(report, out_dir, files)
    (out_dir / REPORT_FILE).write_text(report.to_markdown(), encoding="utf-8")
    return report
