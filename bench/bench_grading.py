"""Grading benchmark (``make bench-grading``): prints numbers, asserts nothing.

For a trivial submission (``print('hello')`` checked by one assertion) it measures, with two
concurrent clients, the latency (p50/p99) and throughput of

* the sandbox grader (pre-warmed workers that fork a child per submission), and
* the naive way: ``subprocess.run([sys.executable, ...])``, one fresh interpreter per
  submission (no limits at all, so it flatters the naive way),

prints their ratio, and the workers' resident memory after 100 and after 10 000 gradings
(a leak in the worker loop would show there). Targets on a 2-core machine: p50 <= 10 ms,
>= 150 gradings/s, >= 8x the naive way, memory within 10 %.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from eduverse_core.grading.base import GradeRequest
from eduverse_core.grading.sandbox import SandboxGrader

CODE = "print('hello')\n"
TEST = "assert stdout == 'hello\\n', 'print hello'"
NAIVE_RUNNER = """
import contextlib, io, json, sys
job = json.loads(sys.stdin.read())
out, ns = io.StringIO(), {"__name__": "__main__"}
with contextlib.redirect_stdout(out):
    exec(compile(job["code"], "main.py", "exec"), ns)
ns["stdout"] = out.getvalue()
exec(compile(job["test"], "<tests>", "exec"), ns)
print(json.dumps({"outcome": "passed", "stdout": out.getvalue()}))
"""


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

    def line(self) -> str:
        p50, p99 = self.percentile(0.5), self.percentile(0.99)
        return (
            f"{self.label:<28} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms"
            f"   {self.throughput:7.1f} gradings/s   ({self.count} gradings)"
        )


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


def rss_kb(grader: SandboxGrader) -> int:
    return sum(kb for kb in grader.diagnostics()["rss_kb"] if kb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gradings", type=int, default=10_000, help="total sandbox gradings")
    parser.add_argument("--naive", type=int, default=300, help="naive gradings")
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args()

    print(f"CPUs: {os.cpu_count()}   Python {sys.version.split()[0]}   clients: {args.clients}")
    with SandboxGrader() as grader:
        started = time.perf_counter()
        grader.warm()
        print(f"workers started in {(time.perf_counter() - started) * 1000:.0f} ms:", end=" ")
        info = grader.diagnostics()
        print(f"{info['workers']} workers, network isolated: {info['network_isolated']},"
              f" uid isolated: {info['uid_isolated']}")  # fmt: skip
        once = sandbox_once(grader)
        measure("warm-up", once, 100, args.clients)
        rss_100 = rss_kb(grader)
        single = measure("sandbox, 1 client", once, 500, 1)
        sandbox = measure(f"sandbox, {args.clients} clients", once, 2_000, args.clients)
        measure("filler", once, max(0, args.gradings - 2_600), args.clients)
        rss_after = rss_kb(grader)
    naive_single = measure("naive, 1 client", naive_once, args.naive // 2, 1)
    naive = measure(f"naive, {args.clients} clients", naive_once, args.naive, args.clients)

    print()
    for run in (single, sandbox, naive_single, naive):
        print(run.line())
    print()
    speedup = sandbox.throughput / naive.throughput
    ratio = naive.percentile(0.5) / sandbox.percentile(0.5)
    ratio_single = naive_single.percentile(0.5) / single.percentile(0.5)
    print(f"sandbox vs naive, {args.clients} clients: {speedup:.1f}x the throughput,"
          f" {ratio:.1f}x lower p50; 1 client: {ratio_single:.1f}x lower p50")  # fmt: skip
    growth = (rss_after - rss_100) / rss_100 * 100
    print(f"worker RSS (all workers): {rss_100} KiB after 100 gradings,"
          f" {rss_after} KiB after {args.gradings} ({growth:+.1f} %)")  # fmt: skip
    print(f"mean sandbox latency {statistics.fmean(sandbox.latencies_ms):.2f} ms")
    print("targets: p50 <= 10 ms, >= 150 gradings/s, >= 8x naive, RSS within 10 %")


if __name__ == "__main__":
    main()
