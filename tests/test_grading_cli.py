"""`eduverse grade` and `eduverse pack check`, and the check runner behind the latter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from eduverse_core.cli import cli
from eduverse_core.errors import NotFound
from eduverse_core.grading.base import Grader
from eduverse_core.grading.check import check_pack
from eduverse_core.grading.sandbox import SandboxGrader
from eduverse_core.legacy_packs import import_legacy
from eduverse_core.models import ScenarioPack

FIXTURES = Path(__file__).parent / "fixtures"
ENV = {"EDUVERSE_LOAD_ENTRY_POINTS": "0", "EDUVERSE_SECRET_KEY": "test"}


def scene(text: str = "{{ERROR_MESSAGE}}", who: str = "sena") -> dict[str, Any]:
    return {"character": who, "title": {"ko": "제목", "en": "Title"}, "content": text}


def track(solution: str, starter: str = "", wrong: list[Any] | None = None) -> dict[str, Any]:
    return {
        "task": scene("Do it"),
        "briefing": scene("Like this"),
        "starter_code": starter,
        "solution": solution,
        "wrong_answers": wrong or [],
    }


def cycle(cycle_id: str, test: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "id": cycle_id,
        "title": cycle_id,
        "test": test,
        "lecture": {
            "title": "L",
            "key_takeaway": "K",
            "sandbox_code": "print('play')",
            "sections": [{"heading": "H", "text": "T", "code": "print(1 + 1)"}],
        },
        "feedback": {
            "success": scene("<p>Well done, {{USERNAME}}!</p>", "alex"),
            "failure_logical": scene(),
            "failure_runtime": scene(),
        },
        **extra,
    }


GREET_TEST = "assert stdout == 'hello\\n', tr('hello를 출력하세요', 'print hello')"


def good_cycle() -> dict[str, Any]:
    wrong = [
        {
            "code": "print('bye')",
            "expect": "failed",
            "message_contains": {"ko": "hello를", "en": "print hello"},
        },
        {"code": "print('hello'", "expect": "error"},
    ]
    return cycle(
        "greet",
        GREET_TEST,
        beginner=track("print('hello')", "# your code", wrong),
        advanced=track("print('hel' + 'lo')", "pass"),
    )


def broken_cycle() -> dict[str, Any]:
    wrong = [
        {"code": "print('hello')", "expect": "failed"},  # passes: wrong expectation
        {"code": "print('bye')", "expect": "failed", "message_contains": "nope"},
        {"code": "x = ", "expect": "failed"},  # an error, not a failure
    ]
    broken = cycle("broken", GREET_TEST, beginner=track("print('helo')", "print('hello')", wrong))
    broken["lecture"]["sections"][0]["code"] = "1 / 0"
    return broken


def make_pack(*cycles: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "cli-pack",
        "version": "1.0.0",
        "title": "CLI pack",
        "locales": ["ko", "en"],
        "default_locale": "en",
        "cast": [
            {"id": "alex", "name": "Alex", "role": "Lead"},
            {"id": "sena", "name": "Sena", "role": "Senior"},
        ],
        "weeks": [
            {"number": 1, "title": "W1", "intro": scene("hi"), "cycles": list(cycles)},
        ],
    }


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxGrader]:
    with SandboxGrader(workers=2) as grader:
        grader.warm()
        yield grader


def lookup(sandbox: SandboxGrader) -> Any:
    def graders(name: str) -> Grader:
        if name != "sandbox":
            raise NotFound(f"unknown grader {name!r} (known: sandbox)")
        return sandbox

    return graders


@pytest.fixture
def pack_file(tmp_path: Path) -> Path:
    path = tmp_path / "pack.yaml"
    path.write_text(yaml.safe_dump(make_pack(good_cycle())), encoding="utf-8")
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=ENV)


# -- the check runner ---------------------------------------------------------------------
def test_check_passes_a_sound_pack(sandbox: SandboxGrader) -> None:
    pack = ScenarioPack.model_validate(make_pack(good_cycle()))
    report = check_pack(pack, lookup(sandbox), jobs=4)
    # per track and locale: solution, starter, each wrong answer; per cycle: lecture code
    assert (report.cycles, report.checks, report.failures) == (1, 2 * (4 + 2) + 2, [])


def test_check_runs_track_checks_in_every_locale(sandbox: SandboxGrader) -> None:
    data = make_pack(good_cycle())
    wrong = data["weeks"][0]["cycles"][0]["beginner"]["wrong_answers"][0]
    wrong["message_contains"] = "print hello"  # one fragment for both locales: wrong in ko
    report = check_pack(ScenarioPack.model_validate(data), lookup(sandbox), jobs=4)
    assert [(f.track, f.check) for f in report.failures] == [("beginner", "wrong_answers[0] [ko]")]
    only_en = check_pack(ScenarioPack.model_validate(data), lookup(sandbox), locales=["en"])
    assert only_en.failures == []


def test_check_reports_every_broken_piece(sandbox: SandboxGrader) -> None:
    pack = ScenarioPack.model_validate(make_pack(good_cycle(), broken_cycle()))
    report = check_pack(pack, lookup(sandbox), jobs=4, locales=["en"])
    found = {(f.cycle, f.track, f.check): f.detail for f in report.failures}
    assert set(found) == {
        ("broken", "beginner", "solution"),
        ("broken", "beginner", "starter"),
        ("broken", "beginner", "wrong_answers[0]"),
        ("broken", "beginner", "wrong_answers[1]"),
        ("broken", "beginner", "wrong_answers[2]"),
        ("broken", None, "lecture.sections[0].code"),
    }
    assert found["broken", "beginner", "solution"] == "expected passed, got failed: print hello"
    assert found["broken", "beginner", "starter"] == "the starter code already passes the tests"
    assert found["broken", "beginner", "wrong_answers[0]"] == "expected failed, got passed"
    assert "containing 'nope'" in found["broken", "beginner", "wrong_answers[1]"]
    assert found["broken", "beginner", "wrong_answers[2]"].startswith(
        "expected failed, got error: SyntaxError"
    )
    assert "ZeroDivisionError" in found["broken", None, "lecture.sections[0].code"]


def test_check_names_cycles_without_tests_or_solutions(sandbox: SandboxGrader) -> None:
    pack = ScenarioPack.model_validate(
        make_pack(
            cycle("untested", None, beginner=track("print('hello')")),
            cycle("unsolved", GREET_TEST, beginner=track("")),
            cycle("uncompilable", "assert stdout ==", beginner=track("print('hello')")),
            cycle("elsewhere", GREET_TEST, grader={"name": "nope"}, beginner=track("x = 1")),
        )
    )
    report = check_pack(pack, lookup(sandbox), locales=["en"])
    found = {(f.cycle, f.check): f.detail for f in report.failures}
    assert found["untested", "test"] == "there is no test code to run"
    assert found["unsolved", "solution"] == "there is no reference solution"
    assert found["uncompilable", "test"].startswith("the test code fails: SyntaxError")
    assert found["elsewhere", "solution"] == "unknown grader 'nope' (known: sandbox)"


def test_check_on_an_imported_legacy_pack_names_what_cannot_run(
    sandbox: SandboxGrader, tmp_path: Path
) -> None:
    from eduverse_core.packs import load_pack

    import_legacy(FIXTURES / "legacy" / "scenario.json", tmp_path / "legacy")
    report = check_pack(load_pack(tmp_path / "legacy"), lookup(sandbox), locales=["ko"])
    problems = {(f.cycle, f.check) for f in report.failures}
    assert ("w01-c01", "solution") in problems  # no reference solution was imported
    assert ("w02-c01", "test") in problems  # the legacy test does not compile


# -- the commands ---------------------------------------------------------------------------
def test_pack_check_json_and_exit_code(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(yaml.safe_dump(make_pack(good_cycle(), broken_cycle())), encoding="utf-8")
    result = run("pack", "check", str(path), "--json", "--jobs", "3", "--locale", "en")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert (report["cycles"], report["checks"]) == (2, 15)
    assert len(report["failures"]) == 6
    assert set(report["failures"][0]) == {"week", "cycle", "track", "check", "detail"}
    text = run("pack", "check", str(path), "--locale", "en")
    assert text.exit_code == 1
    assert "week 1 broken [beginner] solution: expected passed, got failed: print hello" in (
        text.stdout
    )
    assert text.stderr.splitlines()[-1] == "2 cycles, 15 checks, 6 failures"


def test_grade_prints_the_outcome_and_exits_0_on_a_pass(pack_file: Path, tmp_path: Path) -> None:
    code = tmp_path / "main.py"
    code.write_text("print('hello')\n", encoding="utf-8")
    result = run("grade", "--pack", str(pack_file), "--week", "1", "--cycle", "greet", str(code))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("passed (")
    assert "--- output ---\nhello\n" in result.stdout


def test_grade_json_has_the_documented_shape(pack_file: Path, tmp_path: Path) -> None:
    code = tmp_path / "main.py"
    code.write_text("print('bye')\n", encoding="utf-8")
    args = ["--pack", str(pack_file), "--week", "1", "--cycle", "1", "--track", "advanced"]
    result = run("grade", *args, "--locale", "ko", "--json", str(code))
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert set(data) == {"outcome", "message", "stdout", "duration_ms", "feedback"}
    assert (data["outcome"], data["message"], data["stdout"]) == (
        "failed",
        "hello를 출력하세요",
        "bye\n",
    )
    assert data["feedback"] == {
        "character": "sena",
        "title": "제목",
        "subtitle": "",
        "content": "hello를 출력하세요",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "9", "--cycle", "1"], "error: pack 'cli-pack' has no week 9"),
        (["--week", "1", "--cycle", "nope"], "error: week 1 has no cycle 'nope'"),
        (["--week", "1", "--cycle", "2"], "error: week 1 has no cycle 2"),
        (["--week", "1", "--cycle", "1", "--track", "expert"], "error: cycle 'greet' has no track"),
    ],
)
def test_grade_usage_errors_are_one_line_and_exit_2(
    pack_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    code = tmp_path / "main.py"
    code.write_text("print('hello')\n", encoding="utf-8")
    result = run("grade", "--pack", str(pack_file), *args, str(code))
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(message)


def test_grade_missing_file_or_pack_is_a_usage_error(pack_file: Path) -> None:
    missing = run("grade", "--pack", str(pack_file), "--week", "1", "--cycle", "1", "nope.py")
    assert (missing.exit_code, missing.stderr) == (2, "error: file 'nope.py' not found\n")
    unknown = run("grade", "--pack", "no-such-pack", "--week", "1", "--cycle", "1", "x.py")
    assert unknown.exit_code == 2
    assert unknown.stderr.startswith("error: unknown scenario pack 'no-such-pack'")


def test_grade_works_on_a_pack_validate_still_faults_with_a_warning(tmp_path: Path) -> None:
    import_legacy(FIXTURES / "legacy" / "scenario.json", tmp_path / "legacy")
    code = tmp_path / "main.py"
    code.write_text("print('hello')\n", encoding="utf-8")
    args = ["--pack", str(tmp_path / "legacy"), "--week", "1", "--cycle", "1", str(code)]
    result = run("grade", *args)
    assert result.exit_code in (0, 1)
    assert result.stdout.split(" ")[0] in ("passed", "failed", "error")
    assert "validation problem(s)" in result.stderr and "grading anyway" in result.stderr
