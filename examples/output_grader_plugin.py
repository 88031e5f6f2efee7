"""A one-file plugin that registers a second grader, ``output``: it runs the learner's program
and compares what it printed with the cycle's ``expected_stdout``.

Use it by putting this file in the plugins folder (``EDUVERSE_PLUGINS_DIR``) and naming it in a
cycle::

    grader:
      name: output
      options: {expected_stdout: "Hello, LogiCore\\n"}

It shows the grader hook; it is not a second sandbox. Learner code is never run in the server:
the plugin hands the program to a sandbox grader (``test_code=""``, "just run it") and judges
only the output it gets back. Lines are compared with the contract's ``norm`` (line endings,
trailing and repeated spaces do not matter).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from eduverse_core import Settings, hookimpl
from eduverse_core.grading.base import Grader, GradeRequest, GradeResult, GraderFactory
from eduverse_core.grading.helpers import norm
from eduverse_core.grading.sandbox import SandboxGrader
from eduverse_core.models import Outcome

__version__ = "1.0"


class OutputGrader:
    """Passes when the program runs and prints ``options["expected_stdout"]``."""

    def __init__(self, runner: Grader) -> None:
        self._runner = runner

    def grade(self, request: GradeRequest) -> GradeResult:
        expected = request.options.get("expected_stdout")
        if not isinstance(expected, str):
            # The pack's mistake, not the learner's: never counted as an attempt.
            return GradeResult(Outcome.GRADER_ERROR, "the cycle sets no expected_stdout")
        run = self._runner.grade(replace(request, test_code=""))
        if run.outcome is not Outcome.PASSED:
            return run  # the program raised, timed out or hit a limit: say so as it is
        if norm(run.stdout) == norm(expected):
            return run
        ko = request.locale == "ko"
        text = "출력이 기대와 달라요." if ko else "The output is not what was expected."
        return replace(run, outcome=Outcome.FAILED, message=text)

    def close(self) -> None:
        self._runner.close()


def _factory(settings: Settings) -> OutputGrader:
    # A pool of one worker of its own: the factory gets settings, not the engine's sandbox.
    return OutputGrader(SandboxGrader(workers=1))


@hookimpl
def eduverse_register_graders(register: Callable[[str, GraderFactory], None]) -> None:
    register("output", _factory)
