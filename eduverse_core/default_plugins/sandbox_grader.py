"""Registers the sandbox grader (``sandbox``): every submission in its own limited process.

See docs/grading.md for the contract and SECURITY.md for what the sandbox isolates.
"""

from __future__ import annotations

from collections.abc import Callable

from ..grading.base import GraderFactory
from ..grading.sandbox import SandboxGrader
from ..plugins import hookimpl


@hookimpl
def eduverse_register_graders(register: Callable[[str, GraderFactory], None]) -> None:
    # The factory starts no process: workers start on the first grade (or ``warm()``), so
    # commands and tests that never grade pay nothing.
    register("sandbox", SandboxGrader.from_settings)
