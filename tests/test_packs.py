"""Pack loading and validation: every problem names its file and JSON path.

Packs here come from :func:`make_pack`, a small valid pack that each test breaks in exactly
one place, so a test shows the one rule it is about.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from eduverse_core.cli import cli
from eduverse_core.errors import ValidationFailed
from eduverse_core.models import ScenarioPack
from eduverse_core.packs import (
    Problem,
    json_path,
    load_pack,
    pack_stats,
    parse_json_path,
    stats_table,
    validate,
    validate_pack,
)

REPO = Path(__file__).resolve().parent.parent
MINIMAL_PACK = REPO / "examples" / "minimal-pack.yaml"


# -- a valid pack to break ----------------------------------------------------------------
def t(ko: str, en: str) -> dict[str, str]:
    return {"ko": ko, "en": en}


def scene(character: str, title: str = "장면") -> dict[str, Any]:
    return {"character": character, "title": t(title, "Scene"), "content": t("내용", "Text")}


def make_cycle(cycle_id: str) -> dict[str, Any]:
    return {
        "id": cycle_id,
        "title": t("합계 구하기", "Compute a total"),
        "syntax_keys": ["print"],
        "test": "assert total == 6, tr('합계가 틀렸어요', 'wrong total')\n",
        "lecture": {
            "title": t("덧셈", "Addition"),
            "key_takeaway": t("+는 더한다", "+ adds"),
            "sandbox_code": "print(1 + 2)\n",
            "sections": [
                {"heading": t("더하기", "Adding"), "text": t("설명", "Text"), "code": "x = 1\n"}
            ],
        },
        "feedback": {
            "success": scene("sena"),
            "failure_logical": {
                **scene("sena"),
                "content": t("{{ERROR_MESSAGE}}", "{{ERROR_MESSAGE}}"),
            },
            "failure_runtime": scene("sena"),
        },
        "beginner": {
            "task": scene("alex"),
            "briefing": scene("sena"),
            "starter_code": "numbers = [1, 2, 3]\ntotal = 0\n",
            "solution": "numbers = [1, 2, 3]\ntotal = sum(numbers)\n",
            "wrong_answers": [{"code": "total = 5\n", "expect": "failed"}],
            "hints": [
                {"after_failures": 1, "text": t("sum()을 써 보세요", "Try sum()")},
                {"after_failures": 2, "text": t("sum(numbers)", "sum(numbers)")},
            ],
        },
    }


def make_week(number: int, *cycle_ids: str) -> dict[str, Any]:
    return {
        "number": number,
        "title": t(f"{number}주차", f"Week {number}"),
        "intro": scene("alex", "환영"),
        "cycles": [make_cycle(c) for c in cycle_ids],
    }


def make_pack() -> dict[str, Any]:
    """A valid pack: ko+en, three characters, two weeks, three cycles."""
    return {
        "id": "testpack",
        "version": "1.0.0",
        "title": t("테스트 과정", "Test course"),
        "locales": ["ko", "en"],
        "default_locale": "ko",
        "lecturer": "prof-kim",
        "cast": [
            {"id": "alex", "name": t("알렉스", "Alex"), "role": t("팀장", "Team lead")},
            {"id": "sena", "name": t("세나", "Sena"), "role": t("선배", "Senior")},
            {"id": "prof-kim", "name": t("김 교수", "Prof. Kim"), "role": t("교수", "Professor")},
        ],
        "syntax": {"print": {"title": "print()", "description": t("출력", "Prints")}},
        "weeks": [make_week(1, "w1-a", "w1-b"), make_week(2, "w2-a")],
    }


def write_file(folder: Path, data: Any, name: str = "pack.yaml") -> Path:
    path = folder / name
    if name.endswith(".json"):
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def write_folder(folder: Path, data: dict[str, Any]) -> Path:
    """``data`` as a folder pack: pack.yaml plus weeks/01.yaml, weeks/02.yaml, …"""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "weeks").mkdir(exist_ok=True)
    write_file(folder, {k: v for k, v in data.items() if k != "weeks"})
    for index, week in enumerate(data["weeks"], start=1):
        write_file(folder / "weeks", week, f"{index:02d}.yaml")
    return folder


def problems_of(tmp_path: Path, change: Callable[[dict[str, Any]], object]) -> list[str]:
    """Problems (as lines) of the factory pack after ``change``, written as one YAML file."""
    data = make_pack()
    change(data)
    return [str(p) for p in validate_pack(write_file(tmp_path, data))]


def messages(problems: list[str]) -> list[str]:
    """The ``$.path: message`` part of each line (without the file)."""
    return [p.split("::", 1)[1] for p in problems]


def set_in(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def cycle(data: dict[str, Any], week: int = 0, index: int = 0) -> dict[str, Any]:
    result: dict[str, Any] = data["weeks"][week]["cycles"][index]
    return result


# -- loading ------------------------------------------------------------------------------
def test_factory_and_example_packs_are_valid(tmp_path: Path) -> None:
    assert validate_pack(write_file(tmp_path, make_pack())) == []
    assert validate_pack(MINIMAL_PACK) == []


@pytest.mark.parametrize("form", ["pack.json", "pack.yaml", "pack.yml", "folder"])
def test_every_pack_form_loads_to_the_same_pack(tmp_path: Path, form: str) -> None:
    data = make_pack()
    path = (
        write_folder(tmp_path / "p", data) if form == "folder" else write_file(tmp_path, data, form)
    )
    assert load_pack(path) == ScenarioPack.model_validate(data)


def test_folder_pack_weeks_are_ordered_by_file_name(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "p", make_pack())
    (folder / "weeks" / "01.yaml").rename(folder / "weeks" / "03.yaml")
    (folder / "weeks" / "notes.txt").write_text("not a week", encoding="utf-8")
    pack = load_pack(folder)
    assert [w.number for w in pack.weeks] == [2, 1]


def test_validate_reports_every_schema_error_with_its_json_path(tmp_path: Path) -> None:
    def break_three_things(data: dict[str, Any]) -> None:
        del data["version"]
        data["weeks"][1]["cycles"][0]["beginner"]["hints"][0]["after_failures"] = -1
        data["weeks"][0]["cycles"][1]["lecture"]["titel"] = "typo"

    found = messages(problems_of(tmp_path, break_three_things))
    assert found == [
        "$: 'version' is a required property",
        "$.weeks[0].cycles[1].lecture: Additional properties are not allowed"
        " ('titel' was unexpected)",
        "$.weeks[1].cycles[0].beginner.hints[0].after_failures: -1 is less than the minimum of 0",
    ]


def test_schema_error_inside_an_optional_object_names_the_missing_field(tmp_path: Path) -> None:
    found = messages(problems_of(tmp_path, lambda d: cycle(d)["beginner"].pop("solution")))
    assert found == ["$.weeks[0].cycles[0].beginner: 'solution' is a required property"]


def test_wrong_type_names_expected_and_actual_types(tmp_path: Path) -> None:
    def break_types(data: dict[str, Any]) -> None:
        data["title"] = 42
        data["weeks"][0]["number"] = "one"

    assert messages(problems_of(tmp_path, break_types)) == [
        "$.title: expected string or object, got integer",
        "$.weeks[0].number: expected integer, got string",
    ]


def test_locale_key_of_wrong_form_is_a_schema_problem(tmp_path: Path) -> None:
    found = messages(problems_of(tmp_path, lambda d: d.update(title={"KO": "제목"})))
    assert len(found) == 1
    assert found[0].startswith("$.title: 'KO' does not match")


def test_cycle_without_tracks_is_a_problem_at_the_cycle(tmp_path: Path) -> None:
    found = messages(problems_of(tmp_path, lambda d: cycle(d).pop("beginner")))
    assert found == [
        "$.weeks[0].cycles[0]: a cycle needs at least one track (beginner or advanced)"
    ]


def test_load_pack_raises_once_with_every_problem(tmp_path: Path) -> None:
    data = make_pack()
    del data["id"]
    data["locales"] = []
    path = write_file(tmp_path, data)
    with pytest.raises(ValidationFailed) as raised:
        load_pack(path)
    assert raised.value.problems == [
        f"{path}::$: 'id' is a required property",
        f"{path}::$.locales: [] should be non-empty",
    ]
    assert "2 problems" in raised.value.message


def test_folder_pack_problem_names_the_week_file(tmp_path: Path) -> None:
    data = make_pack()
    cycle(data, week=1)["test"] = 7
    folder = write_folder(tmp_path / "course", data)
    assert [str(p) for p in validate_pack(folder)] == [
        f"{folder / 'weeks' / '02.yaml'}::$.cycles[0].test: expected string or null, got integer"
    ]


def test_folder_pack_semantic_problem_names_the_week_file(tmp_path: Path) -> None:
    data = make_pack()
    cycle(data, week=1)["beginner"]["task"]["character"] = "bob"
    data["lecturer"] = "nobody"
    folder = write_folder(tmp_path / "course", data)
    assert [(p.file, p.path) for p in validate_pack(folder)] == [
        (str(folder / "pack.yaml"), "$.lecturer"),
        (str(folder / "weeks" / "02.yaml"), "$.cycles[0].beginner.task.character"),
    ]


def test_folder_without_pack_yaml_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "weeks").mkdir()
    [problem] = validate_pack(tmp_path)
    assert problem.file == str(tmp_path)
    assert "pack.yaml" in problem.message


def test_folder_without_week_files_is_a_problem(tmp_path: Path) -> None:
    data = make_pack()
    data.pop("weeks")
    write_file(tmp_path, data)
    [problem] = validate_pack(tmp_path)
    assert problem.file == str(tmp_path / "weeks")
    assert "no week files" in problem.message


def test_weeks_inside_pack_yaml_of_a_folder_pack_is_a_problem(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "p", make_pack())
    write_file(folder, make_pack())  # pack.yaml now has weeks too
    assert [str(p) for p in validate_pack(folder)] == [
        f"{folder / 'pack.yaml'}::$.weeks: weeks belong in weeks/*.yaml"
        " (one file per week), not here"
    ]


def test_malformed_yaml_is_one_problem_with_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text("id: x\ntitle: [unclosed\nversion: 1\n", encoding="utf-8")
    [problem] = validate_pack(path)
    assert str(problem).startswith(f"{path}:3:8: invalid YAML: while parsing a flow sequence, ")
    assert "\n" not in str(problem)


def test_malformed_json_is_one_problem_with_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "pack.json"
    path.write_text('{\n  "id": "x",\n  "version" "1"\n}\n', encoding="utf-8")
    assert [str(p) for p in validate_pack(path)] == [
        f"{path}:3:13: invalid JSON: Expecting ':' delimiter"
    ]


def test_malformed_files_of_a_folder_pack_are_all_reported(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "p", make_pack())
    (folder / "weeks" / "01.yaml").write_text("number: [1\n", encoding="utf-8")
    (folder / "weeks" / "02.yaml").write_text("number: 2\n  title: x\n", encoding="utf-8")
    problems = validate_pack(folder)
    assert [(Path(p.file).name, p.line) for p in problems] == [("01.yaml", 2), ("02.yaml", 2)]


def test_duplicate_yaml_key_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text("id: a\nversion: '1'\nid: b\n", encoding="utf-8")
    [problem] = validate_pack(path)
    assert (problem.line, problem.message) == (
        3,
        "invalid YAML: duplicate key 'id' (first at line 1)",
    )


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.yaml", None, "no such file or folder"),
        ("empty.yaml", b"", "the file is empty"),
        ("latin1.yaml", "id: caf\xe9\n".encode("latin-1"), "not UTF-8 text"),
        ("pack.txt", b"id: x\n", "not a pack: expected a .json, .yaml, .yml file"),
    ],
)
def test_unreadable_pack_is_a_clear_problem(
    tmp_path: Path, name: str, content: bytes | None, expected: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    [problem] = validate_pack(path)
    assert problem.file == str(path)
    assert problem.message.startswith(expected)


# -- semantic rules -----------------------------------------------------------------------
def test_duplicate_cycle_id_is_a_problem(tmp_path: Path) -> None:
    found = messages(problems_of(tmp_path, lambda d: cycle(d, week=1).update(id="w1-a")))
    assert found == ["$.weeks[1].cycles[0].id: duplicate cycle id 'w1-a' (also in week 1, cycle 1)"]


def test_week_numbers_with_gap_is_a_problem(tmp_path: Path) -> None:
    found = messages(problems_of(tmp_path, lambda d: d["weeks"][1].update(number=3)))
    assert found == [
        "$.weeks[1].number: week number 3 where 2 is expected"
        " (weeks are numbered 1..N in order, without gaps)"
    ]


def test_weeks_out_of_order_are_a_problem(tmp_path: Path) -> None:
    found = messages(problems_of(tmp_path, lambda d: d["weeks"].reverse()))
    assert [line.split(":")[0] for line in found] == ["$.weeks[0].number", "$.weeks[1].number"]


@pytest.mark.parametrize(
    "field",
    [
        ("lecturer",),
        ("coding_intro", "character"),
        ("finale", "character"),
        ("weeks", 0, "intro", "character"),
        ("weeks", 0, "cycles", 0, "beginner", "task", "character"),
        ("weeks", 0, "cycles", 0, "beginner", "briefing", "character"),
        ("weeks", 0, "cycles", 0, "feedback", "success", "character"),
        ("weeks", 0, "cycles", 0, "feedback", "timeout", "character"),
        ("weeks", 0, "cycles", 0, "lecture", "character"),
    ],
)
def test_character_not_in_the_cast_is_a_problem(tmp_path: Path, field: tuple[Any, ...]) -> None:
    def miscast(data: dict[str, Any]) -> None:
        data["coding_intro"], data["finale"] = scene("sena"), scene("sena")
        cycle(data)["feedback"]["timeout"] = scene("sena")
        set_in(data, field, "kim")

    assert messages(problems_of(tmp_path, miscast)) == [
        f"{json_path(field)}: unknown character 'kim' (cast: alex, prof-kim, sena)"
    ]


def test_duplicate_character_id_is_a_problem(tmp_path: Path) -> None:
    found = messages(problems_of(tmp_path, lambda d: d["cast"].append(dict(d["cast"][0]))))
    assert found == ["$.cast[3].id: duplicate character id 'alex'"]


def test_unknown_placeholder_is_a_problem(tmp_path: Path) -> None:
    def misspell(data: dict[str, Any]) -> None:
        cycle(data)["feedback"]["success"]["content"] = t("{{USER_NAME}}님!", "{{USERNAME}}!")

    assert messages(problems_of(tmp_path, misspell)) == [
        "$.weeks[0].cycles[0].feedback.success.content.ko: unknown placeholder {{USER_NAME}}"
        " (known: {{ERROR_MESSAGE}}, {{USERNAME}})"
    ]


def test_double_braces_in_code_are_python_not_placeholders(tmp_path: Path) -> None:
    def use_fstring_braces(data: dict[str, Any]) -> None:
        cycle(data)["beginner"]["solution"] = 'total = 6\nprint(f"{{total}}")\n'

    assert problems_of(tmp_path, use_fstring_braces) == []


def test_missing_locale_text_is_a_problem(tmp_path: Path) -> None:
    found = messages(
        problems_of(tmp_path, lambda d: cycle(d)["lecture"].update(title={"ko": "덧셈"}))
    )
    assert found == ["$.weeks[0].cycles[0].lecture.title: missing the 'en' text (locales: ko, en)"]


def test_text_in_an_undeclared_locale_is_a_problem(tmp_path: Path) -> None:
    found = messages(problems_of(tmp_path, lambda d: d["title"].update(ja="テスト")))
    assert found == ["$.title.ja: text in undeclared locale 'ja' (locales: ko, en)"]


def test_plain_string_counts_as_every_locale(tmp_path: Path) -> None:
    assert problems_of(tmp_path, lambda d: d.update(title="EduVerse")) == []


def test_default_locale_must_be_one_of_the_locales(tmp_path: Path) -> None:
    found = messages(problems_of(tmp_path, lambda d: d.update(default_locale="ja")))
    assert found == ["$.default_locale: default locale 'ja' is not in locales (ko, en)"]


@pytest.mark.parametrize(
    "field",
    [
        ("test",),
        ("beginner", "starter_code"),
        ("beginner", "solution"),
        ("lecture", "sandbox_code"),
        ("lecture", "sections", 0, "code"),
        ("beginner", "wrong_answers", 0, "code"),
    ],
)
def test_code_that_does_not_compile_is_a_problem(tmp_path: Path, field: tuple[Any, ...]) -> None:
    def break_code(data: dict[str, Any]) -> None:
        set_in(cycle(data), field, "x = 1\nif x\n    pass\n")

    found = messages(problems_of(tmp_path, break_code))
    assert found == [
        f"{json_path(('weeks', 0, 'cycles', 0, *field))}: does not compile: expected ':' (line 2)"
    ]


def test_wrong_answer_expected_to_raise_may_not_compile(tmp_path: Path) -> None:
    def add_syntax_error_answer(data: dict[str, Any]) -> None:
        wrong = {"code": "total = sum(numbers\n", "expect": "error"}
        cycle(data)["beginner"]["wrong_answers"].append(wrong)

    assert problems_of(tmp_path, add_syntax_error_answer) == []


def test_hints_out_of_order_are_a_problem(tmp_path: Path) -> None:
    found = messages(problems_of(tmp_path, lambda d: cycle(d)["beginner"]["hints"].reverse()))
    assert found == [
        "$.weeks[0].cycles[0].beginner.hints[1].after_failures: hint after 1 failures comes after"
        " one at 2; order hints by after_failures"
    ]


def test_track_without_any_test_code_is_a_problem(tmp_path: Path) -> None:
    found = messages(problems_of(tmp_path, lambda d: cycle(d).pop("test")))
    assert found == [
        "$.weeks[0].cycles[0].beginner.test:"
        " no test code: give the cycle a `test` or this track one"
    ]


def test_track_test_stands_in_for_a_missing_cycle_test(tmp_path: Path) -> None:
    def move_test_to_track(data: dict[str, Any]) -> None:
        cycle(data)["beginner"]["test"] = cycle(data).pop("test")

    assert problems_of(tmp_path, move_test_to_track) == []


def test_empty_reference_solution_is_a_problem(tmp_path: Path) -> None:
    found = messages(problems_of(tmp_path, lambda d: cycle(d)["beginner"].update(solution="  \n")))
    assert found == [
        "$.weeks[0].cycles[0].beginner.solution: the reference solution is empty"
        " (it must pass the tests: `eduverse pack check`)"
    ]


def test_unknown_syntax_key_is_a_problem(tmp_path: Path) -> None:
    found = messages(problems_of(tmp_path, lambda d: cycle(d)["syntax_keys"].append("for")))
    assert found == ["$.weeks[0].cycles[0].syntax_keys[1]: syntax key 'for' is not in `syntax`"]


def test_portraits_must_exist_inside_the_pack_folder(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "alex.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path.parent / "outside.svg").write_text("<svg/>", encoding="utf-8")

    def set_portraits(data: dict[str, Any]) -> None:
        data["cast"][0]["portrait"] = "assets/alex.svg"
        data["cast"][1]["portrait"] = "assets/sena.svg"
        data["cast"][2]["portrait"] = "../outside.svg"

    found = messages(problems_of(tmp_path, set_portraits))
    assert found == [
        f"$.cast[1].portrait: portrait file 'assets/sena.svg' not found in {tmp_path}",
        "$.cast[2].portrait: portrait '../outside.svg' is outside the pack folder",
    ]


def test_extra_check_problems_are_mapped_to_the_week_file(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "p", make_pack())

    def house_style(pack: ScenarioPack) -> list[str]:
        return ["$.weeks[1].title: titles need an emoji", "the pack is too short"]

    assert [str(p) for p in validate_pack(folder, extra=house_style)] == [
        f"{folder / 'weeks' / '02.yaml'}::$.title: titles need an emoji",
        f"{folder / 'pack.yaml'}::$: the pack is too short",
    ]


def test_failing_extra_check_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    def broken(pack: ScenarioPack) -> list[str]:
        raise KeyError("oops")

    [problem] = validate_pack(write_file(tmp_path, make_pack()), extra=broken)
    assert problem.message == "a plugin's pack check failed: KeyError: 'oops'"


def test_extra_check_does_not_run_on_a_pack_that_does_not_load(tmp_path: Path) -> None:
    calls: list[ScenarioPack] = []
    data = make_pack()
    del data["id"]
    validate_pack(write_file(tmp_path, data), extra=lambda pack: calls.append(pack) or [])
    assert calls == []


def test_keys_yaml_allows_but_json_does_not_are_problems(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text("id: x\ntitle: {1: eins}\ncast: &cast [*cast]\n", encoding="utf-8")
    assert messages([str(p) for p in validate_pack(path)]) == [
        "$.title: key 1 is not a string: quote it",
        "$.cast[0]: this value contains itself (a YAML alias refers to an enclosing node)",
    ]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``node``."""
    found = [path]
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, value in items:
        found += _paths(value, (*path, key))
    return found


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_change_to_a_pack_gives_problems_never_an_exception(data: st.DataObject) -> None:
    pack = make_pack()
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(_paths(pack)[1:]))
        if data.draw(st.booleans()):
            set_in(pack, where, data.draw(json_values))
        else:
            parent = pack
            for key in where[:-1]:
                parent = parent[key]
            del parent[where[-1]]
    with tempfile.TemporaryDirectory() as folder:
        problems = validate_pack(write_file(Path(folder), pack, "pack.json"))
    assert all(isinstance(p, Problem) and p.message for p in problems)


# -- paths and problems -------------------------------------------------------------------
@given(
    st.lists(
        st.one_of(st.integers(min_value=0, max_value=10**6), st.text(min_size=1, max_size=12)),
        max_size=6,
    )
)
def test_json_path_parses_back_to_its_segments(segments: list[str | int]) -> None:
    assert parse_json_path(json_path(segments)) == tuple(segments)


def test_json_path_quotes_keys_that_are_not_identifiers() -> None:
    assert json_path(["syntax", "for-in", "title"]) == '$.syntax["for-in"].title'
    assert json_path(["$schema"]) == '$["$schema"]'
    assert parse_json_path("weeks[0]") is None


def test_problem_prints_as_file_path_message() -> None:
    assert str(Problem("p.yaml", "$.id", "bad")) == "p.yaml::$.id: bad"
    assert str(Problem("p.yaml", "$", "invalid YAML: x", 3, 7)) == "p.yaml:3:7: invalid YAML: x"


def test_validation_summary_counts_weeks_and_cycles(tmp_path: Path) -> None:
    assert validate(MINIMAL_PACK).summary() == "valid: minimal (1 week, 1 cycle)"
    assert (
        validate(write_file(tmp_path, make_pack())).summary()
        == "valid: testpack (2 weeks, 3 cycles)"
    )


# -- statistics ---------------------------------------------------------------------------
def test_pack_stats_counts_per_week(tmp_path: Path) -> None:
    data = make_pack()
    cycle(data, week=1)["advanced"] = dict(cycle(data, week=1)["beginner"], hints=[])
    stats = pack_stats(ScenarioPack.model_validate(data))
    assert [
        (w.number, w.title, w.cycles, w.tracks, w.hints, w.wrong_answers) for w in stats.weeks
    ] == [
        (1, "1주차", 2, ("beginner",), 4, 2),
        (2, "2주차", 1, ("beginner", "advanced"), 2, 2),
    ]
    assert stats.totals() == {"weeks": 2, "cycles": 3, "hints": 6, "wrong_answers": 4}


def test_stats_table_shows_tracks_totals_and_locales() -> None:
    table = stats_table(pack_stats(load_pack(MINIMAL_PACK))).splitlines()
    assert table[0] == "minimal 1.0.0: 첫 출근"
    assert table[1] == "locales: ko, en (default ko)"
    assert table[4].split() == ["1", "입사", "첫", "주", "1", "b", "2", "2"]
    assert table[-1].split() == ["total", "1", "week", "1", "2", "2"]


# -- the command line ---------------------------------------------------------------------
@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    # Installed plugins must not change what these tests see.
    monkeypatch.setenv("EDUVERSE_LOAD_ENTRY_POINTS", "0")
    monkeypatch.delenv("EDUVERSE_PLUGINS_DIR", raising=False)
    return CliRunner()


def test_cli_validate_exit_codes(runner: CliRunner, tmp_path: Path) -> None:
    data = make_pack()
    del data["id"]
    invalid = write_file(tmp_path, data)
    assert runner.invoke(cli, ["pack", "validate", str(MINIMAL_PACK)]).exit_code == 0
    assert runner.invoke(cli, ["pack", "validate", str(invalid)]).exit_code == 1
    assert runner.invoke(cli, ["pack", "validate", str(MINIMAL_PACK), str(invalid)]).exit_code == 1
    assert runner.invoke(cli, ["pack", "validate", str(tmp_path / "nope")]).exit_code == 1
    assert runner.invoke(cli, ["pack", "validate"]).exit_code == 2
    assert runner.invoke(cli, ["pack", "validate", "--bogus", str(MINIMAL_PACK)]).exit_code == 2


def test_cli_validate_prints_one_line_per_problem_then_a_summary(
    runner: CliRunner, tmp_path: Path
) -> None:
    data = make_pack()
    data["default_locale"] = "ja"
    cycle(data)["syntax_keys"] = ["nope"]
    path = write_file(tmp_path, data)
    result = runner.invoke(cli, ["pack", "validate", str(path), str(MINIMAL_PACK)])
    assert result.stdout.splitlines() == [
        f"{path}::$.default_locale: default locale 'ja' is not in locales (ko, en)",
        f"{path}::$.weeks[0].cycles[0].syntax_keys[0]: syntax key 'nope' is not in `syntax`",
    ]
    assert result.stderr.splitlines() == [
        f"invalid: {path} (2 problems)",
        "valid: minimal (1 week, 1 cycle)",
        "2 problems in 1 file",
    ]


def test_cli_validate_json_output(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: [\n", encoding="utf-8")
    result = runner.invoke(cli, ["pack", "validate", "--json", str(path), str(MINIMAL_PACK)])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert [(p["file"], p["path"], p["line"]) for p in report["problems"]] == [(str(path), "$", 2)]
    assert report["problems"][0]["message"].startswith("invalid YAML:")
    ok = runner.invoke(cli, ["pack", "validate", "--json", str(MINIMAL_PACK)])
    assert (ok.exit_code, json.loads(ok.stdout)) == (0, {"valid": True, "problems": []})


def test_cli_validate_malformed_file_is_a_line_not_a_traceback(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "pack.json"
    path.write_text('{"id": "x",,}', encoding="utf-8")
    result = runner.invoke(cli, ["pack", "validate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert (
        result.stdout
        == f"{path}:1:12: invalid JSON: Expecting property name enclosed in double quotes\n"
    )
    assert "Traceback" not in result.output


def test_hook_eduverse_validate_scenario_pack_problems_are_reported(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "house_style.py").write_text(
        "from eduverse_core import hookimpl\n\n"
        "@hookimpl\n"
        "def eduverse_validate_scenario_pack(eduverse, pack):\n"
        "    assert eduverse is not None\n"
        "    return [f'$.weeks[0].title: {pack.id} needs a shorter title']\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("EDUVERSE_PLUGINS_DIR", str(plugins))
    monkeypatch.setenv("EDUVERSE_STORAGE", "sqlite://:memory:")
    folder = write_folder(tmp_path / "course", make_pack())
    result = runner.invoke(cli, ["pack", "validate", str(folder)])
    assert result.stdout == (
        f"{folder / 'weeks' / '01.yaml'}::$.title: testpack needs a shorter title\n"
    )
    assert result.exit_code == 1


def test_cli_stats_prints_a_table_or_json(runner: CliRunner, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "p", make_pack())
    table = runner.invoke(cli, ["pack", "stats", str(folder)])
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0] == "testpack 1.0.0: 테스트 과정"
    assert table.stdout.splitlines()[-1].split() == ["total", "2", "weeks", "3", "6", "3"]
    as_json = json.loads(runner.invoke(cli, ["pack", "stats", "--json", str(folder)]).stdout)
    assert as_json["totals"] == {"weeks": 2, "cycles": 3, "hints": 6, "wrong_answers": 3}
    assert as_json["weeks"][1]["tracks"] == ["beginner"]


def test_cli_stats_of_an_invalid_pack_lists_its_problems(runner: CliRunner, tmp_path: Path) -> None:
    data = make_pack()
    del data["id"]
    result = runner.invoke(cli, ["pack", "stats", str(write_file(tmp_path, data))])
    assert result.exit_code == 1
    assert "::$: 'id' is a required property" in result.stderr
