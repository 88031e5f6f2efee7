"""``eduverse pack check``: run every piece of code a pack contains against its own tests.

For every cycle and track: the test code exists and compiles, the reference solution passes,
the starter code does not, and each known wrong answer gets its expected outcome (and message
fragment); for every lecture, the sandbox code and each section's example run without error.
All of it is graded by the cycle's own grader (the sandbox by default), exactly as a learner's
submission would be. Failures are collected, never raised one at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..errors import NotFound
from ..models import Cycle, Outcome, ScenarioPack, TrackContent, Week, localize
from .base import Grader, GradeRequest, GradeResult
from .cycles import cycle_request

GraderLookup = Callable[[str], Grader]


@dataclass(frozen=True)
class CheckFailure:
    """One check that did not hold. ``track`` is None for a lecture's code."""

    week: int
    cycle: str
    track: str | None
    check: str
    detail: str

    def __str__(self) -> str:
        where = f"week {self.week} {self.cycle}" + (f" [{self.track}]" if self.track else "")
        return f"{where} {self.check}: {self.detail}"


@dataclass
class CheckReport:
    """Everything ``pack check`` found."""

    cycles: int = 0
    checks: int = 0
    failures: list[CheckFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "cycles": self.cycles,
            "checks": self.checks,
            "failures": [asdict(f) for f in self.failures],
        }


@dataclass(frozen=True)
class _Check:
    """One check to run: a request to grade and how to judge its result."""

    week: int
    cycle: str
    track: str | None
    name: str
    grader: str
    request: GradeRequest | None  # None: the check failed before grading (``problem``)
    judge: Callable[[GradeResult], str | None] = lambda result: None
    problem: str | None = None


def _describe(result: GradeResult) -> str:
    return f"{result.outcome.value}" + (f": {result.message}" if result.message else "")


def _expect_passed(result: GradeResult) -> str | None:
    return None if result.passed else f"expected passed, got {_describe(result)}"


def _expect_not_passed(result: GradeResult) -> str | None:
    return "the starter code already passes the tests" if result.passed else None


def _expect_ran(result: GradeResult) -> str | None:
    return None if result.passed else f"does not run: {_describe(result)}"


def _expect(outcome: str, fragment: str | None) -> Callable[[GradeResult], str | None]:
    def judge(result: GradeResult) -> str | None:
        if result.outcome.value != outcome:
            return f"expected {outcome}, got {_describe(result)}"
        if fragment and fragment not in result.message:
            return f"expected a message containing {fragment!r}, got {result.message!r}"
        return None

    return judge


def _compiles(source: str, filename: str) -> str | None:
    try:
        compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        return f"{type(exc).__name__}: {getattr(exc, 'msg', exc)}{where}"
    return None


def _track_checks(
    week: Week, cycle: Cycle, name: str, content: TrackContent, locale: str, fallback: str
) -> Iterator[_Check]:
    def check(
        what: str,
        request: GradeRequest | None,
        judge: Callable[[GradeResult], str | None] = _expect_passed,
        problem: str | None = None,
    ) -> _Check:
        return _Check(week.number, cycle.id, name, what, cycle.grader.name, request, judge, problem)

    test = cycle.test_for(name)
    if test is None or not test.strip():
        yield check("test", None, problem="there is no test code to run")
        return
    problem = _compiles(test, "<tests>")
    if problem is not None:
        yield check("test", None, problem=f"the test code fails: {problem}")
        return

    def request(code: str) -> GradeRequest:
        return cycle_request(cycle, name, code, locale)  # exactly what a learner's gets

    if not content.solution.strip():
        yield check("solution", None, problem="there is no reference solution")
    else:
        yield check("solution", request(content.solution), _expect_passed)
    yield check("starter", request(content.starter_code), _expect_not_passed)
    for index, wrong in enumerate(content.wrong_answers):
        fragment = None
        if wrong.message_contains:
            fragment = localize(wrong.message_contains, locale, fallback)
        yield check(f"wrong_answers[{index}]", request(wrong.code), _expect(wrong.expect, fragment))


def _lecture_checks(week: Week, cycle: Cycle, locale: str) -> Iterator[_Check]:
    codes = [("lecture.sandbox_code", cycle.lecture.sandbox_code)]
    codes += [(f"lecture.sections[{i}].code", s.code) for i, s in enumerate(cycle.lecture.sections)]
    for name, code in codes:
        if code.strip():
            request = GradeRequest(code, "", cycle.filename, locale)
            yield _Check(week.number, cycle.id, None, name, "sandbox", request, _expect_ran)


def plan(pack: ScenarioPack, locales: Sequence[str] | None = None) -> tuple[int, list[_Check]]:
    """(number of cycles, every check) for ``pack``, in course order. Track checks run once
    per locale (default: every locale of the pack), because test messages and the wrong
    answers' message fragments differ by locale; a check's name then ends with `` [locale]``."""
    chosen = list(locales or pack.locales)
    checks: list[_Check] = []
    cycles = 0
    for week in sorted(pack.weeks, key=lambda w: w.number):
        for cycle in week.cycles:
            cycles += 1
            for locale in chosen:
                for name, content in cycle.tracks().items():
                    for item in _track_checks(
                        week, cycle, name, content, locale, pack.default_locale
                    ):
                        suffix = f" [{locale}]" if len(chosen) > 1 else ""
                        checks.append(replace(item, name=item.name + suffix))
            checks += _lecture_checks(week, cycle, chosen[0])
    return cycles, checks


def check_pack(
    pack: ScenarioPack,
    graders: GraderLookup,
    *,
    jobs: int = 2,
    locales: Sequence[str] | None = None,
    on_progress: Callable[[], None] | None = None,
) -> CheckReport:
    """Run every check of ``pack`` (``jobs`` at a time) and report the failures in course
    order. ``graders`` finds a grader by name; an unknown one fails that cycle's checks."""
    cycles, checks = plan(pack, locales)

    def run(check: _Check) -> str | None:
        try:
            if check.request is None:
                return check.problem
            try:
                grader = graders(check.grader)
            except NotFound as exc:
                return exc.message
            result = grader.grade(check.request)
            if result.outcome is Outcome.GRADER_ERROR:
                return f"the grader failed: {result.message}"
            return check.judge(result)
        finally:
            if on_progress is not None:
                on_progress()

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        details = list(pool.map(run, checks))
    failures = [
        CheckFailure(c.week, c.cycle, c.track, c.name, detail)
        for c, detail in zip(checks, details, strict=True)
        if detail is not None
    ]
    return CheckReport(cycles=cycles, checks=len(checks), failures=failures)
