"""Class analytics cost must not grow with the number of submission logs.

Measures the p50 of ``analytics.class_report`` for one class of 30 learners at 1 000 and at
100 000 logs (SQLite file in a temp folder), and, in the same run, a naive report that scans
every log of the class. Target: p50 at 100 000 ≤ 1.5 × p50 at 1 000.

Run with ``make bench-core``. Prints numbers; asserts nothing (machines are noisy).
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eduverse_core import Eduverse, Settings
from eduverse_core.models import ClassDetails, Outcome, ScenarioPack, SubmissionLog, User
from eduverse_core.services.base import new_id
from eduverse_core.services.submissions import submission_counters

STUDENTS = 30
WEEKS = 12
CYCLES = 5
SIZES = (1_000, 100_000)
RUNS = 41


def synthetic_pack() -> ScenarioPack:
    scene = {"character": "a", "title": "t", "content": "c"}
    track = {"task": scene, "briefing": scene, "starter_code": "", "solution": "x=1"}
    cycle = {
        "title": "c",
        "test": "assert x",
        "lecture": {"title": "l", "key_takeaway": "k", "sections": []},
        "feedback": {"success": scene, "failure_logical": scene, "failure_runtime": scene},
        "beginner": track,
    }
    weeks = [
        {
            "number": w,
            "title": f"w{w}",
            "intro": scene,
            "cycles": [{**cycle, "id": f"w{w}-c{c}"} for c in range(1, CYCLES + 1)],
        }
        for w in range(1, WEEKS + 1)
    ]
    return ScenarioPack.model_validate(
        {
            "id": "bench",
            "version": "1",
            "title": "bench",
            "locales": ["en"],
            "default_locale": "en",
            "cast": [{"id": "a", "name": "A", "role": "r"}],
            "weeks": weeks,
        }
    )


def add_logs(
    ev: Eduverse, students: list[User], class_id: str, count: int, rng: random.Random
) -> None:
    storage = ev.storage
    for _ in range(count):
        student = rng.choice(students)
        week = rng.randint(1, WEEKS)
        log = SubmissionLog(
            id=new_id(),
            student_id=student.id,
            class_id=class_id,
            pack_id="bench",
            week=week,
            cycle=f"w{week}-c{rng.randint(1, CYCLES)}",
            track="beginner",
            outcome=Outcome.PASSED if rng.random() < 0.4 else Outcome.FAILED,
            code="x = 1\n",
        )
        storage.record_submission(log, submission_counters(log), None)


def naive_report(ev: Eduverse, class_id: str) -> dict[str, Any]:
    """What analytics would cost without aggregates: read and count every log."""
    logs = ev.storage.list_submissions(class_id=class_id)
    per_week: Counter[int] = Counter()
    passed_week: Counter[int] = Counter()
    failures: Counter[str] = Counter()
    for log in logs:
        per_week[log.week] += 1
        if log.outcome is Outcome.PASSED:
            passed_week[log.week] += 1
        else:
            failures[log.cycle] += 1
    return {"weeks": per_week, "passed": passed_week, "most_failed": failures.most_common(5)}


def p50_ms(func: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            storage=f"sqlite:///{Path(folder) / 'bench.db'}",
            default_pack="bench",
            disabled_plugins=("bundled_packs",),
            load_entry_points=False,
            pack_paths=(),
        )
        with Eduverse(settings) as ev:
            ev.register_pack(synthetic_pack())
            teacher = ev.accounts.create_user("t@bench.org", "T", "benchmark", role="instructor")
            classroom = ev.classes.create(
                teacher, ClassDetails(subject="B", year=2026, semester="1")
            )
            students = []
            for i in range(STUDENTS):
                s = ev.accounts.create_user(f"s{i}@bench.org", f"S{i}", "benchmark")
                ev.classes.join(s, classroom.invite_code)
                students.append(s)
            results = {}
            have = 0
            for size in SIZES:
                started = time.perf_counter()
                add_logs(ev, students, classroom.id, size - have, rng)
                have = size
                print(f"  filled to {size:>7} logs in {time.perf_counter() - started:6.1f} s")
                report = ev.analytics.class_report(teacher, classroom.id)
                assert report.submissions == size, report.submissions
                runs = RUNS if size <= 10_000 else 11
                results[size] = (
                    p50_ms(lambda: ev.analytics.class_report(teacher, classroom.id), RUNS),
                    p50_ms(lambda: naive_report(ev, classroom.id), runs),
                )
    small, large = SIZES
    print(f"\nclass analytics, one class of {STUDENTS} learners, p50 of repeated calls")
    print(f"{'logs':>9} {'aggregates (ms)':>16} {'naive scan (ms)':>16}")
    for size in SIZES:
        print(f"{size:>9} {results[size][0]:>16.2f} {results[size][1]:>16.2f}")
    agg_ratio = results[large][0] / results[small][0]
    naive_ratio = results[large][1] / results[small][1]
    print(
        f"\nratio p50({large}) / p50({small}): aggregates {agg_ratio:.2f} (target <= 1.5),"
        f" naive {naive_ratio:.1f}"
    )
    print(
        f"at {large} logs the aggregates are {results[large][1] / results[large][0]:.0f}x"
        " faster than the naive scan"
    )
    print("verdict:", "PASS" if agg_ratio <= 1.5 else "FAIL")
    return 0 if agg_ratio <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
