"""Importing the original system's scenario.json as a folder pack.

The fixtures in ``fixtures/legacy/`` are written like the original course: Korean texts,
camelCase fields, ``_adv`` advanced tracks, tests reading ``student_code`` and ``locals()``.
``scenario.json`` has the ``{courseTitle, weeks}`` shape and a few realistic flaws (a test with
a syntax error, an unknown character, a misspelt placeholder, missing fields);
``scenario_weeks.json`` is a bare list of weeks.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduverse_core.cli import cli
from eduverse_core.errors import Conflict, ValidationFailed
from eduverse_core.legacy_packs import ImportReport, default_pack_id, import_legacy
from eduverse_core.models import localize
from eduverse_core.packs import load_pack, validate_pack
from eduverse_core.schemas import PACK_SCHEMA_ID

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "legacy"
COURSE = FIXTURES / "scenario.json"
WEEKS = FIXTURES / "scenario_weeks.json"


def items_of(report: ImportReport, cycle: str | None) -> list[str]:
    return [item.message for item in report.items if item.cycle == cycle]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("EDUVERSE_LOAD_ENTRY_POINTS", "0")
    return CliRunner()


COURSE_TITLE = "LogiCore Tech: 파이썬 신입 개발자 온보딩"


@pytest.mark.parametrize(
    ("source", "weeks", "cycles", "title"),
    [
        (COURSE, [1, 2], ["w01-c01", "w01-c02", "w02-c01"], COURSE_TITLE),
        (WEEKS, [1], ["w01-c01"], "imported-course"),
    ],
)
def test_import_legacy_converts_both_shapes(
    tmp_path: Path, source: Path, weeks: list[int], cycles: list[str], title: str
) -> None:
    out = tmp_path / "imported-course"
    import_legacy(source, out)
    pack = load_pack(out)
    assert [w.number for w in pack.weeks] == weeks
    assert [c.id for w in pack.weeks for c in w.cycles] == cycles
    assert localize(pack.title, "ko") == title
    assert (pack.id, pack.locales, pack.default_locale) == ("imported-course", ["ko"], "ko")
    assert [c.id for c in pack.cast] == ["alex", "sena", "prof-kim"]
    assert pack.lecturer == "prof-kim"
    assert sorted(p.name for p in (out / "weeks").iterdir()) == [f"{n:02d}.yaml" for n in weeks]


def test_imported_pack_loads_with_its_content_intact(tmp_path: Path) -> None:
    out = tmp_path / "logicore"
    import_legacy(COURSE, out)
    pack = load_pack(out)
    legacy = json.loads(COURSE.read_text(encoding="utf-8"))["weeks"][0]["cycles"][0]
    cycle = pack.weeks[0].cycles[0]
    assert cycle.filename == "status.py"
    assert cycle.syntax_keys == ["print"]
    assert cycle.test == legacy["testCode"]  # tests keep reading student_code and stdout
    assert cycle.beginner is not None and cycle.advanced is not None
    assert cycle.advanced.test == legacy["testCode_adv"]  # uses locals(): kept verbatim
    assert cycle.beginner.starter_code == legacy["starterCode"]
    assert cycle.advanced.starter_code == legacy["starterCode_adv"]
    assert cycle.beginner.task.title == {"ko": "첫 번째 업무"}
    assert cycle.beginner.task.subtitle == {"ko": "팀장 알렉스"}
    assert cycle.advanced.briefing.content == {"ko": legacy["briefing_adv"]["content"]}
    assert cycle.beginner.solution == cycle.advanced.solution == ""
    assert cycle.lecture.character is None  # profKim is the pack's lecturer
    assert localize(cycle.lecture.key_takeaway, "ko") == legacy["lecture"]["keyTakeaway"]
    assert [s.code for s in cycle.lecture.sections] == [
        s["code"] for s in legacy["lecture"]["sections"]
    ]
    assert cycle.feedback.success.character == "alex"
    assert pack.weeks[0].intro.title == {"ko": "입사 첫 주: 출력과 변수"}


def test_imported_files_reference_the_schema(tmp_path: Path) -> None:
    import_legacy(WEEKS, tmp_path / "out")
    head = yaml.safe_load((tmp_path / "out" / "pack.yaml").read_text(encoding="utf-8"))
    assert head["$schema"] == PACK_SCHEMA_ID
    assert "weeks" not in head
    week = (tmp_path / "out" / "weeks" / "01.yaml").read_text(encoding="utf-8")
    assert week.startswith(f"# yaml-language-server: $schema={PACK_SCHEMA_ID}#/$defs/Week\n")
    assert "  test: |\n" in week  # code is written as an editable block


def test_import_legacy_report_names_missing_solutions_and_broken_tests(tmp_path: Path) -> None:
    report = import_legacy(COURSE, tmp_path / "out")
    solution = "the reference solution is empty (it must pass the tests: `eduverse pack check`)"
    for cycle, tracks in [("w01-c01", ["advanced", "beginner"]), ("w02-c01", ["beginner"])]:
        for track in tracks:
            assert f"`{track}.solution`: {solution}" in items_of(report, cycle)
    assert "`test`: does not compile: expected ':' (line 3)" in items_of(report, "w02-c01")
    assert {(i.week, i.cycle) for i in report.items if "does not compile" in i.message} == {
        (1, "w01-c02"),  # starter code `server_name = ` is not Python yet
        (2, "w02-c01"),
    }


def test_import_legacy_report_names_unknown_characters_and_missing_fields(tmp_path: Path) -> None:
    items = items_of(import_legacy(COURSE, tmp_path / "out"), "w02-c01")
    assert (
        "`beginner.task.character`: unknown character 'ceo-park' (cast: alex, prof-kim, sena)"
        in items
    )
    assert "missing `lecture.keyTakeaway`" in items
    assert "missing `feedback.failure_runtime`: a generic scene by `sena` stands in" in items
    assert "ignored unknown field `hint`" in items
    assert any("unknown placeholder {{STUDENT_NAME}}" in item for item in items)


def test_import_legacy_report_lists_exactly_what_validate_finds(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = import_legacy(COURSE, out)
    from_validate = [item for item in report.items if item.message.startswith("`")]
    assert len(from_validate) == len(validate_pack(out))


def test_missing_advanced_parts_fall_back_to_the_beginner_track(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = import_legacy(WEEKS, out)
    cycle = load_pack(out).weeks[0].cycles[0]
    assert cycle.beginner is not None and cycle.advanced is not None
    assert cycle.advanced.briefing == cycle.beginner.briefing
    assert cycle.test_for("advanced") == cycle.test_for("beginner")
    assert items_of(report, "w01-c01")[:2] == [
        "missing `briefing_adv`: the beginner's `briefing` stands in",
        "missing `testCode_adv`: the advanced track uses the beginner's `testCode`",
    ]
    assert items_of(report, None) == ["no `courseTitle`: the pack is titled after its id"]


def test_imported_pack_is_valid_once_the_report_is_worked_through(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = import_legacy(WEEKS, out, pack_id="loops")
    week_file = out / "weeks" / "01.yaml"
    week = yaml.safe_load(week_file.read_text(encoding="utf-8"))
    track = week["cycles"][0]
    track["beginner"]["solution"] = "for i in range(5):\n    print('로그', i)\n"
    track["advanced"]["solution"] = "for i in range(5):\n    print('로그')\n"
    week_file.write_text(yaml.safe_dump(week, allow_unicode=True), encoding="utf-8")
    head = yaml.safe_load((out / "pack.yaml").read_text(encoding="utf-8"))
    head["syntax"] = {"for": {"title": "for", "description": {"ko": "반복문"}}}
    (out / "pack.yaml").write_text(yaml.safe_dump(head, allow_unicode=True), encoding="utf-8")
    assert len(report.items) == 6
    assert validate_pack(out) == []


def test_import_legacy_writes_the_report_it_prints(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(cli, ["pack", "import-legacy", str(COURSE), "--out", str(out)])
    assert result.exit_code == 0
    assert result.stdout == (out / "IMPORT-REPORT.md").read_text(encoding="utf-8")
    lines = result.stdout.splitlines()
    assert lines[0] == "# Legacy import report"
    assert "## Week 2 — 둘째 주: 조건문" in lines
    assert any(line.startswith("- **w02-c01** «CPU 경고 판단하기»: ") for line in lines)


def test_import_legacy_refuses_a_non_empty_folder_without_force(
    runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    (out / "weeks").mkdir(parents=True)
    (out / "weeks" / "09.yaml").write_text("stale: true\n", encoding="utf-8")
    (out / "notes.txt").write_text("keep me\n", encoding="utf-8")
    refused = runner.invoke(cli, ["pack", "import-legacy", str(WEEKS), "--out", str(out)])
    assert refused.exit_code == 2
    assert "is not empty (use --force" in refused.stderr
    with pytest.raises(Conflict):
        import_legacy(WEEKS, out)
    forced = runner.invoke(cli, ["pack", "import-legacy", str(WEEKS), "--out", str(out), "--force"])
    assert forced.exit_code == 0
    assert sorted(p.name for p in (out / "weeks").iterdir()) == ["01.yaml"]  # stale week gone
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me\n"
    assert [w.number for w in load_pack(out).weeks] == [1]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ('{"courseTitle": "x", "weeks": [', "invalid JSON"),
        ('{"courseTitle": "x"}', "is not a legacy scenario"),
        ('"just a string"', "is not a legacy scenario"),
    ],
)
def test_import_legacy_unreadable_input_exits_1(
    runner: CliRunner, tmp_path: Path, content: str | None, expected: str
) -> None:
    source = tmp_path / "scenario.json"
    if content is not None:
        source.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(cli, ["pack", "import-legacy", str(source), "--out", str(out)])
    assert result.exit_code == 1
    assert expected in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()  # nothing written for an unreadable input
    with pytest.raises(ValidationFailed):
        import_legacy(source, out)


@pytest.mark.parametrize(
    "args",
    [
        ["pack", "import-legacy", str(WEEKS)],  # no --out
        ["pack", "import-legacy", "--out", "x"],  # no source
        ["pack", "import-legacy", str(FIXTURES), "--out", "x"],  # a folder as source
    ],
)
def test_import_legacy_usage_errors_exit_2(runner: CliRunner, args: list[str]) -> None:
    assert runner.invoke(cli, args).exit_code == 2


def test_import_legacy_rejects_an_invalid_pack_id(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="invalid pack id 'Logi Core'"):
        import_legacy(WEEKS, tmp_path / "out", pack_id="Logi Core")
    assert not (tmp_path / "out").exists()


def test_default_pack_id_comes_from_the_folder_name(tmp_path: Path) -> None:
    assert default_pack_id(tmp_path / "LogiCore Tech") == "logicore-tech"
    assert default_pack_id(tmp_path / "코스") == "imported"


def test_legacy_character_names_map_to_cast_ids(tmp_path: Path) -> None:
    source = tmp_path / "scenario.json"
    legacy = json.loads(WEEKS.read_text(encoding="utf-8"))
    scenes = legacy[0]["cycles"][0]["feedback"]
    scenes["success"]["character"] = "profKim"
    scenes["failure_logical"]["character"] = "Sena"
    scenes["failure_runtime"]["character"] = "deputyLee"
    source.write_text(json.dumps(legacy, ensure_ascii=False), encoding="utf-8")
    import_legacy(source, tmp_path / "out")
    feedback = load_pack(tmp_path / "out").weeks[0].cycles[0].feedback
    assert feedback.success.character == "prof-kim"
    assert feedback.failure_logical.character == "sena"
    assert feedback.failure_runtime.character == "deputy-lee"
    assert load_pack(tmp_path / "out").weeks[0].cycles[0].lecture.character is None  # prof_kim


LEGACY_KEYS = sorted(
    {"week", "title", "cycles", "character", "content", "subtitle", "heading", "text", "code"}
    | {"starterCode", "testCode", "task", "briefing", "lecture", "feedback", "syntax_key"}
    | {"starterCode_adv", "testCode_adv", "task_adv", "briefing_adv", "keyTakeaway", "sections"}
    | {"success", "failure_logical", "failure_runtime", "sandboxCode", "filename", "x"}
)
legacy_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 3) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(LEGACY_KEYS), inner, max_size=5)
    ),
    max_leaves=25,
)
legacy_weeks = st.lists(
    st.dictionaries(st.sampled_from(LEGACY_KEYS), legacy_values, max_size=4)
    | st.fixed_dictionaries(
        {"week": legacy_values, "cycles": st.lists(legacy_values, min_size=1, max_size=3)}
    ),
    max_size=3,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(weeks=legacy_weeks, shape=st.sampled_from(["list", "course"]))
def test_any_legacy_input_is_imported_as_a_loadable_pack_or_refused(
    weeks: list[Any], shape: str
) -> None:
    data: Any = weeks if shape == "list" else {"courseTitle": "과정", "weeks": weeks}
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "scenario.json"
        source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        try:
            import_legacy(source, Path(folder) / "out")
        except ValidationFailed as exc:
            assert "nothing to import" in exc.message
            return
        load_pack(Path(folder) / "out")
