"""The sandbox grader: every submission in its own limited process, forked by a warm worker.

The server never forks. It starts a small pool of *worker* processes (``worker.py``, one per
CPU by default) with an empty environment; each imports the grading runtime once and then forks
one child per submission, so a trivial grading costs a ``fork`` rather than an interpreter
start. ``grade()`` borrows an idle worker, sends it the job as a length-prefixed frame on its
stdin and reads from its stdout what the child left (its verdict, or its exit status), which
it judges here: the worker does as little as it can per job. A worker that dies or answers
garbage is replaced on next use; the submission that saw it die gets ``grader_error`` (never
counted as an attempt) and the failure is logged. docs/grading.md has the contract, SECURITY.md the
isolation and its limits.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import marshal
import math
import os
import queue
import secrets
import select
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..models.submission import Outcome
from .base import GradeRequest, GradeResult, Limits
from .messages import message
from .worker import (
    EXIT_NO_VERDICT,
    MAX_SPARES,
    NO_SLOT,
    OUTCOMES,
    PIPE_READ,
    REPLY,
    REQUEST,
    SAW_CACHED_TESTS,
    SAW_EXIT,
    SAW_FAILURE,
    SAW_OVERFLOW,
    SAW_RESTORED,
    SAW_TIMEOUT,
    SPARES,
    TESTS_CACHE_SLOTS,
    VERDICT_FIELDS,
    VERDICT_MAGIC,
)

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
MAX_REPLY_BYTES = 64 * 1024 * 1024
START_TIMEOUT = 30.0
REPLY_MARGIN = 10.0  # seconds beyond the job's wall limit before we call a worker hung

MAX_LIMITS = Limits(
    cpu_seconds=30.0,
    wall_seconds=60.0,
    memory_bytes=2 * 1024 * 1024 * 1024,
    file_size_bytes=64 * 1024 * 1024,
    output_bytes=1024 * 1024,
)
"""The most a cycle's grader options may ask for: a pack cannot make the grader a DoS tool."""


class WorkerFailed(Exception):
    """A worker could not start, died or broke the protocol (our fault, never the learner's)."""


def parse_verdict(data: bytes, nonce: str) -> tuple[str, str, str, str] | None:
    """The child's verdict (outcome, message, stdout, detail), or None when it is missing,
    malformed or lacks the job's nonce."""
    if len(data) < 4 or struct.unpack_from(">I", data)[0] != len(data) - 4:
        return None
    head, newline, rest = data[4:].partition(b"\n")
    words = head.split(b" ")
    if not newline or len(words) != 2 + VERDICT_FIELDS or words[0] != VERDICT_MAGIC:
        return None
    if words[1] != nonce.encode():
        return None
    try:
        sizes = [int(w) for w in words[2:]]
    except ValueError:
        return None
    if min(sizes) < 0 or sum(sizes) != len(rest):
        return None
    fields, offset = [], 0
    for size in sizes:
        fields.append(rest[offset : offset + size].decode("utf-8", "replace"))
        offset += size
    outcome, message_, stdout, detail = fields
    return (outcome, message_, stdout, detail) if outcome in OUTCOMES else None


def _seconds(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def classify(
    flags: int, status: int, cpu_seconds: float, data: bytes, nonce: str, limits: Limits,
    locale: str,
) -> tuple[str, str, str, str]:  # fmt: skip
    """What the worker saw of a child -- flags (``SAW_*``), exit status, CPU time, the bytes
    it wrote -- as (outcome, message, stdout, detail)."""

    def reply(
        outcome: str, key: str = "", detail: str = "", **values: object
    ) -> tuple[str, str, str, str]:
        return outcome, message(key, locale, **values) if key else "", "", detail

    verdict = None if flags & SAW_OVERFLOW else parse_verdict(data, nonce)
    if verdict is not None:
        return verdict
    if flags & SAW_TIMEOUT:
        return reply("timeout", "timeout_wall", seconds=_seconds(limits.wall_seconds))
    if flags & SAW_OVERFLOW or data:  # wrote something that is not our verdict
        return reply("error", "interfered")
    if not flags & SAW_EXIT:
        return reply("grader_error", "grader_error", detail="the child was not reaped")
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu_seconds >= limits.cpu_seconds):
            return reply("timeout", "timeout_cpu", seconds=_seconds(limits.cpu_seconds))
        if sig == signal.SIGKILL:  # not us (we only kill after the deadline): the OOM killer
            return reply("limit_exceeded", "memory", mib=limits.memory_bytes >> 20)
        name = signal.Signals(sig).name if sig in set(signal.Signals) else str(sig)
        return reply("error", "stopped", signal=name)
    code = os.WEXITSTATUS(status)
    if code == EXIT_NO_VERDICT:
        return reply("grader_error", "grader_error", detail="the child's set-up failed")
    return reply("error", "exit_before_tests", how=f"os._exit({code})")


def effective_limits(base: Limits, options: Mapping[str, Any]) -> Limits:
    """``base`` with the limits a cycle's grader options set (``cpu_seconds``, …), each capped
    by :data:`MAX_LIMITS`. Other option keys are ignored (they belong to other graders)."""
    changes: dict[str, Any] = {}
    for spec in fields(Limits):
        if spec.name not in options:
            continue
        value = options[spec.name]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ValueError(f"grader option {spec.name!r} must be a positive number")
        cap = getattr(MAX_LIMITS, spec.name)
        kind = float if spec.name.endswith("seconds") else int
        changes[spec.name] = kind(min(value, cap))
    return replace(base, **changes) if changes else base


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker reported when it started."""

    pid: int
    base: str  # the worker's folder of job folders
    network_isolated: bool
    uid: int | None
    python: str
    stdlib_readable: bool
    watched: int  # namespaces checked after a job instead of restored before its tests


def _spawn(
    command: list[str], env: dict[str, str], pass_fds: tuple[int, ...] = ()
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        cwd="/",
        close_fds=True,
        pass_fds=pass_fds,
        start_new_session=True,  # Ctrl-C on the server's terminal is the server's
        bufsize=0,
    )


# Workers set PR_SET_PDEATHSIG, which fires when the *thread* that forked them ends, not the
# process. Request threads come and go (the development server starts one per request), so
# every worker is started from this one long-lived thread: it dies only with the server.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eduverse-sandbox-spawner")


# The worker starts from its code compiled here, in the server, and handed over on a memfd
# (``code_fd`` in its config): compiling its ~1 900 lines itself left ~4 MB of the compiler's
# freed memory resident in it, which every fork copies the page tables of and every child's
# exit tears down again (~8 % of a trivial grading's CPU). The worker's first stage reads it
# too, and ``exec``s the same command line, so the descriptor stays open across that ``exec``;
# the worker closes it once it is the zygote.
_BOOT = (
    "import json, marshal, os, sys\n"
    "__file__ = {path!r}\n"
    "_fd = json.loads(sys.argv[1])['code_fd']\n"
    "exec(marshal.loads(os.pread(_fd, os.fstat(_fd).st_size, 0)))\n"
)


@functools.lru_cache(maxsize=2)
def _marshalled(path: str, version: tuple[int, int]) -> bytes:
    """The script at ``path`` compiled and marshalled, once per ``version`` (its mtime and
    size): every grader of this process starts its workers from the same bytes."""
    source = Path(path).read_bytes()
    return marshal.dumps(compile(source, path, "exec", dont_inherit=True))


def _compiled_worker() -> int | None:
    """A memfd holding the worker's marshalled code (read-only use, shared by the workers of
    one grader), or None where there are no memfds: the workers then compile their script."""
    create = getattr(os, "memfd_create", None)
    if create is None:  # pragma: no cover - not Linux
        return None
    stat = WORKER_SCRIPT.stat()
    data = _marshalled(str(WORKER_SCRIPT), (stat.st_mtime_ns, stat.st_size))
    try:
        fd: int = create("eduverse-worker-code", os.MFD_CLOEXEC)
    except OSError:  # pragma: no cover - a kernel without memfds
        return None
    try:
        with open(fd, "wb", closefd=False) as memfd:  # (writes it all)
            memfd.write(data)
    except OSError:  # pragma: no cover - out of memory
        os.close(fd)
        return None
    return fd


class _Worker:
    """One zygote process and the pipes to it. Used by one thread at a time (the pool)."""

    def __init__(
        self, slot: int, command: list[str], env: dict[str, str], pass_fds: tuple[int, ...] = ()
    ) -> None:
        self.slot = slot
        self._command = command
        self._env = env
        self._pass_fds = pass_fds
        self._process: subprocess.Popen[bytes] | None = None
        self.info: WorkerInfo | None = None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.alive and self._process is not None else None

    def start(self) -> None:
        self.stop()
        try:
            spawned = _SPAWNER.submit(_spawn, self._command, self._env, self._pass_fds)
            self._process = spawned.result()
            ready = json.loads(self._read(time.monotonic() + START_TIMEOUT))
        except (OSError, ValueError, WorkerFailed) as exc:
            self.stop()
            raise WorkerFailed(f"sandbox worker {self.slot} did not start: {exc}") from exc
        if not isinstance(ready, dict) or ready.get("ready") is not True:
            self.stop()
            raise WorkerFailed(f"sandbox worker {self.slot} sent {ready!r} instead of ready")
        self.info = WorkerInfo(
            pid=int(ready["pid"]),
            base=str(ready.get("base", "")),
            network_isolated=bool(ready.get("network_isolated")),
            uid=ready.get("uid"),
            python=str(ready.get("python", "")),
            stdlib_readable=bool(ready.get("stdlib_readable")),
            watched=int(ready.get("watched") or 0),
        )

    def call(self, request: bytes, timeout: float) -> bytes:
        """Send the ``request`` frame and wait for the reply's; a worker that died while idle
        is restarted once, transparently."""
        for attempt in (1, 2):
            if not self.alive:
                self.start()
            assert self._process is not None and self._process.stdin is not None
            try:
                self._process.stdin.write(request)
            except (BrokenPipeError, ValueError) as exc:
                if attempt == 2:
                    raise WorkerFailed(f"sandbox worker {self.slot} is gone: {exc}") from exc
                self.stop()
                continue
            try:
                return self._read(time.monotonic() + timeout)
            except WorkerFailed:
                self.stop()  # never reuse a worker in an unknown state
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _read(self, deadline: float) -> bytes:
        """One reply frame's body; usually a single ``read`` (the worker writes it whole, and
        we send nothing until we have it, so the pipe never holds more than one)."""
        assert self._process is not None and self._process.stdout is not None
        fd = self._process.stdout.fileno()
        data = self._read_exactly(fd, 4, deadline, PIPE_READ)
        (size,) = struct.unpack_from(">I", data)
        if size > MAX_REPLY_BYTES:
            raise WorkerFailed(f"sandbox worker {self.slot} sent a {size}-byte frame")
        if len(data) > 4 + size:
            raise WorkerFailed(f"sandbox worker {self.slot} sent more than one frame")
        if len(data) < 4 + size:
            data += self._read_exactly(fd, 4 + size - len(data), deadline)
        return data[4:]

    def _read_exactly(self, fd: int, size: int, deadline: float, up_to: int = 0) -> bytes:
        """``size`` bytes, or more (up to ``up_to``) when they are already there."""
        chunks: list[bytes] = []
        left, wanted = size, max(size, up_to)
        while left > 0:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise WorkerFailed(f"sandbox worker {self.slot} did not answer in time")
            ready, _, _ = select.select([fd], [], [], wait)
            if not ready:
                continue
            chunk = os.read(fd, wanted)
            if not chunk:
                code = self._process.poll() if self._process else None
                raise WorkerFailed(f"sandbox worker {self.slot} exited (status {code})")
            chunks.append(chunk)
            left -= len(chunk)
            wanted -= len(chunk)
        return b"".join(chunks)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            process.wait(timeout=1.0)  # it exits by itself once its stdin is closed
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # A worker removes its folder on the way out, unless it was killed: then we do.
        base = self.info.base if self.info is not None else ""
        if os.path.basename(base).startswith("eduverse-sandbox-"):  # never anything else
            shutil.rmtree(base, ignore_errors=True)

    def rss_kb(self) -> int | None:
        """Resident memory of the worker (Linux), for the benchmark and diagnostics."""
        pid = self.pid
        if pid is None:
            return None
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None


class SandboxGrader:
    """The default grader (``sandbox``). Thread-safe: each call borrows one worker.

    :param workers: size of the pool (default: the number of CPUs, 2–8); more concurrent
        calls wait for a free worker, which keeps one CPU per running submission.
    :param uid_base: when the server runs as root, worker ``n``'s children run as uid
        ``uid_base + n`` (distinct per worker, so concurrent submissions cannot signal each
        other); ``None`` keeps the server's uid (weaker: see SECURITY.md).
    :param network: isolate the network (a new, empty network namespace) where permitted.
    :param limits: the default limits; a request's own ``limits`` win, then its options.
    :param tests_cache: how many test codes each worker keeps compiled for the children it
        forks afterwards (every submission to a cycle runs the same tests); 0 turns it off.
    :param spares: how many children each worker forks ahead of their jobs, in one batch
        (1–64). Larger batches cost less CPU per grading (each fork makes the worker's memory
        copy-on-write again) and hold more idle processes; a batch is also how many jobs a
        new cycle waits before its tests come from the cache.
    """

    name = "sandbox"

    def __init__(
        self,
        *,
        workers: int | None = None,
        uid_base: int | None = 60000,
        network: bool = True,
        python: str = sys.executable,
        tests_cache: int = TESTS_CACHE_SLOTS,
        spares: int = SPARES,
    ) -> None:
        count = workers if workers is not None else max(2, min(os.cpu_count() or 2, 8))
        if count < 1:
            raise ValueError("a sandbox grader needs at least one worker")
        if not 0 <= tests_cache < NO_SLOT:
            raise ValueError(f"tests_cache must be between 0 and {NO_SLOT - 1}")
        if not 1 <= spares <= MAX_SPARES:
            raise ValueError(f"spares must be between 1 and {MAX_SPARES}")
        # One malloc arena (see RLIMIT_AS); symbols bound when the worker starts, not on a
        # child's first call (each lazy binding writes, so copies, a page in every child).
        env = {"LANG": "C.UTF-8", "MALLOC_ARENA_MAX": "1", "LD_BIND_NOW": "1"}
        self._code_fd = _compiled_worker()
        pass_fds = () if self._code_fd is None else (self._code_fd,)
        self._workers = [
            _Worker(
                slot,
                self._command(python, slot, uid_base, network, tests_cache, spares, self._code_fd),
                env,
                pass_fds,
            )
            for slot in range(count)
        ]
        # LIFO: the worker used last is the warmest (its pages in the CPU's caches).
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        for worker in self._workers:
            self._idle.put(worker)
        self._closed = False
        self._lock = threading.Lock()
        self._graded_twice = 0  # jobs whose code changed a watched namespace (see _result)
        self._cached_tests = 0  # jobs whose child took its tests compiled from the cache

    @classmethod
    def from_settings(cls, settings: Settings) -> SandboxGrader:
        """The factory the plugin registers. Settings have no sandbox knobs yet: the defaults
        are the documented production configuration."""
        return cls()

    @staticmethod
    def _command(
        python: str,
        slot: int,
        uid_base: int | None,
        network: bool,
        tests_cache: int,
        spares: int,
        code_fd: int | None,
    ) -> list[str]:
        config: dict[str, Any] = {
            "uid": None if uid_base is None else uid_base + slot,
            "network": network,
            "tests_cache_slots": tests_cache,
            "spares": spares,
        }
        # -I: ignore PYTHON* variables and user site; -S: no site-packages (learner code sees
        # only the standard library); -B: write no .pyc; -X utf8: UTF-8 whatever the locale.
        flags = [python, "-I", "-S", "-B", "-X", "utf8"]
        if code_fd is None:
            return [*flags, str(WORKER_SCRIPT), json.dumps(config)]
        config["code_fd"] = code_fd
        return [*flags, "-c", _BOOT.format(path=str(WORKER_SCRIPT)), json.dumps(config)]

    # -- the Grader protocol ----------------------------------------------------------------
    def grade(self, request: GradeRequest) -> GradeResult:
        """Judge ``request`` in a fresh sandboxed process. Never raises: our own failures
        are logged and returned as ``grader_error``."""
        started = time.perf_counter()
        try:
            limits = effective_limits(request.limits, request.options)
        except ValueError as exc:
            return self._grader_error(request, started, f"bad grader options: {exc}")
        stdin = request.options.get("stdin", "")
        nonce = secrets.token_hex(16)  # the child's verdict must carry it
        job = {
            "code": request.code,
            "test_code": request.test_code,
            "filename": request.filename,
            "locale": request.locale,
            "limits": dict(vars(limits)),  # flat numbers: asdict's deep copy is not needed
            "stdin": stdin if isinstance(stdin, str) else "",
            "nonce": nonce,
        }
        body = json.dumps(job, ensure_ascii=False).encode("utf-8", "surrogatepass")
        cap = 4 * limits.output_bytes + (1 << 20)  # what the child may send back
        # [size of the rest][REQUEST header][the test code, for the worker's cache][the
        # child's own frame: its size, the JSON]
        tests = (request.test_code or "").encode("utf-8", "surrogatepass")
        head = REQUEST.pack(math.ceil(limits.wall_seconds * 1000), cap, len(tests))
        child_frame = struct.pack(">I", len(body)) + body
        rest = len(head) + len(tests) + len(child_frame)
        frame = struct.pack(">I", rest) + head + tests + child_frame
        if self._closed:
            return self._grader_error(request, started, "the grader is closed")
        worker = self._idle.get()
        try:
            reply = worker.call(frame, limits.wall_seconds + REPLY_MARGIN)
        except WorkerFailed as exc:
            return self._grader_error(request, started, str(exc))
        finally:
            self._idle.put(worker)
        return self._result(request, limits, nonce, reply, started)

    def close(self) -> None:
        """Stop every worker (they also die with the server). Idempotent."""
        with self._lock:
            self._closed = True
            for worker in self._workers:
                worker.stop()
            if self._code_fd is not None:
                os.close(self._code_fd)
                self._code_fd = None

    # -- extras ----------------------------------------------------------------------------
    def warm(self) -> None:
        """Start every worker now instead of on first use (the first grading is then fast)."""
        borrowed = [self._idle.get() for _ in self._workers]
        try:
            for worker in borrowed:
                if not worker.alive:
                    worker.start()
        finally:
            for worker in borrowed:
                self._idle.put(worker)

    def diagnostics(self) -> dict[str, Any]:
        """How isolated this machine lets the sandbox be (after :meth:`warm`).

        ``network_isolated`` is False when the platform did not permit a new network namespace
        (not root, or no CAP_SYS_ADMIN); ``uid_isolated`` is False when submissions run with
        the server's own uid; ``stdlib_readable`` False means a submission can import only
        the preloaded standard-library modules (the installation is unreadable to its uid).
        """
        infos = [w.info for w in self._workers if w.alive and w.info is not None]
        return {
            "grader": self.name,
            "workers": len(self._workers),
            "running": len(infos),
            "pids": [i.pid for i in infos],
            "network_isolated": bool(infos) and all(i.network_isolated for i in infos),
            "uid_isolated": bool(infos) and all(i.uid is not None for i in infos),
            "stdlib_readable": bool(infos) and all(i.stdlib_readable for i in infos),
            # Library namespaces checked after a job instead of restored before its tests,
            # and how many jobs changed one (each was graded again with the full restore).
            "watched_namespaces": min((i.watched for i in infos), default=0),
            "graded_twice": self._graded_twice,
            # Jobs whose tests their worker had compiled already (for an earlier submission).
            "tests_from_cache": self._cached_tests,
            "python": infos[0].python if infos else None,
            "rss_kb": [w.rss_kb() for w in self._workers if w.alive],
        }

    def __enter__(self) -> SandboxGrader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- helpers ---------------------------------------------------------------------------
    def _result(
        self, request: GradeRequest, limits: Limits, nonce: str, reply: bytes, started: float
    ) -> GradeResult:
        duration = round((time.perf_counter() - started) * 1000)
        if len(reply) < REPLY.size:
            return self._grader_error(request, started, f"malformed reply {reply!r:.200}")
        flags, status, cpu_us = REPLY.unpack_from(reply)
        data = reply[REPLY.size :]
        if flags & SAW_FAILURE:
            return self._grader_error(request, started, data.decode("utf-8", "replace"))
        if flags & (SAW_RESTORED | SAW_CACHED_TESTS):
            with self._lock:
                self._graded_twice += bool(flags & SAW_RESTORED)
                self._cached_tests += bool(flags & SAW_CACHED_TESTS)
        outcome_, text, stdout, detail = classify(
            flags, status, cpu_us / 1_000_000, data, nonce, limits, request.locale
        )
        outcome = Outcome(outcome_)
        if outcome is Outcome.GRADER_ERROR:
            log.error("sandbox grader failed: %s", detail or "no detail")
            text = text or message("grader_error", request.locale)
        return GradeResult(outcome, text, stdout, duration)

    @staticmethod
    def _grader_error(request: GradeRequest, started: float, detail: str) -> GradeResult:
        log.error("sandbox grader failed: %s", detail)
        duration = round((time.perf_counter() - started) * 1000)
        return GradeResult(
            Outcome.GRADER_ERROR, message("grader_error", request.locale), "", duration
        )
