"""Firestore next to SQLite (``make bench-firestore``): prints numbers, asserts nothing.

Three parts in one run, the two backends side by side:

1. **The HTTP API.** Two production servers (``bench_api.Server``: gunicorn gthread, 2 workers
   x 4 threads): one on SQLite in a temp folder, one on ``firestore://<fresh project id>`` with
   ``FIRESTORE_EMULATOR_HOST`` pointing at Google's Firestore emulator, started here by
   ``eduverse_firestore.emulator.running_emulator`` (which stops its process group). Each
   server gets its own learners (signed up and logged in through the API), then bench_api's
   scenarios ``bare`` (the ceiling: no auth, no storage), ``live-code``, ``week`` and
   ``submit`` run in interleaved rounds: each scenario on one backend and at once on the
   other, which goes first alternating per round, every run bounded by a request count and a
   time limit. req/s and CPU per request are medians over the rounds, p50/p99 over all
   requests; "emulator" is the emulator's CPU per request. **The emulator is not Firestore**:
   one Java process, far slower than the real service and on the same two CPUs as the server
   and the load generator, so the Firestore latencies here are no forecast of production's
   (where every call is a network round trip of a few ms instead); the CPU per request of
   gunicorn is the meaningful number (it includes Google's client library).
2. **Document operations per use case.** In this process, through the services of one
   ``Eduverse`` per backend (the calls the API routes make), a class of 30 learners is set up
   (each with a pass, a failure and a reflection), and each operation is run a few times:
   Firestore's document reads, writes, deletes, transactions and retries as
   ``FirestoreStorage.ops`` counts them (what Firestore bills), SQLite's statements from a
   trace callback on the connections of the SQLite backend, and the median in-process CPU and
   wall time of the call. The monitor poll and class analytics are measured twice, before and
   after the class has more questions and reflections, because their reads grow with them.
3. **A cost estimate per 1 000 active learners a month** from those counts, the usage model
   and the list prices below, both printed. The prices are assumptions typed in by hand: check
   them against the current price lists before quoting the dollars.

Run with ``make bench-firestore`` (about 2-3 minutes on two cores). Needs the emulator (see
``plugins/eduverse-firestore/README.md``); gunicorn, the emulator and every process they
started are stopped at the end, also on errors and on SIGINT, SIGTERM or SIGHUP.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from bench_api import (
    LIVE_CODE,
    PACK,
    PASSWORD,
    Measurement,
    Scenario,
    Server,
    Summary,
    cleanup_on_signals,
    cpu_seconds,
    measure,
    prepare_learners,
    run_stats,
    scenarios,
    signals_ignored,
)

# -- part 1: the HTTP API -------------------------------------------------------------------------
WORKERS, THREADS = 2, 4  # gunicorn, as bench_api runs it
LEARNERS = 40  # per server
CONNECTIONS = 8
ROUNDS = 5
ROUND_REQUESTS = 20_000  # per run: whichever of the two limits comes first
ROUND_SECONDS = 2.0
WARMUP_REQUESTS, WARMUP_SECONDS = 300, 1.5

# -- part 2: document operations ------------------------------------------------------------------
CLASS_SIZE = 30
OP_REPEATS = 5  # runs of each operation: counts from the first, CPU and wall time the median
MORE_QUESTIONS = 60  # asked before the second monitor poll measurement (one week of questions)

# -- part 3: the usage model ----------------------------------------------------------------------
ACTIVE_LEARNERS = 1_000
WEEKS_PER_MONTH = 52 / 12
DAYS_PER_MONTH = 365 / 12
TERM_WEEKS = 16  # sign-up and joining a class happen once a term
SESSIONS_PER_WEEK = 3  # each: log in, /api/me, GET progress, a week page
LIVE_CODE_SAVES_PER_WEEK = 40
SUBMISSIONS_PASSED_PER_WEEK = 5
SUBMISSIONS_FAILED_PER_WEEK = 10  # 15 graded submissions a week in all
REFLECTIONS_PER_WEEK = 1
QUESTIONS_PER_WEEK = 2  # each answered once by the instructor
MONITOR_POLL_SECONDS = 2  # the instructor's live view, during lessons:
LESSON_MINUTES_PER_WEEK = 2 * 90  # two lessons of 90 minutes a week per class
ANALYTICS_VIEWS_PER_CLASS_WEEK = 5
CLASS_DETAIL_VIEWS_PER_CLASS_WEEK = 5

# -- list prices (USD), ASSUMED: check https://cloud.google.com/firestore/pricing and
# https://cloud.google.com/run/pricing for Seoul (asia-northeast3) before using the dollars ------
# Firestore Standard edition, regional: Tokyo's (asia-northeast1) rates as a 2025 write-up
# quotes them, assumed the same in Seoul; not read from Google's price list by this benchmark.
FIRESTORE_PRICES_CHECKED = "Tokyo's published rates, assumed for Seoul"
FIRESTORE_READ_PER_100K = 0.038
FIRESTORE_WRITE_PER_100K = 0.115
FIRESTORE_DELETE_PER_100K = 0.013
FIRESTORE_FREE_READS_PER_DAY = 50_000  # the free quota: (default) database only, per day
FIRESTORE_FREE_WRITES_PER_DAY = 20_000
FIRESTORE_FREE_DELETES_PER_DAY = 20_000
CLOUD_RUN_VCPU_SECOND = 0.0000336  # request-based billing; Seoul is a Tier 2 region
CLOUD_RUN_PER_MILLION_REQUESTS = 0.40
CLOUD_RUN_FREE_VCPU_SECONDS = 180_000  # per billing account and month
CLOUD_RUN_FREE_REQUESTS = 2_000_000
CLOUD_RUN_BILLING_ROUND_S = 0.1  # billable instance time is rounded up to 100 ms


# -- the emulator's processes ---------------------------------------------------------------------
def emulator_pids(port: int) -> set[int]:
    """The emulator's launcher and its ``java`` child: the processes whose command line has
    the emulator's ``--port=``, and every process of their process group."""
    marker = f"--port={port}".encode()
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker in cmdline and b"irestore" in cmdline:
            found.add(int(entry.name))
    groups = set()
    for pid in found:
        try:
            groups.add(os.getpgid(pid))
        except ProcessLookupError:
            continue
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) in groups:
                    found.add(int(entry.name))
            except ProcessLookupError:
                continue
    return found


# -- part 1 ---------------------------------------------------------------------------------------
@dataclass
class Backend:
    """One server of part 1 and what was measured on it."""

    name: str
    server: Server
    plan: list[Scenario] = dataclasses.field(default_factory=list)
    runs: dict[str, list[Measurement]] = dataclasses.field(default_factory=dict)
    emulator_us: dict[str, list[float]] = dataclasses.field(default_factory=dict)


def api_benchmark(
    folder: Path, emulator_host: str, project: str, emulator_cpu: Callable[[], float]
) -> list[Backend]:
    """Part 1: both servers, interleaved rounds. Returns the backends with their runs."""
    (folder / "sqlite").mkdir()
    (folder / "firestore").mkdir()
    backends = [
        Backend("sqlite", Server(folder / "sqlite", WORKERS, THREADS)),
        Backend(
            "firestore",
            Server(
                folder / "firestore",
                WORKERS,
                THREADS,
                storage=f"firestore://{project}",
                env={"FIRESTORE_EMULATOR_HOST": emulator_host},
            ),
        ),
    ]
    loader = concurrent.futures.ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("spawn")
    )
    try:
        for backend in backends:
            started = time.perf_counter()
            backend.server.start()
            ready = time.perf_counter() - started
            started = time.perf_counter()
            tokens = prepare_learners(backend.server.port, LEARNERS)
            print(
                f"{backend.name:<9} server: {backend.server.settings}, port {backend.server.port},"
                f" {backend.server.storage}; ready in {ready:.1f} s; {len(tokens)} learners"
                f" signed up and logged in in {time.perf_counter() - started:.1f} s"
            )
            backend.plan = scenarios(tokens)
            backend.runs = {s.name: [] for s in backend.plan}
            backend.emulator_us = {s.name: [] for s in backend.plan}

        def load(
            backend: Backend, scenario: Scenario, requests: int, seconds: float
        ) -> Measurement:
            emulator_before = emulator_cpu()
            run = measure(loader, backend.server, scenario, CONNECTIONS, requests, seconds)
            emulator = emulator_cpu() - emulator_before
            run.other_cores = max(0.0, run.other_cores - emulator / run.seconds)
            backend.emulator_us[scenario.name].append(run.cpu_us(emulator))
            return run

        for backend in backends:  # warm-up: packs, sandbox workers, gRPC channels, caches
            for scenario in backend.plan:
                load(backend, scenario, WARMUP_REQUESTS, WARMUP_SECONDS)
            for values in backend.emulator_us.values():
                values.clear()
        names = [s.name for s in backends[0].plan]
        for round_ in range(1, ROUNDS + 1):
            order = backends if round_ % 2 else backends[::-1]
            for index, name in enumerate(names):
                for backend in order:
                    run = load(backend, backend.plan[index], ROUND_REQUESTS, ROUND_SECONDS)
                    backend.runs[name].append(run)
                    print(
                        f"  round {round_} {name:<10} {backend.name:<9} {run_stats(run)}"
                        f"  emulator {backend.emulator_us[name][-1]:5.0f} us/req"
                    )
    finally:
        with signals_ignored():  # a second Ctrl-C must not cut the clean-up short
            loader.shutdown(cancel_futures=True)
            for backend in backends:
                left = backend.server.stop()
                print(
                    f"{backend.name} server stopped; processes left behind: {len(left)}"
                    f" {left or ''}"
                )
                if log := backend.server.tail():
                    print(f"{backend.name} server log (last lines):\n{log}")
    return backends


def print_api_results(backends: list[Backend]) -> None:
    print(
        f"\n{backends[0].server.settings} per backend; {CONNECTIONS} keep-alive connections;"
        f" {LEARNERS} learners each; {ROUNDS} rounds of <= {ROUND_REQUESTS} requests"
        f" / <= {ROUND_SECONDS:g} s per scenario and backend; req/s and CPU: median of the"
        " rounds, percentiles: of all requests"
    )
    print(
        f"{'scenario':<10} {'backend':<9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'server':>7} {'emulator':>8} {'client':>7} {'other':>6} {'requests':>9} {'errors':>7}"
    )
    for name in backends[0].runs:
        for backend in backends:
            s = Summary.of(backend.runs[name])
            emulator = statistics.median(backend.emulator_us[name])
            print(
                f"{s.name:<10} {backend.name:<9} {s.throughput:>8.1f} {s.p50:>8.2f}"
                f" {s.p99:>8.2f} {s.server_us:>7.0f} {emulator:>8.0f} {s.client_us:>7.0f}"
                f" {s.other_cores:>6.2f} {s.requests:>9} {s.errors:>7}"
            )
            for sample in s.error_samples:
                print(f"{'':<20} e.g. {sample}")
    print(
        "server, emulator, client: CPU microseconds per request of gunicorn (its workers and"
        " sandbox), of the Firestore emulator\nand of the load generator; other: CPUs busy with"
        " other processes meanwhile (anything above ~0.1 means the numbers are disturbed)"
    )
    sqlite, firestore = backends
    print("firestore / sqlite req/s, median of the per-round ratios (they ran back to back):")
    for name in sqlite.runs:
        ratios = [
            f.throughput / s.throughput if s.throughput else 0.0
            for s, f in zip(sqlite.runs[name], firestore.runs[name], strict=True)
        ]
        print(f"  {name:<10} {statistics.median(ratios):.2f}")
    print(
        "NOTE: the Firestore emulator is far slower than Firestore itself and runs on the same"
        f" {os.cpu_count()} CPUs as gunicorn and the\nload generator: its req/s and latencies"
        " are no forecast of production. Compare the server CPU per request instead."
    )


# -- part 2 ---------------------------------------------------------------------------------------
class Meter(Protocol):
    """Running totals of what a backend did, as a tuple (one number per column)."""

    columns: tuple[str, ...]

    def snapshot(self) -> tuple[int, ...]: ...


class FirestoreMeter:
    """``FirestoreStorage.ops``: documents read, written and deleted, transactions, retries."""

    columns = ("reads", "writes", "deletes", "txns", "retries")

    def __init__(self, storage: Any) -> None:
        self.ops = storage.ops

    def snapshot(self) -> tuple[int, ...]:
        return dataclasses.astuple(self.ops.snapshot())


class SQLiteMeter:
    """SQL statements the SQLite backend runs, by kind, from a trace callback set on every
    connection it opens while :meth:`installed` (``sqlite_storage._connect`` wrapped)."""

    columns = ("SELECT", "write", "txn", "other")
    _KINDS: ClassVar[dict[str, str]] = {
        "SELECT": "SELECT",
        "INSERT": "write",
        "UPDATE": "write",
        "DELETE": "write",
        "REPLACE": "write",
        "BEGIN": "txn",
        "COMMIT": "txn",
        "ROLLBACK": "txn",
    }

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def trace(self, sql: str) -> None:
        word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        self.counts[self._KINDS.get(word, "other")] += 1

    @contextmanager
    def installed(self) -> Iterator[None]:
        from eduverse_core.default_plugins import sqlite_storage

        original = sqlite_storage._connect

        def connect(database: str, timeout: float) -> Any:
            conn = original(database, timeout)
            conn.set_trace_callback(self.trace)
            return conn

        sqlite_storage._connect = connect  # type: ignore[assignment]
        try:
            yield
        finally:
            sqlite_storage._connect = original  # type: ignore[assignment]

    def snapshot(self) -> tuple[int, ...]:
        return tuple(self.counts[c] for c in self.columns)


@dataclass
class OpResult:
    """One operation measured ``OP_REPEATS`` times."""

    counts: tuple[int, ...]  # of the first run
    varies: bool  # whether another run counted differently
    cpu_ms: float  # median CPU time of this process (all its threads)
    wall_ms: float  # median wall time


@dataclass
class OpsRun:
    """Part 2 on one backend."""

    columns: tuple[str, ...]
    results: dict[str, OpResult]
    labels: dict[str, str]  # operation key -> label for the table
    sizes: dict[str, int]  # questions/reflections in the class at each measurement


def operation_counts(ev: Any, meter: Meter, tag: str) -> OpsRun:
    """Set up a class of ``CLASS_SIZE`` and measure each operation (see the module doc)."""
    from eduverse_core.models import (
        ClassDetails,
        Outcome,
        Rating,
        ReflectionFeedback,
        SceneContext,
    )

    pack = ev.pack(PACK)
    week = pack.week(1)
    cycle = week.cycles[0]
    beginner = cycle.track("beginner")
    ratings = {c.id: Rating(comprehension=4, application=3) for c in week.cycles}
    feedback = ReflectionFeedback(meaningful="loops", difficult="dicts", curious="files")
    context = SceneContext(week=1, cycle=cycle.id, scene="coding")

    teacher = ev.accounts.create_user(
        f"teacher-{tag}@bench.example", "Teacher", PASSWORD, "instructor"
    )
    details = ClassDetails(subject="Bench", year=2026, semester="1")
    classroom = ev.classes.create(teacher, details, PACK)
    other_class = ev.classes.create(teacher, details, PACK)  # joins land here: A stays at 30
    students = [
        ev.accounts.create_user(f"s{i}-{tag}@bench.example", f"Student {i}", PASSWORD)
        for i in range(CLASS_SIZE)
    ]
    joiners = [
        ev.accounts.create_user(f"j{i}-{tag}@bench.example", f"Joiner {i}", PASSWORD)
        for i in range(OP_REPEATS)
    ]
    for student in students:
        ev.classes.join(student, classroom.invite_code)
        ev.submissions.submit(student, PACK, 1, cycle.id, "beginner", "x = None\n")
        ev.submissions.submit(student, PACK, 1, cycle.id, "beginner", beginner.solution)
        ev.reflections.submit(student, PACK, 1, ratings, feedback)
    probe = ev.submissions.submit(students[0], PACK, 1, cycle.id, "beginner", "x = None\n")
    if probe.grade.outcome is not Outcome.FAILED:
        print(f"  note: the failing submission graded {probe.grade.outcome.value}, not failed")
    student = students[0]
    token = ev.sessions.issue(student).token
    questions = [ev.questions.ask(s, "Why a dict?", context) for s in students[:OP_REPEATS]]
    cursor = ev.classes.monitor(teacher, classroom.id).cursor
    results: dict[str, OpResult] = {}
    sizes: dict[str, int] = {}

    def run(key: str, call: Callable[[int], object]) -> None:
        counts, cpu, wall = [], [], []
        for i in range(OP_REPEATS):
            before, cpu_before, wall_before = (
                meter.snapshot(),
                time.process_time(),
                time.perf_counter(),
            )
            call(i)
            wall.append((time.perf_counter() - wall_before) * 1000)
            cpu.append((time.process_time() - cpu_before) * 1000)
            counts.append(tuple(a - b for a, b in zip(meter.snapshot(), before, strict=True)))
        results[key] = OpResult(
            counts[0], len(set(counts)) > 1, statistics.median(cpu), statistics.median(wall)
        )

    def class_sizes() -> tuple[int, int]:
        storage = ev.storage
        return (
            len(storage.list_questions(class_id=classroom.id)),
            len(storage.list_reflections(class_id=classroom.id)),
        )

    run(
        "signup",
        lambda i: ev.accounts.sign_up(f"new{i}-{tag}@bench.example", f"New {i}", PASSWORD),
    )
    run("login", lambda i: ev.sessions.log_in(student.email, PASSWORD, "203.0.113.7"))
    run("token", lambda i: ev.sessions.resolve(token))
    run("me", lambda i: ev.classes.my_class(student))
    run("progress", lambda i: ev.progress.get(student, PACK))
    run("week", lambda i: ev.catalog.week(PACK, 1, None, student.name))
    run("live-code", lambda i: ev.progress.save_live_code(student, PACK, LIVE_CODE, cycle.id))
    run(
        "submit-pass",
        lambda i: ev.submissions.submit(
            students[i], PACK, 1, cycle.id, "beginner", beginner.solution
        ),
    )
    run(
        "submit-fail",
        lambda i: ev.submissions.submit(students[i], PACK, 1, cycle.id, "beginner", "x = None\n"),
    )
    run("reflection", lambda i: ev.reflections.submit(students[i], PACK, 1, ratings, feedback))
    run("ask", lambda i: ev.questions.ask(students[i], "What does .get do?", context))
    run("answer", lambda i: ev.questions.answer(teacher, questions[i].id, "It returns None."))
    run("join", lambda i: ev.classes.join(joiners[i], other_class.invite_code))
    sizes["monitor"], sizes["analytics"] = class_sizes()
    run("monitor", lambda i: ev.classes.monitor(teacher, classroom.id, cursor))
    run("analytics", lambda i: ev.analytics.class_report(teacher, classroom.id))
    run("detail", lambda i: ev.classes.detail(teacher, classroom.id))
    for i in range(MORE_QUESTIONS):  # more questions (a week's), a second week of reflections
        ev.questions.ask(students[i % CLASS_SIZE], f"Question {i}?", context)
    week2 = {c.id: Rating(comprehension=3, application=3) for c in pack.week(2).cycles}
    for s in students:
        ev.reflections.submit(s, PACK, 2, week2, feedback)
    sizes["monitor+"], sizes["analytics+"] = class_sizes()
    run("monitor+", lambda i: ev.classes.monitor(teacher, classroom.id, cursor))
    run("analytics+", lambda i: ev.analytics.class_report(teacher, classroom.id))

    labels = {
        "signup": "sign-up (accounts.sign_up)",
        "login": "log-in (sessions.log_in)",
        "token": "token check (sessions.resolve)",
        "me": "/api/me (classes.my_class)",
        "progress": "GET progress (progress.get)",
        "week": "week page (catalog.week)",
        "live-code": "live-code save",
        "submit-pass": "submission, passed",
        "submit-fail": "submission, failed",
        "reflection": "reflection (a week's, again)",
        "ask": "ask a question",
        "answer": "answer a question",
        "join": "join a class",
        "monitor": f"monitor poll, {CLASS_SIZE} members, {sizes['monitor']} questions",
        "analytics": f"class analytics, {CLASS_SIZE} members, {sizes['analytics']} reflections",
        "detail": f"class detail page, {CLASS_SIZE} members",
        "monitor+": f"monitor poll, {CLASS_SIZE} members, {sizes['monitor+']} questions",
        "analytics+": f"class analytics, {CLASS_SIZE} members, {sizes['analytics+']} reflections",
    }
    return OpsRun(meter.columns, results, labels, sizes)


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """``os.environ`` with ``values`` set, restored afterwards."""
    previous = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def ops_benchmark(folder: Path, emulator_host: str, project: str) -> tuple[OpsRun, OpsRun]:
    """Part 2 on SQLite (statements) and on the emulator (document operations)."""
    from eduverse_core import Eduverse, Settings

    sqlite_meter = SQLiteMeter()
    settings = Settings(storage=f"sqlite:///{folder / 'ops.db'}", default_pack=PACK)
    started = time.perf_counter()
    with sqlite_meter.installed(), Eduverse(settings) as ev:
        sqlite = operation_counts(ev, sqlite_meter, "sqlite")
    print(f"operations on SQLite measured in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with environment(FIRESTORE_EMULATOR_HOST=emulator_host):
        settings = Settings(storage=f"firestore://{project}", default_pack=PACK)
        with Eduverse(settings) as ev:
            firestore = operation_counts(ev, FirestoreMeter(ev.storage), "firestore")
    print(f"operations on the Firestore emulator measured in {time.perf_counter() - started:.1f} s")
    return sqlite, firestore


def print_ops(sqlite: OpsRun, firestore: OpsRun) -> None:
    print(
        f"\nper operation, in-process through the services; counts of the first of"
        f" {OP_REPEATS} runs (* = another run counted differently), CPU and wall: medians"
    )
    print(
        f"{'':<44} {'Firestore (documents)':^33} {'SQLite (statements)':^24}"
        f" {'CPU ms':^11} {'wall ms':^13}"
    )
    print(
        f"{'operation':<44} {'reads':>6} {'writes':>6} {'dels':>5} {'txns':>5} {'retry':>6}"
        f" {'SELECT':>7} {'write':>5} {'txn':>4} {'other':>5}"
        f" {'fs':>5} {'sql':>5} {'fs':>6} {'sql':>6}"
    )
    for key, label in firestore.labels.items():
        f, s = firestore.results[key], sqlite.results[key]
        mark = "*" if f.varies or s.varies else " "
        print(
            f"{label:<43}{mark} {f.counts[0]:>6} {f.counts[1]:>6} {f.counts[2]:>5}"
            f" {f.counts[3]:>5} {f.counts[4]:>6} {s.counts[0]:>7} {s.counts[1]:>5}"
            f" {s.counts[2]:>4} {s.counts[3]:>5} {f.cpu_ms:>5.1f} {s.cpu_ms:>5.1f}"
            f" {f.wall_ms:>6.1f} {s.wall_ms:>6.1f}"
        )
    print(
        "reads, writes, dels: Firestore documents as billed (a query that finds nothing is one"
        " read; a read by id of a missing\ndocument is one read); txns: transactions committed;"
        " SQL txn: BEGIN/COMMIT; other: PRAGMA and the like. Every\nauthenticated API request"
        " adds one token check. CPU: this process only (the sandbox's grading runs elsewhere)."
    )


# -- part 3 ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Usage:
    """One line of the usage model: how often an operation happens a month."""

    label: str
    per_month: float
    reads: float
    writes: float
    deletes: float
    cpu_us: float  # estimated server CPU per request (gunicorn + sandbox)


def linear(run: OpsRun, key: str, more: str, size: float) -> tuple[float, float]:
    """Reads and in-process CPU (ms) of ``key`` extrapolated linearly in the class's number of
    questions or reflections, from the two measurements (``key`` at ``sizes[key]`` of them,
    ``more`` at ``sizes[more]``)."""
    n0, n1 = run.sizes[key], run.sizes[more]
    a, b = run.results[key], run.results[more]
    share = (size - n0) / (n1 - n0) if n1 != n0 else 0.0
    return (
        a.counts[0] + (b.counts[0] - a.counts[0]) * share,
        max(0.0, a.cpu_ms + (b.cpu_ms - a.cpu_ms) * share),
    )


def usage_model(firestore: OpsRun, api: dict[str, float]) -> list[Usage]:
    """The usage model (constants at the top) as monthly operation counts and costs.

    CPU per request: measured under load in part 1 where there is a scenario for it (live-code,
    week, submit), else the ``bare`` request's server CPU (HTTP + Flask) plus the operation's
    in-process CPU (and the token check's, when authenticated)."""
    classes = ACTIVE_LEARNERS / CLASS_SIZE
    learner_weeks = ACTIVE_LEARNERS * WEEKS_PER_MONTH
    class_weeks = classes * WEEKS_PER_MONTH
    polls_per_class_week = LESSON_MINUTES_PER_WEEK * 60 / MONITOR_POLL_SECONDS
    # a term's average: questions and reflections pile up in the class week after week
    avg_questions = QUESTIONS_PER_WEEK * CLASS_SIZE * TERM_WEEKS / 2
    avg_reflections = REFLECTIONS_PER_WEEK * CLASS_SIZE * TERM_WEEKS / 2
    token = firestore.results["token"]
    bare = api["bare"]

    def line(
        label: str, per_month: float, key: str, *, auth: bool = True, scenario: str = ""
    ) -> Usage:
        op = firestore.results[key]
        extra = token if auth else None
        reads = op.counts[0] + (extra.counts[0] if extra else 0)
        cpu = bare + (op.cpu_ms + (extra.cpu_ms if extra else 0.0)) * 1000
        return Usage(label, per_month, reads, op.counts[1], op.counts[2], api.get(scenario, cpu))

    lines = [
        line("sign-up (once a term)", learner_weeks / TERM_WEEKS, "signup", auth=False),
        line("join a class (once a term)", learner_weeks / TERM_WEEKS, "join"),
        line("log-in", learner_weeks * SESSIONS_PER_WEEK, "login", auth=False),
        line("/api/me", learner_weeks * SESSIONS_PER_WEEK, "me"),
        line("GET progress", learner_weeks * SESSIONS_PER_WEEK, "progress"),
        line("week page", learner_weeks * SESSIONS_PER_WEEK, "week", scenario="week"),
        line(
            "live-code save",
            learner_weeks * LIVE_CODE_SAVES_PER_WEEK,
            "live-code",
            scenario="live-code",
        ),
        line(
            "submission, passed",
            learner_weeks * SUBMISSIONS_PASSED_PER_WEEK,
            "submit-pass",
            scenario="submit",
        ),
        line(
            "submission, failed",
            learner_weeks * SUBMISSIONS_FAILED_PER_WEEK,
            "submit-fail",
            scenario="submit",
        ),
        line("reflection", learner_weeks * REFLECTIONS_PER_WEEK, "reflection"),
        line("ask a question", learner_weeks * QUESTIONS_PER_WEEK, "ask"),
        line("answer a question", learner_weeks * QUESTIONS_PER_WEEK, "answer"),
    ]

    def grown(label: str, per_month: float, key: str, size: float) -> Usage:
        reads, cpu_ms = linear(firestore, key, key + "+", size)
        cpu = bare + (cpu_ms + token.cpu_ms) * 1000
        return Usage(label, per_month, reads + token.counts[0], 0, 0, cpu)

    return [
        *lines,
        grown(
            f"monitor poll ({avg_questions:.0f} questions)",
            class_weeks * polls_per_class_week,
            "monitor",
            avg_questions,
        ),
        grown(
            f"class analytics ({avg_reflections:.0f} reflections)",
            class_weeks * ANALYTICS_VIEWS_PER_CLASS_WEEK,
            "analytics",
            avg_reflections,
        ),
        line("class detail page", class_weeks * CLASS_DETAIL_VIEWS_PER_CLASS_WEEK, "detail"),
    ]


def print_costs(firestore: OpsRun, api: dict[str, float]) -> None:
    classes = ACTIVE_LEARNERS / CLASS_SIZE
    polls = LESSON_MINUTES_PER_WEEK * 60 / MONITOR_POLL_SECONDS
    print(f"\ncost estimate per {ACTIVE_LEARNERS:,} active learners a month (ESTIMATE)")
    print(
        "usage model, per learner and week:"
        f" {SESSIONS_PER_WEEK} sessions (log in, /api/me, GET progress, a week page),"
        f" {LIVE_CODE_SAVES_PER_WEEK} live-code saves,\n  "
        f"{SUBMISSIONS_PASSED_PER_WEEK + SUBMISSIONS_FAILED_PER_WEEK} graded submissions"
        f" ({SUBMISSIONS_PASSED_PER_WEEK} passed, {SUBMISSIONS_FAILED_PER_WEEK} failed),"
        f" {REFLECTIONS_PER_WEEK} reflection, {QUESTIONS_PER_WEEK} questions (each answered"
        f" once); sign-up and joining a class once a term ({TERM_WEEKS} weeks);\n  per class of"
        f" {CLASS_SIZE} ({classes:.1f} classes) and week: the instructor's monitor polled every"
        f" {MONITOR_POLL_SECONDS} s for {LESSON_MINUTES_PER_WEEK} min ({polls:.0f} polls),"
        f" {ANALYTICS_VIEWS_PER_CLASS_WEEK} analytics and {CLASS_DETAIL_VIEWS_PER_CLASS_WEEK}"
        f" class detail views;\n  {WEEKS_PER_MONTH:.2f} weeks a month; questions and"
        " reflections in a class: their average over a term (they accumulate); every"
        " authenticated\n  request includes its token check."
    )
    lines = usage_model(firestore, api)
    print(
        f"{'event':<34} {'per month':>11} {'reads/ev':>9} {'writes/ev':>9} {'reads/month':>13}"
        f" {'writes/month':>13} {'CPU us/ev':>10}"
    )
    for u in lines:
        print(
            f"{u.label:<34} {u.per_month:>11,.0f} {u.reads:>9.1f} {u.writes:>9.1f}"
            f" {u.per_month * u.reads:>13,.0f} {u.per_month * u.writes:>13,.0f}"
            f" {u.cpu_us:>10,.0f}"
        )
    reads = sum(u.per_month * u.reads for u in lines)
    writes = sum(u.per_month * u.writes for u in lines)
    deletes = sum(u.per_month * u.deletes for u in lines)
    requests = sum(u.per_month for u in lines)
    cpu_s = sum(u.per_month * u.cpu_us for u in lines) / 1e6
    print(f"{'total':<34} {requests:>11,.0f} {'':>9} {'':>9} {reads:>13,.0f} {writes:>13,.0f}")
    monitor_reads = sum(u.per_month * u.reads for u in lines if u.label.startswith("monitor"))
    polls_month = classes * WEEKS_PER_MONTH * polls
    term_end = QUESTIONS_PER_WEEK * CLASS_SIZE * TERM_WEEKS
    for questions in (0, term_end):
        per_poll = linear(firestore, "monitor", "monitor+", questions)[0]
        per_poll += firestore.results["token"].counts[0]
        print(
            f"  monitor polls with {questions} questions in the class: {per_poll:.0f} reads a"
            f" poll, {polls_month * per_poll:,.0f} reads"
            f" = ${polls_month * per_poll / 100_000 * FIRESTORE_READ_PER_100K:.2f} a month"
        )
    print(
        f"  the monitor polls are {monitor_reads / reads * 100:.1f} % of the reads; everything"
        f" else: {reads - monitor_reads:,.0f} reads"
        f" (${(reads - monitor_reads) / 100_000 * FIRESTORE_READ_PER_100K:.2f})"
    )

    print(
        "\nFirestore list prices ASSUMED (Standard edition, Seoul asia-northeast3; "
        f"{FIRESTORE_PRICES_CHECKED}: check them):\n"
        f"  ${FIRESTORE_READ_PER_100K} per 100 000 reads, ${FIRESTORE_WRITE_PER_100K} per"
        f" 100 000 writes, ${FIRESTORE_DELETE_PER_100K} per 100 000 deletes; free quota per day"
        f" ((default) database only): {FIRESTORE_FREE_READS_PER_DAY:,} reads,"
        f" {FIRESTORE_FREE_WRITES_PER_DAY:,} writes, {FIRESTORE_FREE_DELETES_PER_DAY:,} deletes"
    )
    rows = [
        ("reads", reads, FIRESTORE_READ_PER_100K, FIRESTORE_FREE_READS_PER_DAY),
        ("writes", writes, FIRESTORE_WRITE_PER_100K, FIRESTORE_FREE_WRITES_PER_DAY),
        ("deletes", deletes, FIRESTORE_DELETE_PER_100K, FIRESTORE_FREE_DELETES_PER_DAY),
    ]
    total = total_free = 0.0
    for what, count, price, free_per_day in rows:
        dollars = count / 100_000 * price
        # the free quota is daily: spread evenly over the month (lessons make days uneven)
        billable = max(0.0, count - free_per_day * DAYS_PER_MONTH)
        after_free = billable / 100_000 * price
        total, total_free = total + dollars, total_free + after_free
        print(
            f"  {what:<8} {count:>14,.0f} a month = ${dollars:>8.2f};"
            f" after the free quota ${after_free:>8.2f}"
        )
    print(
        f"  Firestore total ${total:.2f} a month (${total_free:.2f} after the free quota,"
        " if usage were even across days); storage, network\n  and TTL deletes of expired"
        " revocations and rate-limit windows are not included"
    )

    free_cpu = max(0.0, cpu_s - CLOUD_RUN_FREE_VCPU_SECONDS)
    step = CLOUD_RUN_BILLING_ROUND_S
    rounded_s = sum(u.per_month * math.ceil(u.cpu_us / 1e6 / step) * step for u in lines)
    billed_requests = max(0.0, requests - CLOUD_RUN_FREE_REQUESTS)
    print(
        "\nCloud Run, ESTIMATE from the measured CPU per request (server CPU of part 1 for"
        " live-code, week page and submissions;\n  else bare's server CPU + the in-process CPU"
        " of the operation and its token check), prices ASSUMED: request-based billing,\n"
        f"  Tier 2 (Seoul) ${CLOUD_RUN_VCPU_SECOND:.7f} per vCPU-second,"
        f" ${CLOUD_RUN_PER_MILLION_REQUESTS:.2f} per million requests; free per month:"
        f" {CLOUD_RUN_FREE_VCPU_SECONDS:,} vCPU-s, {CLOUD_RUN_FREE_REQUESTS:,} requests"
    )
    print(
        f"  {requests:,.0f} requests, {cpu_s:,.0f} vCPU-seconds of CPU time ="
        f" ${cpu_s * CLOUD_RUN_VCPU_SECOND:.2f} (${free_cpu * CLOUD_RUN_VCPU_SECOND:.2f} after"
        " the free tier): a lower bound, busy 1-vCPU instances packed perfectly"
    )
    print(
        f"  billed instance time is wall time while a request is in flight, rounded up to"
        f" {step * 1000:.0f} ms: if no two requests overlapped and each\n  took its CPU time"
        f" rounded up so, {rounded_s:,.0f} vCPU-seconds = ${rounded_s * CLOUD_RUN_VCPU_SECOND:.2f}"
        " (waits on Firestore add to that; concurrent requests share it); memory\n"
        "  (GiB-seconds) comes on top of either; requests: "
        f"${billed_requests / 1e6 * CLOUD_RUN_PER_MILLION_REQUESTS:.2f}"
        " after the free tier"
    )


# -- main -----------------------------------------------------------------------------------------
def main() -> int:
    from eduverse_firestore.emulator import EmulatorError, new_project, running_emulator

    print(f"CPUs: {os.cpu_count()}   Python {sys.version.split()[0]}")
    started = time.perf_counter()
    with (
        cleanup_on_signals(),
        tempfile.TemporaryDirectory(prefix="bench-firestore-") as folder,
        ExitStack() as stack,
    ):
        try:
            try:
                emulator = stack.enter_context(running_emulator(Path(folder)))
            except EmulatorError as exc:
                print(f"no Firestore emulator: {exc}", file=sys.stderr)
                return 2
            port = int(emulator.host.rsplit(":", 1)[1])
            pids = emulator_pids(port)
            print(
                f"Firestore emulator on {emulator.host} (processes {sorted(pids)}), ready in"
                f" {time.perf_counter() - started:.1f} s"
            )

            def emulator_cpu() -> float:
                return cpu_seconds(pids)

            print("\n== part 1: the HTTP API, SQLite and the Firestore emulator side by side")
            backends = api_benchmark(Path(folder), emulator.host, new_project(), emulator_cpu)
            print_api_results(backends)
            api_cpu = {name: Summary.of(runs).server_us for name, runs in backends[1].runs.items()}

            print("\n== part 2: storage operations per use case")
            sqlite_ops, firestore_ops = ops_benchmark(Path(folder), emulator.host, new_project())
        finally:
            with signals_ignored():
                stack.close()  # stops the emulator's process group
            print("emulator stopped")
    print_ops(sqlite_ops, firestore_ops)
    print("\n== part 3: what it would cost")
    print_costs(firestore_ops, api_cpu)
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as stopped:  # Ctrl-C or a signal: everything is stopped already
        print(f"interrupted ({stopped or 'Ctrl-C'})", file=sys.stderr)
        sys.exit(130)
