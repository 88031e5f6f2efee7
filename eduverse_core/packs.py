"""Loading and validating scenario packs.

A pack is one ``.json``/``.yaml``/``.yml`` file, or a folder with ``pack.yaml`` (everything but
``weeks``) and ``weeks/*.yaml`` (one :class:`~eduverse_core.models.Week` per file, in file-name
order). Loading goes file → JSON Schema (every error, with its JSON path) → models; validation
then runs the semantic rules below, which the schema cannot express (ids unique across weeks,
characters in the cast, code that compiles, texts in every locale, …).

Every problem names the file it is in and a JSON path inside that file, so an author can jump
straight to it: ``weeks/03.yaml::$.cycles[0].test: …``. Problems are collected, never raised
one at a time: an author fixes a pack in one round trip, not twenty.
"""

from __future__ import annotations

import json
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, get_args, get_origin

import pydantic
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema.exceptions import best_match

try:
    # libyaml's parser is several times faster than the pure-Python one (the bundled course
    # loads at every start); the constructor, where duplicate keys are caught, is the same.
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

from .errors import ValidationFailed
from .models import PLACEHOLDERS, Cycle, ScenarioPack, Scene, TrackContent, Week, localize
from .schemas import PACK_SCHEMA_NAME, generated_schemas

PACK_SUFFIXES = (".json", ".yaml", ".yml")
FOLDER_PACK_FILE = "pack.yaml"
WEEKS_FOLDER = "weeks"
WEEK_SUFFIXES = (".yaml", ".yml")

Segment = str | int
JsonPath = tuple[Segment, ...]
Finding = tuple[JsonPath, str]
"""A rule's verdict: where in the assembled pack, and what is wrong."""

ExtraCheck = Callable[[ScenarioPack], list[str]]
"""Extra checks (plugins): problems as ``"$.json.path: message"`` strings."""


# -- problems and JSON paths --------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One thing wrong with a pack: the file it is in, a JSON path there, and what is wrong.

    ``line``/``column`` are set only when the file cannot be parsed at all (then there is no
    JSON path to point at, only a position in the text).
    """

    file: str
    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}:{self.column or 1}: {self.message}"
        return f"{self.file}::{self.path}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "path": self.path,
            "message": self.message,
            "line": self.line,
            "column": self.column,
        }


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH_TOKEN = re.compile(
    r"\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)|\[(?P<index>\d+)\]|\[(?P<quoted>\"(?:[^\"\\]|\\.)*\")\]"
)


def json_path(segments: Iterable[Segment]) -> str:
    """``("weeks", 2, "test")`` → ``$.weeks[2].test``; odd keys are quoted (``$["for-in"]``)."""
    out = "$"
    for segment in segments:
        if isinstance(segment, int):
            out += f"[{segment}]"
        elif _IDENTIFIER.fullmatch(segment):
            out += f".{segment}"
        else:
            out += f"[{json.dumps(segment, ensure_ascii=False)}]"
    return out


def parse_json_path(text: str) -> JsonPath | None:
    """The inverse of :func:`json_path`; None when ``text`` is not such a path."""
    if not text.startswith("$"):
        return None
    segments: list[Segment] = []
    position = 1
    while position < len(text):
        match = _PATH_TOKEN.match(text, position)
        if match is None:
            return None
        if match["name"] is not None:
            segments.append(match["name"])
        elif match["index"] is not None:
            segments.append(int(match["index"]))
        else:
            segments.append(json.loads(match["quoted"]))
        position = match.end()
    return tuple(segments)


def _path_sort_key(path: Iterable[Segment]) -> tuple[tuple[int, int, str], ...]:
    # Indices sort numerically (weeks[10] after weeks[9]) and before names.
    return tuple((0, s, "") if isinstance(s, int) else (1, 0, str(s)) for s in path)


@dataclass(frozen=True)
class _Sources:
    """Where each part of an assembled pack came from.

    A folder pack is assembled into one document; a problem at ``$.weeks[2].cycles[0]`` is
    reported against the week's own file as ``$.cycles[0]``.
    """

    main: str
    week_files: tuple[str, ...] = ()

    def problem(self, path: JsonPath, message: str) -> Problem:
        in_week = len(path) >= 2 and path[0] == "weeks" and isinstance(path[1], int)
        if self.week_files and in_week and int(path[1]) < len(self.week_files):
            return Problem(self.week_files[int(path[1])], json_path(path[2:]), message)
        return Problem(self.main, json_path(path), message)


class _Invalid(Exception):
    """Internal: the pack cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


# -- reading files ------------------------------------------------------------------------
class _PackLoader(_BaseLoader):
    """A safe YAML loader that refuses duplicate keys.

    Plain YAML keeps the last of two equal keys without a word, so a pasted-twice ``test:``
    would silently replace the first one.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[tuple[str, str], int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key = (key_node.tag, str(key_node.value))
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key_node.value!r} (first at line {seen[key] + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _reject_duplicate_json_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"duplicate key {key!r}")
        data[key] = value
    return data


def _read_data(file: Path, display: str) -> Any:
    """Parse one JSON or YAML file; any failure becomes a single one-line problem."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise _Invalid([Problem(display, "$", "no such file")]) from None
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (invalid byte at offset {exc.start})"
        raise _Invalid([Problem(display, "$", message)]) from None
    except OSError as exc:
        raise _Invalid([Problem(display, "$", f"cannot read: {exc.strerror or exc}")]) from None
    if file.suffix == ".json":
        return _parse_json(text, display)
    return _parse_yaml(text, display)


def _parse_json(text: str, display: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_json_keys)
    except json.JSONDecodeError as exc:
        problem = Problem(display, "$", f"invalid JSON: {exc.msg}", exc.lineno, exc.colno)
        raise _Invalid([problem]) from None
    except ValueError as exc:  # a duplicate key
        raise _Invalid([Problem(display, "$", f"invalid JSON: {exc}")]) from None


def _parse_yaml(text: str, display: str) -> Any:
    try:
        return yaml.load(text, Loader=_PackLoader)  # a SafeLoader: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        words = ", ".join(str(part) for part in (exc.context, exc.problem) if part)
        message = "invalid YAML: " + " ".join((words or "syntax error").split())
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise _Invalid([Problem(display, "$", message, line, column)]) from None
    except yaml.YAMLError as exc:
        message = "invalid YAML: " + " ".join(str(exc).split())
        raise _Invalid([Problem(display, "$", message)]) from None


def read_data_file(path: Path) -> Any:
    """Parse a JSON or YAML file (e.g. a legacy ``scenario.json``) with the pack reader's
    strictness: :class:`ValidationFailed` carries one line with the position of a syntax error.
    """
    try:
        return _read_data(path, str(path))
    except _Invalid as exc:
        raise ValidationFailed(
            f"cannot read {str(path)!r}", problems=[str(p) for p in exc.problems]
        ) from None


# -- assembling a document ----------------------------------------------------------------
def _read_document(path: Path) -> tuple[Any, _Sources]:
    """The pack as one JSON-like document, and where each part came from."""
    if path.is_dir():
        return _read_folder(path)
    if not path.exists():
        raise _Invalid([Problem(str(path), "$", "no such file or folder")])
    if path.suffix not in PACK_SUFFIXES:
        message = (
            f"not a pack: expected a {', '.join(PACK_SUFFIXES)} file"
            f" or a folder with {FOLDER_PACK_FILE}"
        )
        raise _Invalid([Problem(str(path), "$", message)])
    data = _read_data(path, str(path))
    if data is None:
        raise _Invalid([Problem(str(path), "$", "the file is empty")])
    return data, _Sources(str(path))


def _week_files(folder: Path) -> list[Path]:
    weeks = folder / WEEKS_FOLDER
    if not weeks.is_dir():
        return []
    return sorted(
        p
        for p in weeks.iterdir()
        if p.suffix in WEEK_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )


def _read_folder(folder: Path) -> tuple[Any, _Sources]:
    """Assemble ``pack.yaml`` and ``weeks/*.yaml``, reading every file before giving up."""
    pack_file = folder / FOLDER_PACK_FILE
    if not pack_file.is_file():
        message = f"a pack folder needs {FOLDER_PACK_FILE} (and {WEEKS_FOLDER}/*.yaml)"
        raise _Invalid([Problem(str(folder), "$", message)])
    files = _week_files(folder)
    sources = _Sources(str(pack_file), tuple(str(f) for f in files))
    problems: list[Problem] = []
    head = _read_part(pack_file, str(pack_file), problems)
    weeks = [_read_part(f, str(f), problems) for f in files]
    if not files:
        message = f"no week files: add {WEEKS_FOLDER}/01.yaml, {WEEKS_FOLDER}/02.yaml, …"
        problems.append(Problem(str(folder / WEEKS_FOLDER), "$", message))
    if not isinstance(head, dict) and not any(p.file == sources.main for p in problems):
        got = _json_type(head)
        problems.append(Problem(sources.main, "$", f"expected the pack's fields, got {got}"))
    if isinstance(head, dict) and "weeks" in head:
        message = f"weeks belong in {WEEKS_FOLDER}/*.yaml (one file per week), not here"
        problems.append(Problem(sources.main, "$.weeks", message))
    if problems:
        raise _Invalid(problems)
    return {**head, "weeks": weeks}, sources


def _read_part(file: Path, display: str, problems: list[Problem]) -> Any:
    """Read one file of a folder pack; a failure is recorded so the other files still count."""
    try:
        return _read_data(file, display)
    except _Invalid as exc:
        problems.extend(exc.problems)
        return None


# -- schema and models --------------------------------------------------------------------
@lru_cache(maxsize=1)
def _schema_validator() -> Any:
    return Draft202012Validator(generated_schemas()[PACK_SCHEMA_NAME])


def _json_type(value: Any) -> str:
    names = {type(None): "null", bool: "boolean", int: "integer", float: "number"}
    names.update({str: "string", list: "array", dict: "object"})
    return names.get(type(value), type(value).__name__)


def _shape_findings(
    document: Any, path: JsonPath = (), parents: tuple[int, ...] = ()
) -> list[Finding]:
    """What YAML allows but JSON (and the schema validator) cannot take: non-string keys
    (``1: x``) and data that contains itself through an alias (``a: &x [*x]``)."""
    if not isinstance(document, dict | list):
        return []
    if id(document) in parents:
        return [(path, "this value contains itself (a YAML alias refers to an enclosing node)")]
    parents = (*parents, id(document))
    items = document.items() if isinstance(document, dict) else enumerate(document)
    findings: list[Finding] = []
    for key, value in items:
        if isinstance(document, dict) and not isinstance(key, str):
            findings.append((path, f"key {key!r} is not a string: quote it"))
            continue
        findings += _shape_findings(value, (*path, key), parents)
    return findings


def _schema_findings(document: Any) -> list[Finding]:
    """Every schema error, as (path, message), sorted by path."""
    findings = [f for e in _schema_validator().iter_errors(document) for f in _leaf_errors(e)]
    return sorted(findings, key=lambda f: (_path_sort_key(f[0]), f[1]))


def _leaf_errors(error: SchemaError) -> Iterator[Finding]:
    """The errors an author should see.

    ``anyOf`` (LocalizedText, optional sub-objects) says only "not valid under any of the given
    schemas"; when exactly one branch has the instance's type, that branch's own errors are the
    useful ones (``'title' is a required property``), so report those instead.
    """
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        yield tuple(error.absolute_path), _error_message(error)
        return
    branches: dict[Any, list[SchemaError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    viable = [errs for errs in branches.values() if not all(_is_type_miss(e) for e in errs)]
    if len(viable) == 1:
        for sub in viable[0]:
            yield from _leaf_errors(sub)
    elif not viable:
        expected = _expected_types(error.context)
        got = _json_type(error.instance)
        yield tuple(error.absolute_path), f"expected {expected}, got {got}"
    else:
        yield from _leaf_errors(best_match(error.context))


def _is_type_miss(error: SchemaError) -> bool:
    return error.validator == "type" and not error.relative_path


def _expected_types(errors: Iterable[SchemaError]) -> str:
    types: list[str] = []
    for error in errors:
        wanted = error.validator_value if error.validator == "type" else []
        for name in [wanted] if isinstance(wanted, str) else wanted:
            if name not in types:
                types.append(name)
    return " or ".join(types) or "another value"


def _error_message(error: SchemaError) -> str:
    if error.validator == "type":
        return f"expected {_expected_types([error])}, got {_json_type(error.instance)}"
    message = str(error.message)
    shown = repr(error.instance)
    if len(shown) > 60:  # never dump a whole week into one line
        message = message.replace(shown, shown[:50] + "…")
    return message


def _model_findings(document: Any) -> tuple[ScenarioPack | None, list[Finding]]:
    """Build the models; what they reject beyond the schema (e.g. a cycle without tracks)."""
    try:
        return ScenarioPack.model_validate(document), []
    except pydantic.ValidationError as exc:
        findings = [
            (_document_path(document, error["loc"]), _clean_model_message(error["msg"]))
            for error in exc.errors()
        ]
        return None, findings


def _document_path(document: Any, loc: tuple[Any, ...]) -> JsonPath:
    """Pydantic's error location minus its union tags (``str``, ``[key]``): keep only the
    segments that really exist in the document."""
    path: list[Segment] = []
    node = document
    for segment in loc:
        in_dict = isinstance(node, dict) and segment in node
        in_list = isinstance(node, list) and isinstance(segment, int) and segment < len(node)
        if in_dict or in_list:
            node = node[segment]
            path.append(segment)
    return tuple(path)


def _clean_model_message(message: str) -> str:
    return message.removeprefix("Value error, ")


@dataclass
class _Loaded:
    pack: ScenarioPack
    sources: _Sources
    folder: Path


def _load(path: Path) -> _Loaded:
    """Read, schema-check and build a pack; raise :class:`_Invalid` with every problem."""
    document, sources = _read_document(path)
    findings = _shape_findings(document) or _schema_findings(document)
    pack = None
    if not findings:
        pack, findings = _model_findings(document)
    if pack is None:
        raise _Invalid([sources.problem(p, m) for p, m in findings])
    return _Loaded(pack, sources, path if path.is_dir() else path.parent)


def load_pack(path: Path | str) -> ScenarioPack:
    """Load the pack at ``path`` (file or folder).

    Raises :class:`ValidationFailed` listing every schema and model problem, each as
    ``FILE::$.json.path: message``; a file that cannot be parsed is one problem with its line
    and column. Semantic rules are not run here: see :func:`validate_pack`.
    """
    path = Path(path)
    try:
        return _load(path).pack
    except _Invalid as exc:
        count = len(exc.problems)
        noun = "problem" if count == 1 else "problems"
        raise ValidationFailed(
            f"scenario pack {str(path)!r} is invalid ({count} {noun})",
            problems=[str(p) for p in exc.problems],
        ) from None


# -- semantic rules -----------------------------------------------------------------------
Rule = Callable[[ScenarioPack, Path], Iterable[Finding]]


def _cycles(pack: ScenarioPack) -> Iterator[tuple[JsonPath, Week, Cycle]]:
    for w, week in enumerate(pack.weeks):
        for c, cycle in enumerate(week.cycles):
            yield ("weeks", w, "cycles", c), week, cycle


def _tracks(pack: ScenarioPack) -> Iterator[tuple[JsonPath, Cycle, str, TrackContent]]:
    for path, _, cycle in _cycles(pack):
        for name, content in cycle.tracks().items():
            yield (*path, name), cycle, name, content


def _scenes(pack: ScenarioPack) -> Iterator[tuple[JsonPath, Scene]]:
    """Every scene of the pack, wherever it sits."""
    for key in ("coding_intro", "finale"):
        scene = getattr(pack, key)
        if scene is not None:
            yield (key,), scene
    for w, week in enumerate(pack.weeks):
        yield ("weeks", w, "intro"), week.intro
    for path, _, _, content in _tracks(pack):
        yield (*path, "task"), content.task
        yield (*path, "briefing"), content.briefing
    for path, _, cycle in _cycles(pack):
        for kind in ("success", "failure_logical", "failure_runtime", "timeout"):
            scene = getattr(cycle.feedback, kind)
            if scene is not None:
                yield (*path, "feedback", kind), scene


def _code_fields(pack: ScenarioPack) -> Iterator[tuple[JsonPath, str]]:
    """Every piece of code that must compile. Wrong answers expected to raise are left out:
    a syntax error may be exactly the mistake they show."""
    for path, _, cycle in _cycles(pack):
        if cycle.test is not None:
            yield (*path, "test"), cycle.test
        yield (*path, "lecture", "sandbox_code"), cycle.lecture.sandbox_code
        for s, section in enumerate(cycle.lecture.sections):
            yield (*path, "lecture", "sections", s, "code"), section.code
    for path, _, _, content in _tracks(pack):
        yield (*path, "starter_code"), content.starter_code
        yield (*path, "solution"), content.solution
        if content.test is not None:
            yield (*path, "test"), content.test
        for a, wrong in enumerate(content.wrong_answers):
            if wrong.expect != "error":
                yield (*path, "wrong_answers", a, "code"), wrong.code


@cache
def _text_fields(model: type[pydantic.BaseModel]) -> frozenset[str]:
    """Names of the fields of ``model`` that hold a LocalizedText."""
    return frozenset(
        name for name, info in model.model_fields.items() if _is_text_type(info.annotation)
    )


def _is_text_type(annotation: Any) -> bool:
    # LocalizedText is `str | dict[locale, str]`: the only field type with a dict of strings.
    if get_origin(annotation) is dict:
        return get_args(annotation)[1] is str
    return any(_is_text_type(arg) for arg in get_args(annotation))


def _texts(node: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, str | dict[str, str]]]:
    """Every LocalizedText under ``node`` (code fields are not texts: they are skipped)."""
    if isinstance(node, pydantic.BaseModel):
        texts = _text_fields(type(node))
        for name, info in type(node).model_fields.items():
            value, key = getattr(node, name), info.alias or name
            if name in texts and value is not None:
                yield (*path, key), value
            else:
                yield from _texts(value, (*path, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _texts(item, (*path, index))
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from _texts(item, (*path, str(key)))


def _rule_unique_cycle_ids(pack: ScenarioPack, folder: Path) -> Iterator[Finding]:
    seen: dict[str, str] = {}
    for path, week, cycle in _cycles(pack):
        where = f"week {week.number}, cycle {int(path[3]) + 1}"
        if cycle.id in seen:
            yield (*path, "id"), f"duplicate cycle id {cycle.id!r} (also in {seen[cycle.id]})"
        else:
            seen[cycle.id] = where


def _rule_week_numbers(pack: ScenarioPack, folder: Path) -> Iterator[Finding]:
    for index, week in enumerate(pack.weeks):
        if week.number != index + 1:
            yield (
                ("weeks", index, "number"),
                (
                    f"week number {week.number} where {index + 1} is expected"
                    " (weeks are numbered 1..N in order, without gaps)"
                ),
            )


def _rule_unique_cast(pack: ScenarioPack, folder: Path) -> Iterator[Finding]:
    seen: set[str] = set()
    for index, character in enumerate(pack.cast):
        if character.id in seen:
            yield ("cast", index, "id"), f"duplicate character id {character.id!r}"
        seen.add(character.id)


def _rule_characters_in_cast(pack: ScenarioPack, folder: Path) -> Iterator[Finding]:
    cast = {c.id for c in pack.cast}
    known = ", ".join(sorted(cast))
    refs: list[tuple[JsonPath, str | None]] = [(("lecturer",), pack.lecturer)]
    refs += [((*path, "character"), scene.character) for path, scene in _scenes(pack)]
    refs += [((*p, "lecture", "character"), c.lecture.character) for p, _, c in _cycles(pack)]
    for path, character in refs:
        if character is not None and character not in cast:
            yield path, f"unknown character {character!r} (cast: {known})"


def _rule_placeholders(pack: ScenarioPack, folder: Path) -> Iterator[Finding]:
    known = ", ".join(f"{{{{{name}}}}}" for name in sorted(PLACEHOLDERS))
    for path, text in _texts(pack):
        variants = text.items() if isinstance(text, dict) else [(None, text)]
        for locale, value in variants:
            for name in re.findall(r"\{\{(.*?)\}\}", value):
                if name not in PLACEHOLDERS:
                    where = path if locale is None else (*path, locale)
                    yield where, f"unknown placeholder {{{{{name}}}}} (known: {known})"


def _rule_locales(pack: ScenarioPack, folder: Path) -> Iterator[Finding]:
    declared = pack.locales
    if pack.default_locale not in declared:
        yield (
            ("default_locale",),
            (f"default locale {pack.default_locale!r} is not in locales ({', '.join(declared)})"),
        )
    for path, text in _texts(pack):
        if isinstance(text, str):
            continue
        for locale in declared:
            if locale not in text:
                yield path, f"missing the {locale!r} text (locales: {', '.join(declared)})"
        for locale in text:
            if locale not in declared:
                yield (
                    (*path, locale),
                    (f"text in undeclared locale {locale!r} (locales: {', '.join(declared)})"),
                )


def _rule_code_compiles(pack: ScenarioPack, folder: Path) -> Iterator[Finding]:
    for path, source in _code_fields(pack):
        problem = _compile_problem(source, json_path(path))
        if problem is not None:
            yield path, problem


def _compile_problem(source: str, filename: str) -> str | None:
    with warnings.catch_warnings():
        # A SyntaxWarning (e.g. an invalid escape) is not a reason to reject a pack.
        warnings.simplefilter("ignore")
        try:
            compile(source, filename, "exec", dont_inherit=True)
        except SyntaxError as exc:
            return f"does not compile: {exc.msg} (line {exc.lineno})"
        except ValueError as exc:  # e.g. a NUL character
            return f"does not compile: {exc}"
    return None


def _rule_hint_order(pack: ScenarioPack, folder: Path) -> Iterator[Finding]:
    for path, _, _, content in _tracks(pack):
        highest = 0
        for index, hint in enumerate(content.hints):
            if hint.after_failures < highest:
                yield (
                    (*path, "hints", index, "after_failures"),
                    (
                        f"hint after {hint.after_failures} failures comes after one at {highest};"
                        " order hints by after_failures"
                    ),
                )
            highest = max(highest, hint.after_failures)


def _rule_tracks_have_tests(pack: ScenarioPack, folder: Path) -> Iterator[Finding]:
    for path, cycle, name, _ in _tracks(pack):
        test = cycle.test_for(name)
        if test is None or not test.strip():
            yield (*path, "test"), "no test code: give the cycle a `test` or this track one"


def _rule_solutions_present(pack: ScenarioPack, folder: Path) -> Iterator[Finding]:
    for path, _, _, content in _tracks(pack):
        if not content.solution.strip():
            yield (
                (*path, "solution"),
                ("the reference solution is empty (it must pass the tests: `eduverse pack check`)"),
            )


def _rule_syntax_keys(pack: ScenarioPack, folder: Path) -> Iterator[Finding]:
    for path, _, cycle in _cycles(pack):
        for index, key in enumerate(cycle.syntax_keys):
            if key not in pack.syntax:
                yield (*path, "syntax_keys", index), f"syntax key {key!r} is not in `syntax`"


def _rule_portraits(pack: ScenarioPack, folder: Path) -> Iterator[Finding]:
    root = folder.resolve()
    for index, character in enumerate(pack.cast):
        if character.portrait is None:
            continue
        target = (root / character.portrait).resolve()
        path = ("cast", index, "portrait")
        if not target.is_relative_to(root):
            # The web app serves portraits from the pack folder; nothing outside it.
            yield path, f"portrait {character.portrait!r} is outside the pack folder"
        elif not target.is_file():
            yield path, f"portrait file {character.portrait!r} not found in {folder}"


RULES: tuple[Rule, ...] = (
    _rule_week_numbers,
    _rule_unique_cycle_ids,
    _rule_unique_cast,
    _rule_characters_in_cast,
    _rule_locales,
    _rule_placeholders,
    _rule_code_compiles,
    _rule_tracks_have_tests,
    _rule_solutions_present,
    _rule_hint_order,
    _rule_syntax_keys,
    _rule_portraits,
)
"""The semantic rules, run in order on a pack that loaded."""


# -- validation ---------------------------------------------------------------------------
@dataclass
class Validation:
    """The outcome of validating one pack: the pack (when it loads) and every problem."""

    path: Path
    pack: ScenarioPack | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """``valid: logicore (12 weeks, 60 cycles)``, or how many problems were found."""
        if self.problems:
            return f"invalid: {self.path} ({_plural(len(self.problems), 'problem')})"
        assert self.pack is not None  # a pack without problems has loaded
        cycles = sum(len(week.cycles) for week in self.pack.weeks)
        counts = f"{_plural(len(self.pack.weeks), 'week')}, {_plural(cycles, 'cycle')}"
        return f"valid: {self.pack.id} ({counts})"


def problems_summary(problems: list[Problem]) -> str:
    """``3 problems in 2 files``."""
    files = len({problem.file for problem in problems})
    return f"{_plural(len(problems), 'problem')} in {_plural(files, 'file')}"


def validate(path: Path | str, extra: ExtraCheck | None = None) -> Validation:
    """Load ``path`` and run every rule (and ``extra``, the plugins' checks) on it."""
    path = Path(path)
    try:
        loaded = _load(path)
    except _Invalid as exc:
        return Validation(path, None, exc.problems)
    findings = [f for rule in RULES for f in rule(loaded.pack, loaded.folder)]
    findings.sort(key=lambda f: _path_sort_key(f[0]))  # stable: rule order within one path
    findings += _extra_findings(loaded.pack, extra)
    problems = [loaded.sources.problem(p, m) for p, m in findings]
    return Validation(path, loaded.pack, problems)


def validate_pack(path: Path | str, extra: ExtraCheck | None = None) -> list[Problem]:
    """Every problem of the pack at ``path``: schema and model problems (then it stops), else
    the semantic rules' and ``extra``'s. An empty list means the pack is valid."""
    return validate(path, extra).problems


def _extra_findings(pack: ScenarioPack, extra: ExtraCheck | None) -> list[Finding]:
    """Plugin problems, with their ``$.path`` mapped like ours (to the week file)."""
    if extra is None:
        return []
    try:
        reported = extra(pack)
    except Exception as exc:  # a broken plugin is reported, not a traceback mid-validation
        return [((), f"a plugin's pack check failed: {type(exc).__name__}: {exc}")]
    findings: list[Finding] = []
    for text in reported:
        where, _, message = str(text).partition(": ")
        path = parse_json_path(where) if message else None
        findings.append((path, message) if path is not None else ((), str(text)))
    return findings


# -- statistics ---------------------------------------------------------------------------
@dataclass(frozen=True)
class WeekStats:
    """Counts for one week (``tracks``: the tracks any of its cycles has)."""

    number: int
    title: str
    cycles: int
    tracks: tuple[str, ...]
    hints: int
    wrong_answers: int


@dataclass(frozen=True)
class PackStats:
    """What ``eduverse pack stats`` shows."""

    id: str
    version: str
    title: str
    locales: tuple[str, ...]
    default_locale: str
    weeks: tuple[WeekStats, ...]

    def totals(self) -> dict[str, int]:
        return {
            "weeks": len(self.weeks),
            "cycles": sum(w.cycles for w in self.weeks),
            "hints": sum(w.hints for w in self.weeks),
            "wrong_answers": sum(w.wrong_answers for w in self.weeks),
        }

    def to_dict(self) -> dict[str, Any]:
        weeks = [{**w.__dict__, "tracks": list(w.tracks)} for w in self.weeks]
        data = {**self.__dict__, "locales": list(self.locales), "weeks": weeks}
        return {**data, "totals": self.totals()}


def pack_stats(pack: ScenarioPack) -> PackStats:
    """Per-week counts of cycles, tracks, hints and wrong answers."""
    locale = pack.default_locale
    weeks = tuple(_week_stats(week, locale) for week in pack.weeks)
    title = localize(pack.title, locale)
    locales = tuple(pack.locales)
    return PackStats(pack.id, pack.version, title, locales, locale, weeks)


def _week_stats(week: Week, locale: str) -> WeekStats:
    contents = [t for c in week.cycles for t in c.tracks().values()]
    present = {name for c in week.cycles for name in c.tracks()}
    return WeekStats(
        number=week.number,
        title=localize(week.title, locale),
        cycles=len(week.cycles),
        tracks=tuple(name for name in ("beginner", "advanced") if name in present),
        hints=sum(len(t.hints) for t in contents),
        wrong_answers=sum(len(t.wrong_answers) for t in contents),
    )


def stats_table(stats: PackStats) -> str:
    """A plain-text table of ``stats`` (aligned for Korean titles too)."""
    totals = stats.totals()
    header = ["week", "title", "cycles", "tracks", "hints", "wrong answers"]
    rows = [_week_row(week) for week in stats.weeks]
    total = ["total", _plural(totals["weeks"], "week"), str(totals["cycles"]), ""]
    total += [str(totals["hints"]), str(totals["wrong_answers"])]
    widths = [max(_width(row[i]) for row in [header, *rows, total]) for i in range(len(header))]
    rule = ["-" * width for width in widths]
    lines = [
        f"{stats.id} {stats.version}: {stats.title}",
        f"locales: {', '.join(stats.locales)} (default {stats.default_locale})",
        "",
    ]
    lines += [_table_row(row, widths) for row in [header, *rows, rule, total]]
    return "\n".join(lines)


def _week_row(week: WeekStats) -> list[str]:
    tracks = "+".join(name[0] for name in week.tracks)  # "b+a": beginner and advanced
    counts = (week.cycles, week.hints, week.wrong_answers)
    return [str(week.number), week.title, str(counts[0]), tracks, str(counts[1]), str(counts[2])]


def _table_row(cells: list[str], widths: list[int]) -> str:
    # The title column reads left to right; the numbers line up on the right.
    padded = [_pad(c, w, right=i != 1) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
    return "  ".join(padded).rstrip()


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _width(text: str) -> int:
    # Hangul and other wide characters take two terminal columns.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill
