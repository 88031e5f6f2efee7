"""HTTP API benchmark (``make bench-api``): prints numbers and verdicts, asserts nothing.

Starts the production server, ``gunicorn "webapp:create_app()"``, on 127.0.0.1 with SQLite in a
temp folder and the bundled LogiCore course, signs up and logs in learners through the API, and
drives it from a load generator in a second process (stdlib ``http.client`` parsing, one
keep-alive connection per client thread, each request sent in one write; every measurement is
bounded by a request count *and* a time limit). Per scenario it prints req/s, p50/p99 latency
and errors, and CPU time per request of the server and of the load generator:

* ``bare``: ``GET /bench/bare`` returning ``{}`` from a one-file plugin mounted on the same
  server (``EDUVERSE_PLUGINS_DIR``) — the ceiling of gunicorn + Flask here: no auth, no storage;
* ``live-code``: ``PUT /api/progress/live-code`` with ~1 KiB of code, rotating learners — the
  editor autosave, the most frequent write (token check, one SQLite write transaction);
* ``week``: ``GET /api/packs/logicore/weeks/1``, a week rendered for the learner;
* ``submit``: ``POST /api/submissions`` of week 1 cycle 1's beginner reference solution,
  rotating learners — graded in the sandbox, logged, aggregated (passes after the first are
  revisits).

Rounds interleave the scenarios; req/s and CPU are medians over the rounds, p50/p99 are over
all requests. Targets: live-code >= 50 % of bare's throughput (the median of the per-round
ratios: bare and live-code run back to back, so other load on the machine mostly cancels out)
with p99 <= 50 ms; submissions >= 100/s with p99 <= 250 ms; zero errors.

Server settings: gthread, ``--workers 2 --threads 4``: one worker per core, threads to overlap
waits on SQLite and on the sandbox. Alone, 2x2 did as well or slightly better (less GIL
contention); mixed with submissions, 2x4 saved live code ~25 % faster with a lower p99, since
with two threads a worker's autosaves queue behind its two gradings. 2x8, 3x2 and 4x1 were no
better (more processes contend for SQLite's write lock). ``--workers``/``--threads`` compare.
The load generator shares the two CPUs with the server, and so does anything else running:
the ``other`` column says how much did. gunicorn runs in its own process group; it and every
process it started are stopped at the end, also on errors and on SIGINT, SIGTERM or SIGHUP.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import itertools
import json
import multiprocessing
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from eduverse_core.packs import load_pack
from eduverse_core.resources import bundled_dir

HOST = "127.0.0.1"
PACK = "logicore"
PASSWORD = "bench-password-1"

BARE_PLUGIN = '''"""Benchmark-only plugin: GET /bench/bare returns {} (the framework's ceiling)."""

from flask import Blueprint, jsonify

from eduverse_core import hookimpl

bp = Blueprint("bench_bare", __name__)


@bp.get("/bench/bare")
def bare():
    return jsonify({})


@hookimpl
def eduverse_web_register_blueprints(app, register):
    register(bp)
'''

GUNICORN_CONF = '''"""Benchmark-only gunicorn hooks."""


def worker_exit(server, worker):
    # Close the app's Eduverse so the sandbox workers' folders are removed: gunicorn calls no
    # shutdown hook of the app, and sandbox workers die with the thread that started them
    # (PR_SET_PDEATHSIG) without cleaning up, leaving /tmp/eduverse-sandbox-* behind.
    app = getattr(worker, "wsgi", None)
    if app is not None:
        app.extensions["eduverse"].close()
'''

# ~1 KiB of plausible editor text: what an autosave sends.
LIVE_CODE = (
    "# Week 1: inventory report for the LogiCore warehouse\n"
    + "".join(
        f"item_{i} = {{'name': 'part-{i:03d}', 'count': {i * 7 % 50}, 'shelf': 'B{i % 9}'}}\n"
        for i in range(16)
    )
    + "for item in (item_0, item_1, item_2):\n    print(item['name'], item['count'])\n"
)


# -- load generator (runs in its own process) -----------------------------------------------------
def raw_request(method: str, path: str, token: str | None = None, body: bytes = b"") -> bytes:
    """One HTTP/1.1 request, ready to send in one write as a browser sends a small request.

    (``HTTPConnection.request`` writes the head and the body separately: two TCP segments,
    so the server would wake twice per request and the load generator would spend more CPU
    on this shared machine than the requests it measures.)"""
    head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "Accept-Encoding: identity"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    if body:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return "\r\n".join([*head, "", ""]).encode() + body


@dataclass(frozen=True)
class Scenario:
    """Requests to rotate through and what a correct answer looks like."""

    name: str
    requests: list[bytes]  # raw HTTP requests (see raw_request)
    status: int = 200
    marker: bytes = b'"ok":true'  # must occur in a correct response body


@dataclass
class Measurement:
    """What the load generator saw in one bounded run of one scenario."""

    name: str
    seconds: float
    latencies_ms: list[float]
    errors: int
    error_samples: list[str] = field(default_factory=list)
    client_cpu_s: float = 0.0  # the load generator's CPU time
    server_cpu_s: float = 0.0  # gunicorn's and its sandbox workers' CPU time
    other_cores: float = 0.0  # CPUs busy with anything else meanwhile (other people's work)

    def cpu_us(self, seconds: float) -> float:
        """CPU microseconds per request: steadier than req/s on a shared, noisy machine."""
        return seconds / self.count * 1e6 if self.count else float("nan")

    @property
    def count(self) -> int:
        return len(self.latencies_ms) + self.errors

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run_load(
    port: int, scenario: Scenario, connections: int, max_requests: int, max_seconds: float
) -> Measurement:
    """``connections`` threads, each on its own keep-alive connection, share a request counter
    and stop at ``max_requests`` requests or after ``max_seconds``, whichever comes first."""
    counter = itertools.count()  # next() is atomic under the GIL
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    started, cpu_started = time.perf_counter(), time.process_time()
    stop_at = started + max_seconds

    def client() -> None:
        sock: socket.socket | None = None
        mine: list[float] = []
        failed: list[str] = []
        while (i := next(counter)) < max_requests and time.perf_counter() < stop_at:
            request = scenario.requests[i % len(scenario.requests)]
            sent = time.perf_counter()
            try:
                if sock is None:
                    sock = socket.create_connection((HOST, port), timeout=30)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.sendall(request)
                response = http.client.HTTPResponse(sock)
                response.begin()
                data = response.read()
                if response.will_close:
                    sock.close()
                    sock = None
            except (OSError, http.client.HTTPException) as exc:
                if sock is not None:
                    sock.close()
                    sock = None
                failed.append(f"{type(exc).__name__}: {exc}")
                continue
            if response.status != scenario.status or scenario.marker not in data:
                failed.append(f"{response.status}: {data[:200]!r}")
            else:
                mine.append((time.perf_counter() - sent) * 1000)
        if sock is not None:
            sock.close()
        with lock:
            latencies.extend(mine)
            errors.extend(failed)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return Measurement(scenario.name, elapsed, latencies, len(errors), errors[:3], cpu)


# -- the server -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def proc_stat(pid: int | str) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state is [0], ppid [1])."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU of ``pids`` and of their reaped children (sandbox submissions)."""
    ticks = 0
    for pid in pids:
        try:
            ticks += sum(int(v) for v in proc_stat(pid)[11:15])  # utime stime cutime cstime
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def busy_cpu_seconds() -> float:
    """CPU time all processes of the machine used (user, nice, system), from ``/proc/stat``."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:4]]
    return sum(ticks) / os.sysconf("SC_CLK_TCK")


def descendants(root: int) -> set[int]:
    """Every live descendant of ``root`` (Linux ``/proc``), found through parent ids."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int(proc_stat(entry.name)[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Server:
    """gunicorn serving ``webapp:create_app()`` from the environment, like production.

    ``storage`` is its ``EDUVERSE_STORAGE`` (default: SQLite in ``folder``); ``env`` adds
    variables to its environment (``FIRESTORE_EMULATOR_HOST``, say)."""

    def __init__(
        self,
        folder: Path,
        workers: int,
        threads: int,
        storage: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.folder = folder
        self.workers = workers
        self.threads = threads
        self.storage = storage or f"sqlite:///{folder / 'bench.db'}"
        self.extra_env = dict(env or {})
        self.port = free_port()
        self.log = folder / "gunicorn.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def settings(self) -> str:
        return f"gunicorn gthread, --workers {self.workers} --threads {self.threads}"

    def start(self) -> None:
        plugins = self.folder / "plugins"
        plugins.mkdir()
        (plugins / "bench_bare.py").write_text(BARE_PLUGIN)
        config = self.folder / "gunicorn_conf.py"
        config.write_text(GUNICORN_CONF)
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDUVERSE_")}
        env.update(
            EDUVERSE_STORAGE=self.storage,
            EDUVERSE_SECRET_KEY=secrets.token_urlsafe(32),  # one key for every worker
            EDUVERSE_PLUGINS_DIR=str(plugins),
            EDUVERSE_DEFAULT_PACK=PACK,
        )
        env.update(self.extra_env)
        options = {
            "--bind": f"{HOST}:{self.port}",
            "--worker-class": "gthread",
            "--workers": str(self.workers),
            "--threads": str(self.threads),
            "--log-level": "warning",
            "--config": str(config),
        }
        command = [sys.executable, "-m", "gunicorn", *itertools.chain(*options.items())]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [*command, "webapp:create_app()"],
                cwd=self.folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        self._wait_ready(timeout=60)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.tail()}")
            try:
                status, _ = call(self.port, "GET", "/readyz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn not ready after {timeout:.0f} s:\n{self.tail()}")

    def cpu_seconds(self) -> float:
        """CPU time used so far by gunicorn, its workers and their sandbox workers."""
        if self.process is None:
            return 0.0
        return cpu_seconds({self.process.pid, *descendants(self.process.pid)})

    def tail(self, lines: int = 30) -> str:
        """The end of gunicorn's log (warnings and errors only: ``--log-level warning``)."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> list[int]:
        """Stop the process group (TERM, then KILL), then any descendant that left it (the
        sandbox workers live in sessions of their own). Returns the pids still alive."""
        process, self.process = self.process, None
        if process is None:
            return []
        family = descendants(process.pid)
        for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        if process.poll() is None:
            process.kill()
            process.wait()
        deadline = time.monotonic() + 5.0  # sandbox workers die with their gunicorn worker
        while any(alive(pid) for pid in family) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in family:
            if alive(pid):
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
        return sorted(pid for pid in family if alive(pid))


def call(port: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One JSON request on a fresh connection (set-up only; the load uses keep-alive)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        payload = None if body is None else json.dumps(body)
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    return response.status, json.loads(data) if data else None


# -- the benchmark --------------------------------------------------------------------------------
def prepare_learners(port: int, count: int) -> list[str]:
    """Sign up and log in ``count`` learners through the API; their bearer tokens."""

    def one(i: int) -> str:
        email = f"learner{i}@bench.example"
        status, reply = call(
            port,
            "POST",
            "/api/auth/signup",
            {"email": email, "name": f"Learner {i}", "password": PASSWORD},
        )
        if status != 201:
            raise RuntimeError(f"signup failed: {status} {reply}")
        status, reply = call(
            port, "POST", "/api/auth/login", {"email": email, "password": PASSWORD}
        )
        if status != 200:
            raise RuntimeError(f"login failed: {status} {reply}")
        return str(reply["token"])

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(count)))


def scenarios(tokens: list[str]) -> list[Scenario]:
    """The four scenarios; requests rotate through the learners' tokens."""
    pack = load_pack(bundled_dir("scenario_packs") / PACK)
    week = pack.week(1)
    assert week is not None
    cycle = week.cycles[0]
    beginner = cycle.track("beginner")
    assert beginner is not None and beginner.solution
    live = json.dumps({"pack_id": PACK, "code": LIVE_CODE, "cycle_id": cycle.id}).encode()
    submission = json.dumps(
        {
            "pack_id": PACK,
            "week": 1,
            "cycle": cycle.id,
            "track": "beginner",
            "code": beginner.solution,
        }
    ).encode()
    return [
        Scenario("bare", [raw_request("GET", "/bench/bare")], marker=b"{}"),
        Scenario(
            "live-code", [raw_request("PUT", "/api/progress/live-code", t, live) for t in tokens]
        ),
        Scenario("week", [raw_request("GET", f"/api/packs/{PACK}/weeks/1", t) for t in tokens]),
        Scenario(
            "submit",
            [raw_request("POST", "/api/submissions", t, submission) for t in tokens],
            marker=b'"outcome":"passed"',
        ),
    ]


def measure(
    loader: concurrent.futures.Executor,
    server: Server,
    scenario: Scenario,
    connections: int,
    max_requests: int,
    seconds: float,
) -> Measurement:
    """One bounded run of ``scenario`` by the load generator (``loader``: one process), with
    the server's CPU time and the CPUs that other processes kept busy meanwhile."""
    before, busy_before = server.cpu_seconds(), busy_cpu_seconds()
    job = loader.submit(run_load, server.port, scenario, connections, max_requests, seconds)
    run = job.result()
    run.server_cpu_s = server.cpu_seconds() - before
    others = busy_cpu_seconds() - busy_before - run.server_cpu_s - run.client_cpu_s
    run.other_cores = max(0.0, others / run.seconds)
    return run


def run_stats(run: Measurement) -> str:
    """One run on one line: req/s, p50/p99, server CPU per request, other CPUs, errors."""
    return (
        f"{run.throughput:8.1f} req/s"
        f"  p50 {run.percentile(0.5):6.1f} ms  p99 {run.percentile(0.99):6.1f} ms"
        f"  server {run.cpu_us(run.server_cpu_s):5.0f} us/req"
        f"  other {run.other_cores:4.2f} CPUs  errors {run.errors}"
    )


@dataclass
class Summary:
    """One scenario over every round: median throughput and CPU, percentiles of all requests."""

    name: str
    throughput: float
    p50: float
    p99: float
    server_us: float
    client_us: float
    other_cores: float
    requests: int
    errors: int
    error_samples: list[str]

    @classmethod
    def of(cls, runs: list[Measurement]) -> Summary:
        pooled = Measurement(runs[0].name, 0.0, [x for r in runs for x in r.latencies_ms], 0)
        return cls(
            runs[0].name,
            statistics.median(r.throughput for r in runs),
            pooled.percentile(0.50),
            pooled.percentile(0.99),
            statistics.median(r.cpu_us(r.server_cpu_s) for r in runs),
            statistics.median(r.cpu_us(r.client_cpu_s) for r in runs),
            statistics.median(r.other_cores for r in runs),
            sum(r.count for r in runs),
            sum(r.errors for r in runs),
            [s for r in runs for s in r.error_samples][:3],
        )


def live_code_shares(runs: dict[str, list[Measurement]]) -> list[float]:
    """Live-code throughput / bare throughput, per round. The two run back to back, so load
    from elsewhere on the machine (which drifts over seconds) mostly cancels out."""
    pairs = zip(runs["bare"], runs["live-code"], strict=True)
    return [lc.throughput / b.throughput if b.throughput else 0.0 for b, lc in pairs]


def verdicts(
    results: dict[str, Summary], runs: dict[str, list[Measurement]]
) -> list[tuple[str, bool]]:
    """PASS/FAIL per target; the live-code share is the median of the per-round shares."""
    live, submit = results["live-code"], results["submit"]
    share = statistics.median(live_code_shares(runs))
    errors = sum(s.errors for s in results.values())
    return [
        (
            f"live-code >= 50 % of bare ({share * 100:.0f} %) with p99 <= 50 ms ({live.p99:.1f})",
            share >= 0.5 and live.p99 <= 50,
        ),
        (
            f"submissions >= 100/s ({submit.throughput:.0f}) with p99 <= 250 ms ({submit.p99:.1f})",
            submit.throughput >= 100 and submit.p99 <= 250,
        ),
        (f"zero errors ({errors})", errors == 0),
    ]


def raise_on_signal(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def cleanup_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP unwind like Ctrl-C, so ``finally`` blocks stop the server."""
    previous = {s: signal.signal(s, raise_on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def signals_ignored() -> Iterator[None]:
    """Ctrl-C and termination signals wait until the block is done (the clean-up)."""
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument("--requests", type=int, default=20_000, help="max requests per round")
    parser.add_argument("--seconds", type=float, default=2.0, help="max seconds per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds per scenario (median)")
    args = parser.parse_args()

    print(f"CPUs: {os.cpu_count()}   Python {sys.version.split()[0]}")
    ctx = multiprocessing.get_context("spawn")
    with cleanup_on_signals(), tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        server = Server(Path(folder), args.workers, args.threads)
        loader = concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx)
        try:
            started = time.perf_counter()
            server.start()
            print(
                f"server: {server.settings}, port {server.port},"
                f" ready in {time.perf_counter() - started:.1f} s"
            )
            started = time.perf_counter()
            tokens = prepare_learners(server.port, args.learners)
            print(
                f"{len(tokens)} learners signed up and logged in"
                f" in {time.perf_counter() - started:.1f} s"
            )
            plan = scenarios(tokens)

            def load(scenario: Scenario, max_requests: int, seconds: float) -> Measurement:
                return measure(loader, server, scenario, args.connections, max_requests, seconds)

            for scenario in plan:  # warm-up: packs loaded, sandbox workers started, caches full
                load(scenario, 500, 1.5)
            runs: dict[str, list[Measurement]] = {s.name: [] for s in plan}
            for round_ in range(1, args.rounds + 1):
                for scenario in plan:
                    run = load(scenario, args.requests, args.seconds)
                    runs[scenario.name].append(run)
                    print(f"  round {round_} {run.name:<10} {run_stats(run)}")
        finally:
            with signals_ignored():  # a second Ctrl-C must not cut the clean-up short
                loader.shutdown(cancel_futures=True)
                left = server.stop()
            print(f"server stopped; processes left behind: {len(left)} {left or ''}")
            if server_log := server.tail():
                print(f"server log (last lines):\n{server_log}")

    results = {name: Summary.of(measured) for name, measured in runs.items()}
    print(
        f"\n{server.settings}; {args.connections} keep-alive connections; {args.learners}"
        f" learners; {args.rounds} rounds of <= {args.requests} requests / <= {args.seconds:g} s;"
        " req/s and CPU: median of the rounds, percentiles: of all requests"
    )
    print(
        f"{'scenario':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'server':>8} {'client':>8}"
        f" {'other':>6} {'requests':>9} {'errors':>7}"
    )
    for s in results.values():
        print(
            f"{s.name:<10} {s.throughput:>9.1f} {s.p50:>8.2f} {s.p99:>8.2f} {s.server_us:>8.0f}"
            f" {s.client_us:>8.0f} {s.other_cores:>6.2f} {s.requests:>9} {s.errors:>7}"
        )
        for sample in s.error_samples:
            print(f"{'':<10} e.g. {sample}")
    print(
        "server, client: CPU microseconds per request of gunicorn (its workers and sandbox)"
        " and of the load generator;\nother: CPUs busy with other processes meanwhile"
        " (anything above ~0.1 means the numbers are disturbed)"
    )
    print("live-code / bare per round:", " ".join(f"{r:.2f}" for r in live_code_shares(runs)))
    print("\ntargets:")
    checks = verdicts(results, runs)
    for text, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as stopped:  # Ctrl-C or a signal: the server is stopped already
        print(f"interrupted ({stopped or 'Ctrl-C'})", file=sys.stderr)
        sys.exit(130)
