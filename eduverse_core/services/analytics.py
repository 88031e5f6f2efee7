"""Class analytics and personal growth, served from aggregates.

Every figure here comes from counters maintained when a submission or reflection is recorded
(see ``submission_counters`` and ``reflection_counters``), from progress records and from
reflections — all bounded by the class size and the pack, never by the number of logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..models import ScenarioPack, User, localize
from .base import Service
from .progress import is_online


def rate(passed: int, total: int) -> float | None:
    """Success rate in [0, 1], or None when there was nothing to rate."""
    return round(passed / total, 4) if total else None


@dataclass(frozen=True)
class WeekRate:
    week: int
    submissions: int
    passed: int
    success_rate: float | None


@dataclass(frozen=True)
class FailingCycle:
    week: int
    cycle: str
    title: str
    submissions: int
    failures: int


@dataclass(frozen=True)
class StudentRow:
    user_id: str
    name: str
    email: str
    week: int
    cycle: int
    completed: int
    last_active: datetime | None
    online: bool


@dataclass(frozen=True)
class ReflectionAverage:
    week: int
    cycle: str
    comprehension: float
    application: float
    count: int


@dataclass(frozen=True)
class WeekFeedback:
    week: int
    meaningful: list[str] = field(default_factory=list)
    difficult: list[str] = field(default_factory=list)
    curious: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ClassAnalytics:
    class_id: str
    submissions: int
    passed: int
    success_rate: float | None
    weeks: list[WeekRate]
    most_failed: list[FailingCycle]
    students: list[StudentRow]
    reflections: list[ReflectionAverage]
    feedback: list[WeekFeedback]


@dataclass(frozen=True)
class GrowthWeek:
    week: int
    submissions: int
    passed: int
    success_rate: float | None
    comprehension: float | None
    application: float | None
    feedback: dict[str, str] | None


@dataclass(frozen=True)
class Growth:
    user_id: str
    pack_id: str
    submissions: int
    passed: int
    completed: int
    weeks: list[GrowthWeek]


def week_rates(pack: ScenarioPack, counters: dict[str, int]) -> list[WeekRate]:
    rows = []
    for week in pack.weeks:
        total = counters.get(f"week:{week.number}:submissions", 0)
        passed = counters.get(f"week:{week.number}:passed", 0)
        rows.append(WeekRate(week.number, total, passed, rate(passed, total)))
    return rows


def most_failed(pack: ScenarioPack, counters: dict[str, int], limit: int = 5) -> list[FailingCycle]:
    rows = []
    for week in pack.weeks:
        for cycle in week.cycles:
            failures = counters.get(f"cycle:{week.number}:{cycle.id}:failures", 0)
            if failures:
                total = counters.get(f"cycle:{week.number}:{cycle.id}:submissions", 0)
                title = localize(cycle.title, pack.default_locale)
                rows.append(FailingCycle(week.number, cycle.id, title, total, failures))
    rows.sort(key=lambda r: (-r.failures, r.week, r.cycle))
    return rows[:limit]


def reflection_averages(pack: ScenarioPack, counters: dict[str, int]) -> list[ReflectionAverage]:
    rows = []
    for week in pack.weeks:
        for cycle in week.cycles:
            prefix = f"refl:{week.number}:{cycle.id}"
            count = counters.get(f"{prefix}:count", 0)
            if count > 0:
                rows.append(
                    ReflectionAverage(
                        week.number,
                        cycle.id,
                        round(counters.get(f"{prefix}:comprehension", 0) / count, 2),
                        round(counters.get(f"{prefix}:application", 0) / count, 2),
                        count,
                    )
                )
    return rows


class AnalyticsService(Service):
    """Reports for instructors and learners."""

    def class_report(self, actor: User, class_id: str) -> ClassAnalytics:
        """The class's figures, for its instructor."""
        self.require_role(actor, "instructor")
        classroom = self.owned_classroom(actor, class_id)
        pack = self.pack(classroom.pack_id)
        counters = self.storage.get_counters(f"class:{class_id}")
        total, passed = counters.get("submissions", 0), counters.get("passed", 0)
        return ClassAnalytics(
            class_id=class_id,
            submissions=total,
            passed=passed,
            success_rate=rate(passed, total),
            weeks=week_rates(pack, counters),
            most_failed=most_failed(pack, counters),
            students=self._students(actor, class_id),
            reflections=reflection_averages(pack, counters),
            feedback=self._feedback(class_id, pack.id),
        )

    def growth(self, actor: User, pack_id: str | None = None) -> Growth:
        """The actor's own figures and reflections over the weeks."""
        pack = self.learner_pack(actor, pack_id)
        counters = self.storage.get_counters(f"user:{actor.id}:{pack.id}")
        reflections = {
            r.week: r for r in self.storage.list_reflections(student_id=actor.id, pack_id=pack.id)
        }
        weeks = []
        for row in week_rates(pack, counters):
            r = reflections.get(row.week)
            ratings = list(r.ratings.values()) if r else []
            weeks.append(
                GrowthWeek(
                    row.week,
                    row.submissions,
                    row.passed,
                    row.success_rate,
                    _mean([x.comprehension for x in ratings]),
                    _mean([x.application for x in ratings]),
                    r.feedback.model_dump() if r else None,
                )
            )
        progress = self.storage.get_progress(actor.id, pack.id)
        return Growth(
            actor.id,
            pack.id,
            counters.get("submissions", 0),
            counters.get("passed", 0),
            len(progress.completed) if progress else 0,
            weeks,
        )

    def _students(self, actor: User, class_id: str) -> list[StudentRow]:
        rows = []
        for member in self.ev.classes.members(actor, class_id):
            p = member.progress
            rows.append(
                StudentRow(
                    member.user.id,
                    member.user.name,
                    member.user.email,
                    p.week if p else 1,
                    p.cycle if p else 1,
                    len(p.completed) if p else 0,
                    p.last_active if p else None,
                    is_online(p, member.membership.joined_at),
                )
            )
        return rows

    def _feedback(self, class_id: str, pack_id: str) -> list[WeekFeedback]:
        by_week: dict[int, WeekFeedback] = {}
        for r in self.storage.list_reflections(class_id=class_id, pack_id=pack_id):
            row = by_week.setdefault(r.week, WeekFeedback(r.week))
            for name in ("meaningful", "difficult", "curious"):
                text = getattr(r.feedback, name).strip()
                if text:
                    getattr(row, name).append(text)
        return [by_week[w] for w in sorted(by_week)]


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None
