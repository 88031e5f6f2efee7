"""A learner's way through a pack: where they are, what they may open, and the small markers
the scene flow needs (intros seen, pause state, live code).

Only this module decides how progress advances; the browser never reports a pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import NotFound, PermissionDenied
from ..models import Cycle, PauseState, Progress, ScenarioPack, User, Week, utcnow
from .base import Service, check_code_size

ONLINE_WINDOW = timedelta(minutes=5)


# -- pure course navigation -------------------------------------------------------------------
def locate_week(pack: ScenarioPack, week: int) -> Week:
    """Week ``week`` of ``pack``; ``NotFound`` naming both otherwise."""
    found = pack.week(week)
    if found is None:
        raise NotFound(f"pack {pack.id!r} has no week {week}", code="week_not_found")
    return found


def locate(pack: ScenarioPack, week: int, cycle: str | int) -> tuple[Week, int, Cycle]:
    """(week, 1-based position, cycle) for a week number and a cycle id or 1-based position."""
    found = locate_week(pack, week)
    if isinstance(cycle, int) or (isinstance(cycle, str) and cycle.isdigit()):
        position = int(cycle)
        if not 1 <= position <= len(found.cycles):
            raise NotFound(f"week {week} has no cycle {position}", code="cycle_not_found")
        return found, position, found.cycles[position - 1]
    for position, candidate in enumerate(found.cycles, start=1):
        if candidate.id == cycle:
            return found, position, candidate
    raise NotFound(f"week {week} has no cycle {cycle!r}", code="cycle_not_found")


def order_index(pack: ScenarioPack, week: int, position: int) -> int:
    """The 0-based index of (week, position) in course order."""
    index = 0
    for w in sorted(pack.weeks, key=lambda w: w.number):
        if w.number == week:
            return index + min(position, len(w.cycles)) - 1
        index += len(w.cycles)
    return index


def is_reached(pack: ScenarioPack, progress: Progress, week: int, cycle_id: str) -> bool:
    """Whether the learner may open this cycle: any cycle up to the current one, or done."""
    if progress.finished or cycle_id in progress.completed:
        return True
    _, position, _ = locate(pack, week, cycle_id)
    return order_index(pack, week, position) <= order_index(pack, progress.week, progress.cycle)


def advanced_past(pack: ScenarioPack, progress: Progress, week: int, cycle_id: str) -> Progress:
    """Progress after passing ``cycle_id``: it is completed, and when it was the current cycle
    the learner moves to the next one (or finishes the pack). Revisits never move them back."""
    completed = (
        progress.completed
        if cycle_id in progress.completed
        else [
            *progress.completed,
            cycle_id,
        ]
    )
    update: dict[str, object] = {"completed": completed, "last_active": utcnow()}
    _, position, _ = locate(pack, week, cycle_id)
    here = order_index(pack, week, position)
    if here >= order_index(pack, progress.week, progress.cycle) and not progress.finished:
        order = pack.cycle_order()
        if here + 1 < len(order):
            next_week, next_cycle = order[here + 1]
            _, next_position, _ = locate(pack, next_week, next_cycle)
            update.update(week=next_week, cycle=next_position)
        else:
            update["finished"] = True
    return progress.model_copy(update=update)


@dataclass(frozen=True)
class Position:
    """A place in the course: week number, cycle id and the cycle's 1-based position."""

    week: int
    cycle_id: str
    position: int


def current_position(pack: ScenarioPack, progress: Progress) -> Position:
    """Where the learner stands. Clamped to the pack, so progress recorded against an older
    version of a pack (fewer weeks or cycles) still points at a real cycle."""
    week = pack.week(progress.week)
    if week is None:  # past the end of a pack that shrank: its last cycle
        week = max(pack.weeks, key=lambda w: w.number)
        position = len(week.cycles)
    else:
        position = min(progress.cycle, len(week.cycles))
    return Position(week.number, week.cycles[position - 1].id, position)


def following(pack: ScenarioPack, week: int, cycle_id: str) -> tuple[int, str] | None:
    """The (week, cycle id) after this cycle in course order; None after the last one."""
    order = pack.cycle_order()
    index = order.index((week, cycle_id))
    return order[index + 1] if index + 1 < len(order) else None


def is_online(progress: Progress | None, joined_at: datetime | None = None) -> bool:
    """Active in the last five minutes: a progress write, or joining the class (``joined_at``,
    done in the app: a learner who just joined is online before their first step)."""
    moments = [t for t in (progress.last_active if progress else None, joined_at) if t]
    return bool(moments) and utcnow() - max(moments) <= ONLINE_WINDOW


class ProgressService(Service):
    """Reading and marking a learner's own progress."""

    def get(self, actor: User, pack_id: str | None = None) -> Progress:
        """The actor's progress (a fresh start when they have none yet); ``pack_id`` None means
        the learner's own pack (see ``learner_pack``), as in every method here."""
        pack = self.learner_pack(actor, pack_id)
        stored = self.storage.get_progress(actor.id, pack.id)
        return stored or Progress(user_id=actor.id, pack_id=pack.id)

    def ensure_reachable(self, actor: User, pack_id: str, week: int, cycle: str | int) -> Cycle:
        """The cycle, if the actor has reached it; ``PermissionDenied`` when it lies ahead."""
        pack = self.pack(pack_id)
        _, _, found = locate(pack, week, cycle)
        if not is_reached(pack, self.get(actor, pack.id), week, found.id):
            raise PermissionDenied(
                f"cycle {found.id!r} is not unlocked yet: finish the cycles before it",
                code="cycle_locked",
            )
        return found

    def mark_intro_seen(self, actor: User, pack_id: str | None, week: int) -> Progress:
        """Record that the week's intro was shown (it is shown once per week)."""
        pack = self.learner_pack(actor, pack_id)
        locate_week(pack, week)
        return self._update(
            actor,
            pack.id,
            lambda p: (
                p
                if week in p.intros_seen
                else p.model_copy(update={"intros_seen": sorted({*p.intros_seen, week})})
            ),
        )

    def mark_coding_intro_seen(self, actor: User, pack_id: str | None) -> Progress:
        return self._update(
            actor, pack_id, lambda p: p.model_copy(update={"coding_intro_seen": True})
        )

    def set_pause(self, actor: User, pack_id: str | None, state: PauseState) -> Progress:
        """Remember where the learner paused (the cycle must be reached). A cycle given by
        position is stored by id, so the pause survives cycles being added before it."""
        pack = self.learner_pack(actor, pack_id)
        found = self.ensure_reachable(actor, pack.id, state.week, state.cycle)
        paused = state.model_copy(update={"cycle": found.id})
        return self._update(actor, pack.id, lambda p: p.model_copy(update={"pause_state": paused}))

    def clear_pause(self, actor: User, pack_id: str | None) -> Progress:
        return self._update(actor, pack_id, lambda p: p.model_copy(update={"pause_state": None}))

    def save_live_code(
        self, actor: User, pack_id: str | None, code: str, cycle_id: str | None = None
    ) -> Progress:
        """Store the editor's latest text so the instructor can watch it (≤ 64 KiB)."""
        check_code_size(code, "live code")
        pack = self.learner_pack(actor, pack_id)
        if cycle_id is not None and pack.find_cycle(cycle_id) is None:
            raise NotFound(f"pack {pack.id!r} has no cycle {cycle_id!r}", code="cycle_not_found")
        return self._update(
            actor,
            pack.id,
            lambda p: p.model_copy(update={"live_code": code, "live_code_cycle": cycle_id}),
        )

    def _update(
        self, actor: User, pack_id: str | None, change: Callable[[Progress], Progress]
    ) -> Progress:
        pack = self.learner_pack(actor, pack_id)

        def mutate(progress: Progress) -> Progress:
            return change(progress).model_copy(update={"last_active": utcnow()})

        return self.storage.update_progress(actor.id, pack.id, mutate)
