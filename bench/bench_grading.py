"""Grading benchmark (``make bench-grading``): prints numbers, asserts nothing.

For a trivial submission (``print('hello')`` checked by one assertion) it measures, with one
and with two concurrent clients, the latency (p50/p99) and throughput of

* the sandbox grader (pre-warmed workers that fork a child per submission), and
* the naive way (:data:`NAIVE_WHAT`): one fresh interpreter per submission, with no limits and
  no isolation at all, which flatters it.

The two are measured in alternating rounds (default 3) and each figure printed is the median
over the rounds, with its range, and the ratios are taken within a round: on a shared or
noisy machine a slow moment then hits both sides instead of one. Each round also says how much
of the CPUs other processes used meanwhile (Linux): trust quiet rounds. Then the CPU time all
our processes spent per grading with 2 clients (a steadier ratio than throughput when the
machine's speed drifts), the page faults per grading of the workers and their children, and
last the workers' resident memory after 100 and after ``--gradings`` sandbox gradings (a leak
in the worker loop would show there). Targets on a 2-core machine, 2 clients: p50 <= 10 ms,
>= 150 gradings/s, >= 8x the naive way, memory within 10 %.

Last, a real cycle of the bundled course (its reference solution and tests, ``--course``
gradings per round) with the workers' compiled-tests cache on and off, in alternating rounds:
what the cache saves where tests are larger than one line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eduverse_core.grading.base import GradeRequest
from eduverse_core.grading.cycles import cycle_request
from eduverse_core.grading.sandbox import SandboxGrader
from eduverse_core.packs import load_pack
from eduverse_core.resources import bundled_dir

CODE = "print('hello')\n"
TEST = "assert stdout == 'hello\\n', 'print hello'"
# What anyone would write first: run the code with stdout captured, then the tests in the same
# namespace, and report as JSON. No import beyond io/json/sys, no -I/-S: a plain `python`.
NAIVE_RUNNER = """
import io, json, sys
job = json.loads(sys.stdin.read())
out, ns = io.StringIO(), {"__name__": "__main__"}
sys.stdout = out
try:
    exec(compile(job["code"], "main.py", "exec"), ns)
finally:
    sys.stdout = sys.__stdout__
ns["stdout"] = out.getvalue()
exec(compile(job["test"], "<tests>", "exec"), ns)
print(json.dumps({"outcome": "passed", "stdout": out.getvalue()}))
"""
NAIVE_WHAT = (
    'subprocess.run([sys.executable, "-c", NAIVE_RUNNER]) per submission: a fresh interpreter'
    " started as a plain `python` (site-packages and all), the job as JSON on stdin; it execs"
    " the code with stdout captured, then the tests in the same namespace, and prints a JSON"
    " verdict. No limits, no isolation, no timeout handling."
)


@dataclass
class Run:
    label: str
    count: int
    seconds: float
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        return self.count / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(label: str, grade_once: Callable[[], None], total: int, clients: int) -> Run:
    """``total`` gradings split over ``clients`` threads, each timed end to end."""
    latencies: list[float] = []
    lock = threading.Lock()

    def client(count: int) -> None:
        mine = []
        for _ in range(count):
            start = time.perf_counter()
            grade_once()
            mine.append((time.perf_counter() - start) * 1000)
        with lock:
            latencies.extend(mine)

    shares = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]
    threads = [threading.Thread(target=client, args=(n,)) for n in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Run(label, total, time.perf_counter() - started, latencies)


def sandbox_once(grader: SandboxGrader) -> Callable[[], None]:
    request = GradeRequest(CODE, TEST)

    def once() -> None:
        result = grader.grade(request)
        if not result.passed:
            raise SystemExit(f"the sandbox did not pass a correct submission: {result}")

    return once


def naive_once() -> None:
    job = json.dumps({"code": CODE, "test": TEST})
    done = subprocess.run(
        [sys.executable, "-c", NAIVE_RUNNER], input=job, capture_output=True, text=True, timeout=10
    )
    if json.loads(done.stdout)["outcome"] != "passed":
        raise SystemExit(f"the naive grader failed: {done.stderr}")


def our_cpu_seconds(workers: list[int]) -> float | None:
    """CPU seconds used so far by this benchmark, the interpreters it reaped (the naive way)
    and the workers with the children they reaped (Linux; clock ticks)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    ours = 0
    try:
        for pid in workers:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                ours += sum(int(f) for f in stat.read().rsplit(")", 1)[1].split()[11:15])
    except (OSError, ValueError):
        return None
    mine = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return ours / tick + sum(u.ru_utime + u.ru_stime for u in mine)


def measure_cpu(
    workers: list[int], label: str, grade_once: Callable[[], None], total: int, clients: int
) -> tuple[Run, float | None]:
    """:func:`measure`, and the CPU milliseconds all our processes spent per grading."""
    before = our_cpu_seconds(workers)
    run = measure(label, grade_once, total, clients)
    after = our_cpu_seconds(workers)
    return run, None if before is None or after is None else (after - before) / total * 1000


class CpuMeter:
    """How much of the machine's CPU time went to other processes than ours (the benchmark,
    its naive interpreters, the workers and their children), from ``/proc`` (Linux only)."""

    def __init__(self, workers: list[int]) -> None:
        self._workers = workers
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._start = self._sample()
        self._started = time.perf_counter()

    def _sample(self) -> tuple[float, float] | None:
        """(busy seconds of all CPUs, seconds used by us) so far."""
        try:
            with open("/proc/stat", encoding="ascii") as stat:
                user, nice, system, _idle, _wait, irq, soft = map(int, stat.readline().split()[1:8])
        except (OSError, ValueError):
            return None
        ours = our_cpu_seconds(self._workers)
        busy = (user + nice + system + irq + soft) / self._tick
        return None if ours is None else (busy, ours)

    def others(self) -> float | None:
        """Percent of all CPUs used by others since the meter started."""
        end, start = self._sample(), self._start
        if end is None or start is None:
            return None
        wall = (time.perf_counter() - self._started) * (os.cpu_count() or 1)
        return max(0.0, (end[0] - start[0]) - (end[1] - start[1])) / wall * 100


def page_faults(pids: list[int]) -> tuple[int, int] | None:
    """Minor page faults so far of the workers and of the children they reaped (Linux): in a
    forked process nearly all are copy-on-write copies, the grader's main cost."""
    own = children = 0
    try:
        for pid in pids:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            own, children = own + int(fields[7]), children + int(fields[8])
    except (OSError, ValueError, IndexError):
        return None
    return own, children


def course_request(week_number: int = 3) -> GradeRequest:
    """The bundled course's first cycle of ``week_number`` with tests, graded with its own
    reference solution (first track)."""
    pack = load_pack(bundled_dir("scenario_packs") / "logicore")
    week = pack.week(week_number)
    for cycle in week.cycles if week is not None else []:
        for track, content in cycle.tracks().items():
            if cycle.test_for(track):
                return cycle_request(cycle, track, content.solution, pack.default_locale)
    raise SystemExit(f"week {week_number} of the bundled course has no cycle with tests")


def course_rounds(total: int, rounds: int, clients: int) -> None:
    """A real cycle with the compiled-tests cache on and off (alternating order): CPU ms per
    grading of all our processes and throughput, medians."""
    request = course_request()
    seen: dict[str, list[tuple[float, float]]] = {"on": [], "off": []}
    for number in range(rounds):
        for mode in ("on", "off") if number % 2 == 0 else ("off", "on"):
            with SandboxGrader(tests_cache=0 if mode == "off" else 64) as grader:
                grader.warm()
                pids = grader.diagnostics()["pids"]

                def once(grader: SandboxGrader = grader) -> None:
                    if not grader.grade(request).passed:
                        raise SystemExit("the course cycle's solution did not pass")

                measure("warm-up", once, 50, clients)
                run, cpu = measure_cpu(pids, mode, once, total, clients)
                seen[mode].append((run.throughput, cpu or 0.0))
    tests = len(request.test_code or "")
    print(f"\na course cycle (week 3, reference solution, {tests}-character tests),"
          f" {clients} clients, median of {rounds} rounds:")  # fmt: skip
    for mode, label in (("on", "tests compiled once per worker"), ("off", "compiled per child")):
        throughput = statistics.median(t for t, _ in seen[mode])
        cpu_ms = statistics.median(c for _, c in seen[mode])
        print(f"  {label:<32}{throughput:5.0f}/s   CPU {cpu_ms:.2f} ms per grading")


def rss_kb(grader: SandboxGrader) -> int:
    return sum(kb for kb in grader.diagnostics()["rss_kb"] if kb)


def median(values: Sequence[float], digits: int = 2, unit: str = "") -> str:
    """``median [min–max]``."""
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:.{digits}f}{unit} [{low:.{digits}f}–{high:.{digits}f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--gradings", type=int, default=10_000, help="total sandbox gradings")
    parser.add_argument("--rounds", type=int, default=3, help="alternating measurement rounds")
    parser.add_argument("--naive", type=int, default=200, help="naive gradings per round")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--course", type=int, default=1_000, help="course-cycle gradings per round")
    args = parser.parse_args()
    n = args.clients
    rounds: list[dict[str, Run]] = []

    print(f"CPUs: {os.cpu_count()}   Python {sys.version.split()[0]}   clients: 1 and {n}"
          f"   rounds: {args.rounds}")  # fmt: skip
    with SandboxGrader() as grader:
        started = time.perf_counter()
        grader.warm()
        print(f"workers started in {(time.perf_counter() - started) * 1000:.0f} ms:", end=" ")
        info = grader.diagnostics()
        print(f"{info['workers']} workers, network isolated: {info['network_isolated']},"
              f" uid isolated: {info['uid_isolated']}")  # fmt: skip
        once = sandbox_once(grader)
        measure("warm-up", once, 100, n)
        rss_100 = rss_kb(grader)
        others: list[float] = []
        faults: list[tuple[float, float]] = []
        cpu: list[tuple[float, float]] = []  # CPU ms per grading, 2 clients: sandbox, naive
        for number in range(1, args.rounds + 1):
            meter = CpuMeter(info["pids"])
            before = page_faults(info["pids"])
            sandbox_1 = measure("sandbox 1", once, 500, 1)
            after = page_faults(info["pids"])
            if before and after:  # children still exiting are counted in a later round
                faults.append(((after[0] - before[0]) / 500, (after[1] - before[1]) / 500))
            sandbox_n, sandbox_cpu = measure_cpu(info["pids"], "sandbox n", once, 2_000, n)
            naive_1 = measure("naive 1", naive_once, max(1, args.naive // 2), 1)
            naive_n, naive_cpu = measure_cpu(info["pids"], "naive n", naive_once, args.naive, n)
            if sandbox_cpu and naive_cpu:
                cpu.append((sandbox_cpu, naive_cpu))
            runs = {"sandbox 1": sandbox_1, "sandbox n": sandbox_n, "naive 1": naive_1,
                    "naive n": naive_n}  # fmt: skip
            rounds.append(runs)
            ratio = runs["sandbox n"].throughput / runs["naive n"].throughput
            busy = meter.others()
            load = "" if busy is None else f"; other processes used {busy:.0f} % of the CPUs"
            others += [] if busy is None else [busy]
            sandbox, naive = runs["sandbox n"], runs["naive n"]
            print(f"  round {number}, {n} clients: sandbox {sandbox.throughput:.0f}/s"
                  f" p50 {sandbox.percentile(0.5):.1f} ms, naive {naive.throughput:.0f}/s"
                  f" p50 {naive.percentile(0.5):.1f} ms ({ratio:.1f}x){load}")  # fmt: skip
        done = 100 + args.rounds * 2_500
        measure("filler", once, max(0, args.gradings - done), n)
        rss_after = rss_kb(grader)

    print(f"\nmedian [min–max] over {args.rounds} rounds")
    print(f"{'':<22}{'p50 ms':<22}{'p99 ms':<24}gradings/s")
    for key, label in (
        ("sandbox 1", "sandbox, 1 client"),
        ("sandbox n", f"sandbox, {n} clients"),
        ("naive 1", "naive, 1 client"),
        ("naive n", f"naive, {n} clients"),
    ):
        runs_ = [r[key] for r in rounds]
        print(
            f"{label:<22}{median([r.percentile(0.5) for r in runs_]):<22}"
            f"{median([r.percentile(0.99) for r in runs_]):<24}"
            f"{median([r.throughput for r in runs_], 0)}"
        )
    speedup = [r["sandbox n"].throughput / r["naive n"].throughput for r in rounds]
    lower = [r["naive n"].percentile(0.5) / r["sandbox n"].percentile(0.5) for r in rounds]
    lower_1 = [r["naive 1"].percentile(0.5) / r["sandbox 1"].percentile(0.5) for r in rounds]
    print(f"\nsandbox vs naive, {n} clients: {median(speedup, 1, 'x')} the throughput,"
          f" {median(lower, 1, 'x')} lower p50;"
          f" 1 client: {median(lower_1, 1, 'x')} lower p50")  # fmt: skip
    if cpu:
        sandbox_ms, naive_ms = (statistics.median(c) for c in zip(*cpu, strict=True))
        ratios = [naive / sandbox for sandbox, naive in cpu]
        print(f"CPU per grading (all our processes, {n} clients): sandbox {sandbox_ms:.2f} ms,"
              f" naive {naive_ms:.2f} ms: {median(ratios, 1, 'x')}")  # fmt: skip
    if faults:
        worker_faults, child_faults = (statistics.median(f) for f in zip(*faults, strict=True))
        print(f"page faults per grading (1 client): worker {worker_faults:.0f},"
              f" child {child_faults:.0f} (nearly all copy-on-write copies)")  # fmt: skip
    growth = (rss_after - rss_100) / rss_100 * 100
    print(f"worker RSS (all workers): {rss_100} KiB after 100 gradings,"
          f" {rss_after} KiB after {max(args.gradings, done)} ({growth:+.1f} %)")  # fmt: skip
    if others and max(others) > 10:
        print(f"note: other processes used up to {max(others):.0f} % of the CPUs during the"
              " rounds: such rounds are unreliable, and they flatter the sandbox (starting"
              " interpreters suffers more from a busy machine than forking)")  # fmt: skip
    print(f"naive = {NAIVE_WHAT}")
    print(f"targets, {n} clients: p50 <= 10 ms, >= 150 gradings/s, >= 8x naive, RSS within 10 %")
    if args.course > 0:
        course_rounds(args.course, max(2, args.rounds - 1), n)


if __name__ == "__main__":
    main()
