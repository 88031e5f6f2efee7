"""Submitting code: the server grades, records, aggregates and advances — in one transaction.

Nothing here trusts the browser: the verdict comes from the registered grader, and progress
moves only on a graded pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import events
from ..grading.base import GradeRequest, GradeResult
from ..grading.cycles import grade_cycle
from ..grading.feedback import RenderedScene
from ..models import Cycle, Hint, Outcome, Progress, ScenarioPack, SubmissionLog, User
from .base import Service, check_code_size, new_id
from .progress import advanced_past, following, locate


def attempt_key(cycle_id: str, track: str) -> str:
    return f"{cycle_id}:{track}"


def submission_counters(log: SubmissionLog) -> dict[str, dict[str, int]]:
    """The aggregates one graded submission adds, per class and per learner.

    Analytics read only these counters, so their cost does not grow with the number of logs.
    """
    passed = 1 if log.outcome is Outcome.PASSED else 0
    mine = {
        "submissions": 1,
        "passed": passed,
        f"week:{log.week}:submissions": 1,
        f"week:{log.week}:passed": passed,
    }
    deltas = {f"user:{log.student_id}:{log.pack_id}": mine}
    if log.class_id is not None:
        deltas[f"class:{log.class_id}"] = {
            **mine,
            f"cycle:{log.week}:{log.cycle}:submissions": 1,
            f"cycle:{log.week}:{log.cycle}:failures": 1 - passed,
        }
    return deltas


def unlocked_hints(cycle: Cycle, track: str, progress: Progress) -> list[Hint]:
    """Hints whose failure threshold the learner has reached on this cycle and track."""
    content = cycle.track(track)
    failures = progress.failed_attempts.get(attempt_key(cycle.id, track), 0)
    return [h for h in content.hints if h.after_failures <= failures] if content else []


@dataclass(frozen=True)
class SubmissionResult:
    """What the learner learns from a submission."""

    pack: ScenarioPack
    cycle: Cycle
    track: str
    grade: GradeResult
    feedback: RenderedScene
    progress: Progress
    hints: list[Hint] = field(default_factory=list)
    log: SubmissionLog | None = None  # None when the grader failed (not an attempt)

    @property
    def counted(self) -> bool:
        return self.log is not None

    @property
    def next_cycle(self) -> tuple[int, str] | None:
        """Where the learner goes now: (week, cycle id). The same cycle until it passes; after
        a pass the one that follows it — also on a revisit, which replays the course in order
        (it is reached either way). None after the last cycle: the finale."""
        found = self.pack.find_cycle(self.cycle.id)
        assert found is not None  # the cycle came from this pack
        week = found[0].number
        return (
            following(self.pack, week, self.cycle.id)
            if self.grade.passed
            else (week, self.cycle.id)
        )


class SubmissionService(Service):
    """Grading submissions and running code without tests."""

    def hints(
        self, actor: User, pack_id: str, week: int, cycle: str | int, track: str
    ) -> tuple[ScenarioPack, list[Hint]]:
        """The hints the actor has unlocked on a reached cycle and track (after a reload the
        page shows them again without a new submission)."""
        pack = self.pack(pack_id)
        _, _, found = locate(pack, week, cycle)
        self.ev.progress.ensure_reachable(actor, pack.id, week, found.id)
        return pack, unlocked_hints(found, track, self.ev.progress.get(actor, pack.id))

    def submit(
        self,
        actor: User,
        pack_id: str,
        week: int,
        cycle: str | int,
        track: str,
        code: str,
        locale: str | None = None,
    ) -> SubmissionResult:
        """Grade ``code`` for a cycle the actor has reached; record it and move on on a pass."""
        pack = self.pack(pack_id)
        _, _, found = locate(pack, week, cycle)
        self.ev.progress.ensure_reachable(actor, pack.id, week, found.id)
        check_code_size(code)
        graded = grade_cycle(
            self.ev.grader, pack, found, track, code, locale or pack.default_locale, actor.name
        )
        grade, feedback = graded.result, graded.feedback
        if not grade.outcome.counts_as_attempt:
            progress = self.ev.progress.get(actor, pack.id)
            return SubmissionResult(pack, found, track, grade, feedback, progress, [])
        membership = self.storage.get_membership(actor.id)
        log = SubmissionLog(
            id=new_id(),
            student_id=actor.id,
            class_id=membership.class_id if membership else None,
            pack_id=pack.id,
            week=week,
            cycle=found.id,
            track=track,
            outcome=grade.outcome,
            message=grade.message,
            code=code,
            duration_ms=grade.duration_ms,
        )

        def mutate(progress: Progress) -> Progress:
            if grade.passed:
                return advanced_past(pack, progress, week, found.id)
            key = attempt_key(found.id, track)
            failed = {**progress.failed_attempts, key: progress.failed_attempts.get(key, 0) + 1}
            return progress.model_copy(update={"failed_attempts": failed, "last_active": log.at})

        progress = self.storage.record_submission(log, submission_counters(log), mutate)
        self.ev.track(
            events.SUBMISSION_GRADED,
            actor.id,
            pack_id=pack.id,
            week=week,
            cycle=found.id,
            track=track,
            outcome=grade.outcome.value,
            class_id=log.class_id,
        )
        if grade.passed:
            self.ev.track(events.CYCLE_COMPLETED, actor.id, pack_id=pack.id, cycle=found.id)
        hints = unlocked_hints(found, track, progress)
        return SubmissionResult(pack, found, track, grade, feedback, progress, hints, log)

    def run(self, actor: User, code: str, locale: str = "en") -> GradeResult:
        """Run code without tests (for browsers without Pyodide); nothing is recorded."""
        check_code_size(code)
        return self.ev.grader().grade(GradeRequest(code=code, test_code="", locale=locale))
