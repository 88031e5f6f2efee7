"""The bundled LogiCore Tech course: complete, valid, and every answer verified by the grader."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eduverse_core.models import ScenarioPack, localize
from eduverse_core.packs import load_pack
from eduverse_core.resources import bundled_dir

COURSE = bundled_dir("scenario_packs") / "logicore"
EDUVERSE = str(Path(sys.executable).with_name("eduverse"))


@pytest.fixture(scope="module")
def course() -> ScenarioPack:
    return load_pack(COURSE)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EDUVERSE, *args], capture_output=True, text=True, check=False)


def test_pack_validate_passes() -> None:
    result = run("pack", "validate", str(COURSE), "--json")
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout) == {"valid": True, "problems": []}


@pytest.mark.slow
def test_pack_check_passes_in_every_locale() -> None:
    result = run("pack", "check", str(COURSE), "--json")
    assert result.returncode == 0, result.stdout[-3000:]
    report = json.loads(result.stdout)
    assert report["failures"] == []
    assert report["cycles"] >= 60
    assert report["checks"] > 1000


def test_twelve_weeks_of_at_least_five_cycles(course: ScenarioPack) -> None:
    assert [w.number for w in course.weeks] == list(range(1, 13))
    assert all(len(w.cycles) >= 5 for w in course.weeks)
    assert sum(len(w.cycles) for w in course.weeks) >= 60


def test_locales_are_korean_first_and_english(course: ScenarioPack) -> None:
    assert course.locales == ["ko", "en"] and course.default_locale == "ko"


def test_every_cycle_has_both_tracks_hints_wrong_answers_and_a_full_lecture(
    course: ScenarioPack,
) -> None:
    for week in course.weeks:
        for cycle in week.cycles:
            assert set(cycle.tracks()) == {"beginner", "advanced"}, cycle.id
            assert len(cycle.lecture.sections) >= 3, cycle.id
            assert any(s.code.strip() for s in cycle.lecture.sections), cycle.id
            for name, track in cycle.tracks().items():
                assert len(track.hints) >= 2, (cycle.id, name)
                assert len(track.wrong_answers) >= 1, (cycle.id, name)
                assert cycle.test_for(name), (cycle.id, name)


def test_failure_feedback_shows_the_error_message_in_every_locale(course: ScenarioPack) -> None:
    for week in course.weeks:
        for cycle in week.cycles:
            for scene in (cycle.feedback.failure_logical, cycle.feedback.failure_runtime):
                for locale in course.locales:
                    assert "{{ERROR_MESSAGE}}" in localize(scene.content, locale), cycle.id


def test_cast_has_the_story_characters_with_portraits(course: ScenarioPack) -> None:
    ids = {c.id for c in course.cast}
    assert {"alex", "sena", "prof-kim"} <= ids
    for character in course.cast:
        assert character.portrait is not None
        svg = (COURSE / character.portrait).read_text(encoding="utf-8")
        assert svg.lstrip().startswith("<svg") and "<script" not in svg
    assert course.lecturer == "prof-kim"
    assert course.finale is not None and course.coding_intro is not None


def test_every_syntax_key_has_a_reference_entry_in_both_locales(course: ScenarioPack) -> None:
    used = {k for w in course.weeks for c in w.cycles for k in c.syntax_keys}
    assert used <= set(course.syntax)
    for entry in course.syntax.values():
        assert isinstance(entry.title, dict) and set(entry.title) == {"ko", "en"}


def test_pack_stats_shows_the_coverage() -> None:
    result = run("pack", "stats", str(COURSE), "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert len(stats["weeks"]) == 12
    assert all(w["cycles"] >= 5 for w in stats["weeks"])
