"""The example one-file plugin registers a second grader, ``output``, through the hook."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from eduverse_core import Eduverse
from eduverse_core.grading.base import GradeRequest
from eduverse_core.models import Outcome

from fakes import test_settings

PLUGIN = Path(__file__).parents[1] / "examples" / "output_grader_plugin.py"


@pytest.fixture(scope="module")
def ev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Eduverse]:
    folder = tmp_path_factory.mktemp("plugins")
    shutil.copy(PLUGIN, folder / PLUGIN.name)  # the plugins folder loads every *.py in it
    with Eduverse(test_settings(plugins_dir=folder)) as instance:
        yield instance


def expect(code: str, expected: str | None = "Hello, LogiCore\n") -> GradeRequest:
    options = {} if expected is None else {"expected_stdout": expected}
    return GradeRequest(code, options=options)


def test_the_output_grader_is_registered_by_the_example_plugin(ev: Eduverse) -> None:
    assert "output" in ev.grader_factories
    assert {"sandbox", "output"} <= set(ev.grader_factories.names())


def test_matching_output_passes_without_whitespace_pedantry(ev: Eduverse) -> None:
    result = ev.grader("output").grade(expect("print('Hello,   LogiCore  ')"))
    assert (result.outcome, result.stdout) == (Outcome.PASSED, "Hello,   LogiCore  \n")


def test_other_output_fails(ev: Eduverse) -> None:
    result = ev.grader("output").grade(expect("print('Hello')"))
    assert (result.outcome, result.message) == (
        Outcome.FAILED,
        "The output is not what was expected.",
    )


def test_code_that_raises_is_an_error_from_the_sandbox(ev: Eduverse) -> None:
    result = ev.grader("output").grade(expect("print(1 / 0)"))
    assert result.outcome is Outcome.ERROR
    assert result.message == "ZeroDivisionError: division by zero (line 1)"


def test_a_cycle_without_expected_output_is_a_grader_error(ev: Eduverse) -> None:
    assert ev.grader("output").grade(expect("print(1)", None)).outcome is Outcome.GRADER_ERROR
