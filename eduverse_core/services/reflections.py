"""Weekly reflections: self-ratings per cycle and three free texts; one per student and week."""

from __future__ import annotations

from .. import events
from ..errors import ValidationFailed
from ..models import Rating, Reflection, ReflectionFeedback, User
from ..storage import CounterDeltas, counters_total
from .base import Service
from .progress import locate_week


def reflection_counters(reflection: Reflection, sign: int = 1) -> dict[str, dict[str, int]]:
    """The class aggregates one reflection contributes (sums and counts per cycle)."""
    if reflection.class_id is None:
        return {}
    names: dict[str, int] = {}
    for cycle_id, rating in reflection.ratings.items():
        prefix = f"refl:{reflection.week}:{cycle_id}"
        names[f"{prefix}:comprehension"] = sign * rating.comprehension
        names[f"{prefix}:application"] = sign * rating.application
        names[f"{prefix}:count"] = sign
    return {f"class:{reflection.class_id}": names}


def replacement_deltas(previous: Reflection | None, new: Reflection) -> CounterDeltas:
    """Counters after replacing ``previous`` (possibly in another class) by ``new``."""
    removed = reflection_counters(previous, -1) if previous is not None else {}
    return counters_total(removed, reflection_counters(new))


class ReflectionService(Service):
    """Submitting and reading reflections."""

    def submit(
        self,
        actor: User,
        pack_id: str | None,
        week: int,
        ratings: dict[str, Rating],
        feedback: ReflectionFeedback,
    ) -> Reflection:
        """Store the reflection (replacing an earlier one for the same week); ``pack_id``
        None means the learner's own pack (see ``learner_pack``)."""
        pack = self.learner_pack(actor, pack_id)
        found = locate_week(pack, week)
        week_cycles = {c.id for c in found.cycles}
        unknown = sorted(set(ratings) - week_cycles)
        if unknown:
            raise ValidationFailed(
                f"week {week} has no cycle {', '.join(map(repr, unknown))}",
                code="cycle_not_found",
            )
        membership = self.storage.get_membership(actor.id)
        reflection = Reflection(
            student_id=actor.id,
            class_id=membership.class_id if membership else None,
            pack_id=pack.id,
            week=week,
            ratings=ratings,
            feedback=feedback,
        )
        self.storage.save_reflection(reflection, replacement_deltas)
        self.ev.track(events.REFLECTION_SUBMITTED, actor.id, week=week, pack_id=pack.id)
        return reflection

    def mine(self, actor: User, pack_id: str | None = None) -> list[Reflection]:
        """The actor's reflections, by week."""
        pack = self.learner_pack(actor, pack_id)
        return self.storage.list_reflections(student_id=actor.id, pack_id=pack.id)
