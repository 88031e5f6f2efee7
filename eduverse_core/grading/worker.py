"""The sandbox worker: a pre-warmed "zygote" process that forks one limited child per submission.

The server (``sandbox.py``) starts this file as ``python -I -S -B -X utf8 worker.py CONFIG`` with
an empty environment. It is the only code that runs near learner code, so it imports nothing
but the standard library (and ``helpers.py`` / ``messages.py``, loaded by file path, which are
standard-library-only too). See SECURITY.md for the threat model; in short:

* **First stage**: asks the kernel, through ``ctypes``, to kill it with the server and for an
  empty network namespace, then ``exec``s a fresh interpreter as the zygote (which so never
  has ``ctypes`` loaded).
* **Zygote** (this process, trusted): imports the grading runtime and the common standard
  library once and does what every child would otherwise do for itself (signals, stdio on
  ``/dev/null``, raw descriptor writers removed from every module, the audit hook made, the
  child's kit), then answers binary frames on its pipes: a job in, what the child left out (the
  server parses and judges it). It keeps *spare* children forked ahead, forked in batches
  back to back: while a job runs it forks a batch when none is left and reaps children that
  have exited (without waiting for one still tearing down its memory), so neither is on a
  job's critical path. It watches each job with a wall-clock
  deadline, kills and reaps the child's process group and removes its working directory. It
  never runs learner code.
* **Child** (one per job): new session, every descriptor closed but stdio and its job and
  result pipes, a fresh empty working directory, an unprivileged uid when we are root — all
  before the job arrives; then rlimits, compile, run, judge, exit. Every page it writes is a
  copy-on-write fault (~3 us here), so it writes as little as it can.
* **The step loop**: the zygote serves from a thread whose entry point is C code
  (``deque.extend(map(operator.call, steps))``) taking each step from a generator; a batch
  of ``os.fork`` calls (C again) is one of those steps. So a child starts with no Python frame
  on its stack; its loop switches to the child's own generator (the zygote's stay parked),
  which yields the child's step chain: the learner's code and the tests run in the child's
  only thread with no grader frame below them, and with no thread of its own to start (a
  thread's start touches much of the runtime: ~10 % of a grading).
* **The verdict** travels on the result pipe, written by the child's generator once the chain is
  over. Every step's result is appended by C to a deque that no Python object the learner can
  reach refers to; the judge decides the outcome from that deque (``None`` means "ran without
  raising") and writes it with a private reference to ``os.write``, with a per-job nonce the
  server checks. So learner code can neither write a pass into the channel nor make the judge
  believe the tests returned normally when they raised.

What the tests do can still be influenced by the learner's code, because they run in the
learner's namespace by design (a returned object with a dishonest ``__eq__``,
monkeypatched pure-Python library classes). That fools the *test code*, never the channel; test
authors guard against it with ``type(x) is int``-style checks (docs/grading.md).
"""

from __future__ import annotations

import _thread
import builtins
import collections
import contextlib
import gc
import importlib.util
import io
import itertools
import json
import json.scanner
import math
import operator
import os
import resource
import select
import signal
import struct
import sys
import time
import types
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NoReturn

HERE = os.path.dirname(os.path.abspath(__file__))
Step = Callable[[], Any]  # what the zygote's step loop calls (see main)
TMP = "/tmp"  # where the zygote makes its folder (the server gives it no TMPDIR)...
SHM = "/dev/shm"  # ...unless this is memory with room: see _work_root
SHM_MIN_FREE = 1 << 30

# The zygote removes the descriptor functions of RAW_FD_FUNCTIONS from every module before its
# first child (see main()); its own code keeps these references. (No ``shutil``/``tempfile``
# either: they bring three compression libraries, whose mappings every fork copies.)
_os_write, _os_close, _os_dup, _os_dup2 = os.write, os.close, os.dup, os.dup2
MAX_FRAME = 64 * 1024 * 1024
PIPE_READ = 64 * 1024  # a pipe's capacity: one read takes a whole small frame
VERDICT_MAGIC = b"EDUV1"
VERDICT_FIELDS = 4  # outcome, message, stdout, detail
OUTCOMES = frozenset({"passed", "failed", "error", "timeout", "limit_exceeded", "grader_error"})
# Server -> zygote: after the frame's length, the wall-clock limit (ms), the most bytes the
# child may send back and the test code's length, then the test code (UTF-8, for the zygote's
# cache: see _TestsCache) and the job itself as the child reads it (a JSON frame). Zygote ->
# server: after the frame's length, what it saw (flags), the exit status and CPU time when it
# reaped the child, then the child's bytes (its verdict, if any) or our own error's text.
REQUEST = struct.Struct(">III")
REPLY = struct.Struct(">BiQ")
SAW_VERDICT, SAW_TIMEOUT, SAW_OVERFLOW, SAW_EXIT, SAW_RESTORED, SAW_FAILURE = 1, 2, 4, 8, 16, 32
SAW_CACHED_TESTS = 64  # the child ran test code the zygote had compiled
# The zygote's cache of compiled test code: how many, and the largest source it compiles.
TESTS_CACHE_SLOTS = 64
TESTS_CACHE_MAX_SOURCE = 32 * 1024
NO_SLOT = 0xFFFF  # (after the mode byte, the slot a child takes its compiled tests from)
SPARES = 8  # children forked ahead of their jobs, in one batch (see fork_spares)
MAX_SPARES = 64
EXIT_NO_VERDICT = 71  # the child's own exit code when its setup failed (our fault)

# Imported once in the zygote so a learner's ``import`` is a dictionary lookup. Each module
# also makes every fork and exit dearer (page tables): this is the set the bundled course and
# typical beginner code use, not the whole library (preloading also logging, hashlib, sqlite3,
# inspect, uuid & co. measured +0.7 ms per submission). Others are imported from source on
# demand, which needs a standard library the child's uid can read (``stdlib_readable`` in the
# diagnostics; true in the Docker image, false for a Python installed under /root).
PRELOAD = (
    "abc", "ast", "bisect", "calendar", "collections", "collections.abc", "contextlib", "copy",
    "csv", "dataclasses", "datetime", "decimal", "enum", "fractions", "functools", "heapq",
    "io", "itertools", "json", "keyword", "math", "numbers", "operator", "os", "pathlib",
    "pprint", "random", "re", "statistics", "string", "struct", "textwrap", "time",
    "tokenize", "types", "typing", "warnings", "weakref",
    # Imported lazily by the above: datetime.strptime, and str.encode/decode for common codecs.
    "_strptime", "encodings.latin_1", "encodings.utf_16", "encodings.utf_8_sig",
    "encodings.cp949", "encodings.euc_kr",
)  # fmt: skip

# Modules learner code may not import (or find in sys.modules): native-code loaders, process
# and descriptor control, sockets, and the introspection that reaches other objects.
DENIED_MODULES = frozenset(
    {
        "_ctypes", "ctypes", "_posixsubprocess", "subprocess", "multiprocessing",
        "_multiprocessing", "_posixshmem", "socket", "_socket", "ssl", "_ssl", "select",
        "selectors", "asyncio", "mmap", "fcntl", "termios", "tty", "pty", "resource", "gc",
        "faulthandler", "_testcapi", "_testinternalcapi", "_testbuffer", "_xxsubinterpreters",
        "_xxinterpchannels", "readline", "curses", "_curses", "_dbm", "_gdbm", "dbm",
        "_tracemalloc", "tracemalloc", "_lsprof", "cProfile", "profile", "pdb", "bdb",
        "webbrowser", "urllib", "http", "ftplib", "smtplib", "imaplib", "poplib", "telnetlib",
        "xmlrpc", "socketserver", "ossaudiodev", "syslog", "spwd", "nis", "_tkinter",
    }
)  # fmt: skip

# Functions that write to, duplicate or close a raw descriptor raise no audit event, so they
# are removed from every module before learner code runs (the child keeps private references).
RAW_FD_FUNCTIONS = (
    "write", "writev", "pwrite", "pwritev", "sendfile", "splice", "copy_file_range",
    "dup", "dup2", "close", "closerange", "fdopen", "pidfd_open", "openpty", "login_tty",
    "pidfd_send_signal", "set_wakeup_fd",
)  # fmt: skip
_IMP_REMOVED = ("create_builtin",)  # re-creating ``posix`` would bring the writers back

# Namespaces the tests must see as the zygote left them: these modules, the helpers' own module
# and the builtins. The child checks them after its run (version tags: _Judge.watched_unchanged)
# and only if one changed is the job graded again, with them restored before the tests:
# restoring them every time costs ~400 copy-on-write faults (~1 ms). Other modules are neither
# checked nor restored; docs/grading.md tells test authors to stay with these.
RESTORED_MODULES = (
    "ast", "collections", "csv", "functools", "io", "itertools", "json", "math", "operator",
    "random", "re", "statistics", "string", "tokenize",
)  # fmt: skip

# Where CPython keeps a dictionary's version tag (PEP 509): after the object header (reference
# count and type) and ``ma_used``, on 64-bit builds of 3.11-3.13. Every change to a dictionary
# gives it a new, never reused tag. Checked at start-up (:func:`_own_memory`); without it
# every submission gets the full restore.
DICT_TAG_OFFSET = 24
MODE_OPTIMISTIC, MODE_RESTORE = b"O", b"R"  # the byte before a job: skip the restore or not
# In optimistic mode a child whose step chain changed a watched namespace sends this (an empty
# frame) instead of a verdict: the zygote then grades the job again, with the restore.
TAMPERED = b"\0\0\0\0"

PROCESS_MODULES = frozenset({"subprocess", "_posixsubprocess", "multiprocessing", "pty"})
PROCESS_EVENTS = frozenset(
    {"os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "os.system",
     "subprocess.Popen", "pty.spawn", "os.startfile", "_posixsubprocess.fork_exec"}
)  # fmt: skip
FORBIDDEN_EVENTS = frozenset(
    {"sys._current_frames", "sys._current_exceptions", "sys.settrace", "sys.setprofile",
     "sys.addaudithook", "code.__new__", "marshal.loads", "marshal.load",
     "os.kill", "os.killpg", "os.symlink",
     "os.link", "os.chdir", "os.chroot", "os.setxattr", "os.removexattr", "resource.setrlimit",
     "resource.prlimit", "mmap.__new__", "sqlite3.enable_load_extension",
     "sqlite3.load_extension", "signal.pthread_kill", "os.mknod", "os.mkfifo"}
)  # fmt: skip
FORBIDDEN_PREFIXES = ("ctypes.", "socket.", "fcntl.", "gc.", "_thread.", "winreg.", "msvcrt.")
PATH_EVENTS = {  # event → how many leading arguments are paths that must be in the workdir
    "os.remove": 1, "os.rmdir": 1, "os.mkdir": 1, "os.rename": 2, "os.chmod": 1,
    "os.chown": 1, "os.truncate": 1, "os.utime": 1, "os.chflags": 1, "os.lchflags": 1,
    "sqlite3.connect": 1,
}  # fmt: skip
IDLE_CLEANUP_SECONDS = 0.005
MAX_OUTPUT_PLACEHOLDER = 64 * 1024  # the capture's limit until the job sets the real one
MAX_FILES_WRITTEN = 100  # bounds disk use: at most this many opens for writing × RLIMIT_FSIZE
_O_WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


# -- loading our two standard-library-only siblings --------------------------------------
def _load_sibling(name: str) -> types.ModuleType:
    """Load ``grading/<name>.py`` by path, without registering it in ``sys.modules``: learner
    code must not find the grader's modules by name."""
    spec = importlib.util.spec_from_file_location(f"_eduverse_{name}", f"{HERE}/{name}.py")
    if spec is None or spec.loader is None:  # pragma: no cover - our own files
        raise ImportError(f"cannot load {name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Output capture, compiled into its own tiny namespace: the learner reaches these objects
# (``sys.stdout``), so their globals must lead nowhere but here.
_CAPTURE_SOURCE = '''
class OutputLimitExceeded(BaseException):
    """print() reached the output limit (a BaseException: a bare ``except Exception`` in the
    learner's code should not swallow it)."""


class Capture:
    """A write-only text stream that keeps what is written, up to a shared limit."""

    encoding = "utf-8"
    errors = "strict"
    newlines = None
    closed = False

    def __init__(self, parts, counter, limit):
        self._parts = parts
        self._counter = counter  # [characters so far, exceeded?], shared by both phases
        self._limit = limit

    def write(self, text):
        if type(text) is not str:
            raise TypeError("write() argument must be str, not " + type(text).__name__)
        used = self._counter[0]
        if used + len(text) > self._limit:
            if self._limit > used:
                self._parts.append(text[: self._limit - used])
            self._counter[0] = self._limit
            self._counter[1] = True
            raise OutputLimitExceeded("output limit reached")
        self._counter[0] = used + len(text)
        self._parts.append(text)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def close(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def seekable(self):
        return False

    def fileno(self):
        raise UnsupportedOperation("the sandbox's output has no file descriptor")


def exit(code=None):
    """exit()/quit() without the site module (``python -S``)."""
    raise SystemExit(code)
'''


# -- the steps of the child's chain --------------------------------------------------------
# They are re-created with isolated globals (see ``_isolated``): learner frames can reach them
# while they run (a finalizer, a ``__str__``), and must find nothing of the grader there. None
# of them decides anything: the judge decides from which steps returned ``None``.
def _guarded(
    record: list[BaseException],
    fn: Callable[..., object],
    *args: object,
    _catch: type[BaseException] = BaseException,
) -> BaseException | None:
    """Run ``fn(*args)``; return the exception it raised (also kept in ``record``) or None."""
    try:
        fn(*args)
    except _catch as exc:
        record.append(exc)
        return exc
    return None


def _run_held(box: list[Any], ns: dict[str, Any], _exec: Callable[..., Any] = exec) -> None:
    """``exec`` the code object in ``box`` (filled in when the job arrives). ``exec`` is a
    default argument: by the time the tests run, ``builtins.exec`` may be the learner's."""
    _exec(box[0], ns)


def _prepare_tests(
    state: dict[str, Any],
    _pread: Callable[[int, int, int], bytes] = os.pread,
    _to_int: Callable[[bytes, Any], int] = int.from_bytes,
    _offset: int = DICT_TAG_OFFSET,
    _order: Any = sys.byteorder,
    _error: type[OSError] = OSError,
) -> None:
    """Between the learner's run and the tests: put back what the learner may have replaced
    (builtins, module namespaces, ``sys``), then bind the helpers afresh in the namespace.
    Nothing to do when there are no tests ("just run it").

    ``sys`` and ``sys.modules`` are put back only when their version tags moved since the
    child's set-up (``state["sys_tags"]``: their addresses, and their tags as
    :func:`_read_tags` read them then): a change always gives a new tag, and writing back
    every name and value writes ~30 pages a child would otherwise copy. An unreadable tag
    counts as moved.

    Learner code can run in here -- a finalizer when a replaced object is dropped, the
    ``__eq__`` of a key met in a lookup -- and find this frame (``f_back``). So everything is
    read from ``state`` first, into locals (which such code can read, not rebind), and ``state``
    is not read again: a builtins dictionary or helpers slipped into it come too late."""
    if not state["tests"]:
        return
    restore, (sys_dict, sys_snap), lists = state["restore"], state["sys"], state["lists"]
    (modules, modules_snap), module = state["modules"], state["module"]
    test_out, test_err, stdin_text, make_stdin = (
        state["test_out"], state["test_err"], state["stdin_text"], state["stdin_type"],
    )  # fmt: skip
    parts, ns, real_builtins, helpers = (
        state["parts"],
        state["ns"],
        state["builtins"],
        state["helpers"],
    )
    source, locale = state["source"], state["locale"]
    memory, ((sys_address, modules_address), then) = state["memory"], state["sys_tags"]
    for live, snap in restore:  # all of them, or those the zygote cannot check
        live.clear()
        live.update(snap)
    try:  # (after the restore above, whose dropped objects' finalizers may have run)
        now = (
            _to_int(_pread(memory, 8, sys_address + _offset), _order),
            _to_int(_pread(memory, 8, modules_address + _offset), _order),
        )
    except _error:
        now = None
    sys_moved = then is None or now is None or now[0] != then[0]
    modules_moved = then is None or now is None or now[1] != then[1]
    if sys_moved:
        for key in [k for k in sys_dict if k not in sys_snap]:
            del sys_dict[key]
        sys_dict.update(sys_snap)
    for live_list, saved in lists:
        live_list[:] = saved
    if modules_moved:
        modules.update(modules_snap)
        modules["__main__"] = module
    sys_dict["stdout"] = sys_dict["__stdout__"] = test_out
    sys_dict["stderr"] = sys_dict["__stderr__"] = test_err
    sys_dict["stdin"] = sys_dict["__stdin__"] = make_stdin(stdin_text)
    stdout = "".join([p for p in parts if type(p) is str])
    ns["__builtins__"] = real_builtins  # whatever the learner bound there
    ns.update(helpers(source, stdout, locale))


def _collect(record: list[BaseException]) -> tuple[tuple[BaseException, str], ...]:
    """``str()`` of every exception raised, computed here because it may run learner code
    (``__str__``), which must never run while the judge decides."""
    texts = []
    for exc in record:
        try:
            text = str(exc)
        except BaseException:
            text = ""
        texts.append((exc, text[:2000] if type(text) is str else ""))  # a message, not a dump
    return tuple(texts)


def _isolated(func: Callable[..., Any]) -> Callable[..., Any]:
    """A copy of ``func`` whose globals are a fresh dictionary holding only the builtins."""
    copy = types.FunctionType(
        func.__code__, {"__builtins__": builtins.__dict__}, func.__name__, func.__defaults__
    )
    copy.__kwdefaults__ = func.__kwdefaults__
    return copy


# -- the audit hook ------------------------------------------------------------------------
def _make_audit_hook(
    *,
    import_roots: tuple[str, ...],
    protected: frozenset[int],
    rules: Mapping[str, Any],
    tools: Mapping[str, Any],
) -> tuple[
    Callable[[str, tuple[Any, ...]], None],
    Callable[[], bool],
    Callable[[str, Any, Any], None],
    Callable[[bool], None],
]:
    """The hook that refuses dangerous operations while it is *armed*, a function telling
    the judge whether a process was attempted, one that sets the child's facts and one that
    arms and disarms the hook.

    Made once, in the zygote; installed by each child, never in the zygote (where it would be
    called, disarmed, on every fork). Each child installs it and sets its facts -- its working
    directory, the folders it may read, its two grader descriptors -- before its job arrives,
    and the child's step chain (C code) arms the hook
    right before the learner's code and disarms it after the tests. Facts and flag are values
    rebound by the setters, never containers changed in place: the learner reads the hook's
    locals in a refusal's traceback, and a list there could be rewritten (say, the working
    directory).

    Runs as a copy with *empty* globals (:data:`audit_hook_factory`): a refused operation
    raises from inside the hook, so the learner's traceback holds these frames, and their
    ``f_globals`` must lead nowhere. Every name it uses is a parameter or a closure variable
    (``tools`` carries the builtins: by the time an event fires, the learner may have replaced
    the real ones). It never calls a method of a learner object: ``sys.audit()`` lets learner
    code pass any event and arguments, so types are checked first, exactly.
    """
    _type, _str, _bytes, _int, _len, _id, _tuple = (
        tools[n] for n in ("type", "str", "bytes", "int", "len", "id", "tuple")
    )
    _denied = tools["PermissionError"]
    process_events, forbidden = rules["process_events"], rules["forbidden_events"]
    prefixes, path_events = rules["forbidden_prefixes"], rules["path_events"]
    denied_modules, process_modules = rules["denied_modules"], rules["process_modules"]
    o_write, max_files = rules["o_write"], rules["max_files"]
    # Plain closure variables: a frame's f_locals shows their values, not the cells. The hook
    # is one function on purpose: a helper function would appear in its frame's f_locals, and
    # a function's __closure__ cells can be rewritten (``cell_contents``).
    files_written = 0
    process_attempted = False
    facts: tuple[Any, ...] = (None, (), ())
    armed = False

    def hook(event: str, args: tuple[Any, ...]) -> None:
        nonlocal files_written, process_attempted
        if not armed:
            return
        workdir, read_roots, grader_fds = facts
        write_roots = (workdir,)
        if _type(event) is not _str or _type(args) is not _tuple:
            raise _denied("not allowed in the sandbox: this audit event")
        checks: tuple[tuple[Any, tuple[str, ...], str], ...] = ()
        if event == "open":
            path, flags = args[0], args[2]
            if _type(path) is _int:
                if path in grader_fds:
                    raise _denied("not allowed in the sandbox: opening the grader's descriptor")
                return
            if _type(flags) is not _int:
                raise _denied("not allowed in the sandbox: open")
            if flags & o_write:
                files_written += 1
                if files_written > max_files:
                    raise _denied(f"not allowed in the sandbox: writing over {max_files} files")
                checks = ((path, write_roots, "writing outside the working directory"),)
            else:
                checks = ((path, read_roots, "reading outside the working directory"),)
        elif event in process_events:
            process_attempted = True
            raise _denied("not allowed in the sandbox: starting a process")
        elif event in ("object.__setattr__", "object.__delattr__"):
            # Raised for a function's __code__/__defaults__/__kwdefaults__. namedtuple sets
            # __defaults__, so that stays allowed on the learner's own functions.
            name = args[1]
            if _type(name) is not _str or name == "__code__" or _id(args[0]) in protected:
                what = name if _type(name) is _str else "an attribute"
                raise _denied(f"not allowed in the sandbox: changing {what}")
            return
        elif event in forbidden:
            raise _denied(f"not allowed in the sandbox: {event}")
        elif event == "import":
            name = args[0]
            if _type(name) is not _str:
                raise _denied("not allowed in the sandbox: importing this module")
            if name.split(".")[0] in denied_modules:
                if name.split(".")[0] in process_modules:
                    process_attempted = True
                raise _denied(f"not allowed in the sandbox: importing {name}")
            if _len(args) > 1 and args[1] is not None:
                checks = ((args[1], import_roots, "importing code from outside the library"),)
        elif event in ("os.listdir", "os.scandir"):
            target = args[0]
            if target is None or _type(target) is _int:
                return
            checks = ((target, read_roots, "listing a folder outside the working directory"),)
        elif event in path_events:
            for target in args[: path_events[event]]:
                if _type(target) is _int:
                    if target in grader_fds:
                        raise _denied("not allowed in the sandbox: the grader's descriptor")
                    continue
                checks += ((target, write_roots, f"{event} outside the working directory"),)
        else:
            for prefix in prefixes:
                if event.startswith(prefix):
                    raise _denied(f"not allowed in the sandbox: {event}")
            return
        for value, roots, what in checks:
            # Lexical normalisation: symlinks and chdir are refused, so a path inside the
            # workdir on paper is inside it on disk.
            if _type(value) is _bytes:
                value = value.decode("utf-8", "surrogateescape")
            if _type(value) is not _str:
                raise _denied(f"not allowed in the sandbox: {what}")
            parts: list[str] = []
            for part in (value if value.startswith("/") else workdir + "/" + value).split("/"):
                if part == "..":
                    if parts:
                        parts.pop()
                elif part not in ("", "."):
                    parts.append(part)
            where = "/" + "/".join(parts)
            allowed = False
            for root in roots:
                if where == root or where.startswith(root + "/"):
                    allowed = True
                    break
            if not allowed:
                raise _denied(f"not allowed in the sandbox: {what} ({where})")

    def processes_attempted() -> bool:
        return process_attempted

    def set_facts(workdir: str, read_roots: Any, grader_fds: Any) -> None:
        nonlocal facts
        facts = (workdir, read_roots, grader_fds)

    def set_armed(flag: bool) -> None:
        nonlocal armed
        armed = flag

    return hook, processes_attempted, set_facts, set_armed


def _empty_globals(func: Callable[..., Any]) -> Callable[..., Any]:
    """A copy of ``func`` with globals that hold nothing, not even builtins."""
    return types.FunctionType(func.__code__, {"__builtins__": {}}, func.__name__)


audit_hook_factory = _empty_globals(_make_audit_hook)
AUDIT_RULES: Mapping[str, Any] = types.MappingProxyType(
    {
        "process_events": PROCESS_EVENTS,
        "forbidden_events": FORBIDDEN_EVENTS,
        "forbidden_prefixes": FORBIDDEN_PREFIXES,
        "path_events": types.MappingProxyType(PATH_EVENTS),
        "denied_modules": DENIED_MODULES,
        "process_modules": PROCESS_MODULES,
        "o_write": _O_WRITE,
        "max_files": MAX_FILES_WRITTEN,
    }
)
AUDIT_TOOLS: Mapping[str, Any] = types.MappingProxyType(
    {
        "type": type,
        "str": str,
        "bytes": bytes,
        "int": int,
        "len": len,
        "id": id,
        "tuple": tuple,
        "PermissionError": PermissionError,
    }
)


# -- what the zygote prepares once ---------------------------------------------------------
@dataclass
class _TestsCache:
    """Test code compiled once, in the zygote, for the children forked after: every submission
    to a cycle runs the same tests, and compiling them is a child's costliest step after
    running them. Slots are filled round-robin; a child may use a slot filled before it was
    forked (``born`` against the fork count) -- a later refill is not in its memory."""

    slots: int = TESTS_CACHE_SLOTS
    entries: list[tuple[bytes, Any, int]] = field(default_factory=list)  # source, code, born
    index: dict[bytes, int] = field(default_factory=dict)  # source -> slot
    forks: int = 0  # children forked so far
    next_slot: int = 0

    def slot_for(self, source: bytes, forked: int) -> int:
        """The slot holding ``source`` compiled, for the child that was fork number
        ``forked``; :data:`NO_SLOT` when it has none."""
        slot = self.index.get(source, NO_SLOT)
        return slot if slot != NO_SLOT and self.entries[slot][2] < forked else NO_SLOT

    def add(self, source: bytes) -> None:
        """Compile ``source`` into the next slot, for the children forked from now on. Not
        when there is no room for it (no slots, too big) or it does not compile: children
        compile it then, and report what is wrong."""
        if not self.slots or not source or len(source) > TESTS_CACHE_MAX_SOURCE:
            return
        if source in self.index:
            return
        try:
            text = source.decode("utf-8", "surrogatepass")
            code = compile(text, "<tests>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return
        slot, self.next_slot = self.next_slot, (self.next_slot + 1) % self.slots
        entry = (source, code, self.forks)
        if slot < len(self.entries):
            del self.index[self.entries[slot][0]]
            self.entries[slot] = entry
        else:
            self.entries.append(entry)
        self.index[source] = slot


@dataclass
class Context:
    """Everything the zygote computes once and every child inherits through ``fork``."""

    uid: int | None
    base: str
    network_isolated: bool
    stash: dict[str, Any]
    strip: tuple[tuple[dict[Any, Any], str], ...]
    restore: tuple[tuple[dict[Any, Any], Mapping[Any, Any]], ...]
    # The namespaces of ``restore`` whose changes a child sees (their addresses and version
    # tags: _Judge.watched_unchanged): a job may skip restoring them. The rest is always
    # restored.
    watched: tuple[int, ...]
    baseline: tuple[int, ...]
    restore_unwatched: tuple[tuple[dict[Any, Any], Mapping[Any, Any]], ...]
    # The builtins and the helpers' namespace with their snapshots: after a run with the
    # restore, the judge checks that the tests left them as restored (see _Judge).
    kept_during_tests: tuple[tuple[dict[Any, Any], Mapping[Any, Any]], ...]
    sys_snapshot: Mapping[str, Any]
    lists: tuple[tuple[list[Any], tuple[Any, ...]], ...]
    modules_snapshot: Mapping[str, Any]
    builtins_snapshot: Mapping[str, Any]
    read_roots: tuple[str, ...]
    import_roots: tuple[str, ...]
    helpers: Callable[[str, str, str], dict[str, Any]]
    messages: types.ModuleType
    capture: type
    output_limit_exceeded: type[BaseException]
    steps: dict[str, Callable[..., Any]] = field(default_factory=dict)
    protected: frozenset[int] = frozenset()  # ids of our functions the learner can reach
    own_memory: int = -1  # /proc/self/mem, for version tags (-1: not available)
    tests: _TestsCache = field(default_factory=_TestsCache)
    spares: int = SPARES  # forked in one batch (see fork_spares)
    kit: _Kit = field(init=False)  # built at the end of prepare()


def _libc_call(name: str, *args: int) -> bool:
    """Call a libc function through ctypes (first stage only: see :func:`first_stage`); True
    when it returned 0."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(getattr(libc, name)(*args)) == 0
    except Exception:
        return False


def _isolate_network() -> bool:
    """Move the zygote (and so every child) into a new, empty network namespace: no interface
    but a loopback that is down. Needs CAP_SYS_ADMIN (root in a container); once per zygote,
    because creating a namespace per child costs milliseconds."""
    clone_newnet = 0x40000000
    return os.geteuid() == 0 and _libc_call("unshare", clone_newnet)


def _snapshots(
    dangerous: set[int], denied: set[int]
) -> tuple[list[tuple[dict[Any, Any], str]], list[tuple[dict[Any, Any], Mapping[Any, Any]]]]:
    """The strip plan (module namespace, name) and the restore plan (namespace, snapshot)."""
    strip: list[tuple[dict[Any, Any], str]] = []
    restore: list[tuple[dict[Any, Any], Mapping[Any, Any]]] = []
    hidden = _hidden_names()
    for name, module in list(sys.modules.items()):
        if not isinstance(module, types.ModuleType) or name in ("sys", "builtins", *hidden):
            continue
        namespace = module.__dict__
        removed = {k for k, v in namespace.items() if id(v) in dangerous or id(v) in denied}
        if name == "_imp":
            removed.update(k for k in _IMP_REMOVED if k in namespace)
        strip.extend((namespace, key) for key in sorted(removed))
        if name in RESTORED_MODULES:
            snap = {k: v for k, v in namespace.items() if k not in removed}
            restore.append((namespace, types.MappingProxyType(snap)))
    strip.extend((sys.modules, n) for n in sys.modules if n.split(".")[0] in DENIED_MODULES)
    strip.extend((sys.modules, n) for n in hidden if n != "__main__")
    return strip, restore


def _read_tags(
    fd: int,
    addresses: tuple[int, ...],
    _pread: Callable[[int, int, int], bytes] = os.pread,
    _to_int: Callable[[bytes, Any], int] = int.from_bytes,
    _len: Callable[[bytes], int] = len,
    _tuple: type[tuple[Any, ...]] = tuple,
    _error: type[OSError] = OSError,
    _offset: int = DICT_TAG_OFFSET,
    _order: Any = sys.byteorder,
) -> tuple[int, ...] | None:
    """The version tags of the dictionaries at ``addresses`` in the process whose memory ``fd``
    reads (``/proc/self/mem``); None when it cannot be read. A child's judge calls it after
    learner code ran, so it looks up no name at all: what it uses is bound as defaults."""
    tags = []
    try:
        for address in addresses:
            raw = _pread(fd, 8, address + _offset)
            if _len(raw) != 8:
                return None
            tags.append(_to_int(raw, _order))
    except _error:
        return None
    return _tuple(tags)


def _own_memory() -> int:
    """A descriptor on this process's memory through which dictionary version tags read as
    PEP 509 promises -- a changed value, a new key or a deletion gives a new tag, a lookup
    does not -- or -1 (another Python, another layout, no ``/proc``)."""
    if sys.implementation.name != "cpython" or sys.maxsize != 2**63 - 1:
        return -1
    try:
        fd = os.open("/proc/self/mem", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return -1
    probe = {"a": 1, "b": 2}
    other: dict[str, int] = {}
    tags = [_read_tags(fd, (id(probe),))]
    probe["a"] = 3  # the same key, another value: the keys table stays as it is
    tags.append(_read_tags(fd, (id(probe),)))
    _ = probe["a"], len(probe)
    tags.append(_read_tags(fd, (id(probe),)))
    del probe["b"]
    tags.append(_read_tags(fd, (id(probe),)))
    other["c"] = 4  # tags are global: a later change anywhere gets a larger one
    tags.append(_read_tags(fd, (id(other),)))
    values = [t[0] if t else -1 for t in tags]
    if min(values) < 0 or not values[0] < values[1] == values[2] < values[3] < values[4]:
        os.close(fd)
        return -1
    return fd


def move_baseline(ctx: Context) -> None:
    """After a child reported a changed namespace: if the zygote itself changed one (its own
    tags differ from the baseline), the baseline moves, so one surprise does not cost every
    job twice."""
    own = _read_tags(ctx.own_memory, ctx.watched)
    if own is not None:
        ctx.baseline = own


def _hidden_names() -> tuple[str, ...]:
    """Names under which this module is in ``sys.modules`` (``__main__`` when run as the
    worker, its package name when imported by tests): learner code must not find it."""
    own = globals()
    return tuple(
        n for n, m in sys.modules.items() if getattr(m, "__dict__", None) is own or n == "__main__"
    )


def _work_root() -> str:
    """Where the zygote makes its folder of job folders: ``/dev/shm`` when it is an in-memory
    file system (tmpfs) we may write with at least 1 GiB free -- a folder made and removed
    per submission costs ~0.1 ms less there than on a journalled disk -- else ``/tmp``.
    Learner files then take memory until their job ends: at most 100 files x 1 MiB each."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as mounts:
            memory = any(line.split()[1:3] == [SHM, "tmpfs"] for line in mounts)
        room = os.statvfs(SHM)
    except (OSError, IndexError):
        return TMP
    free = room.f_bavail * room.f_frsize
    return SHM if memory and free >= SHM_MIN_FREE and os.access(SHM, os.W_OK) else TMP


def prepare(config: Mapping[str, Any]) -> Context:
    """Import, snapshot and plan everything, so a child's set-up is a few cheap operations.
    ``config["network_isolated"]`` is what :func:`first_stage` achieved."""
    network_isolated = bool(config.get("network_isolated"))
    for name in PRELOAD:
        with contextlib.suppress(Exception):  # an optional module missing from this build
            importlib.import_module(name)
    helpers = _load_sibling("helpers")
    messages = _load_sibling("messages")
    helpers_snapshot = types.MappingProxyType(dict(helpers.__dict__))
    capture_ns: dict[str, Any] = {
        "__builtins__": builtins.__dict__,
        "__name__": "sandbox_output",
        "UnsupportedOperation": io.UnsupportedOperation,
    }
    exec(compile(_CAPTURE_SOURCE, "<sandbox output>", "exec"), capture_ns)

    # No .pyc for learner imports: loading one is ``marshal.loads``, which builds arbitrary
    # code objects, so the hook refuses it; with a prefix that does not exist, modules that
    # were not preloaded compile from source instead.
    sys.pycache_prefix = "/nonexistent/eduverse-no-pyc"
    sys.dont_write_bytecode = True

    uid = config.get("uid")
    if uid is not None and os.geteuid() != 0:
        uid = None  # only root can switch to another uid
    # The real path: a child's folder name is then already what the hook compares with.
    base = os.path.realpath(f"{_work_root()}/eduverse-sandbox-{os.urandom(8).hex()}")
    os.mkdir(base, 0o711)
    os.chmod(base, 0o711)  # (whatever the umask): children may enter their own folder only
    # The environment every child starts from: the server passed only LANG, MALLOC_ARENA_MAX
    # and LD_BIND_NOW, which libc has read by now. HOME and TMPDIR are "." -- a child's own
    # folder, its working directory (chdir is refused): setting its absolute path in each
    # child wrote ~35 pages there (os.environ's Python code, libc's environment block).
    os.environ.clear()
    os.environ["LANG"] = "C.UTF-8"
    os.environ["HOME"] = os.environ["TMPDIR"] = "."

    stash: dict[str, Any] = {n: getattr(os, n) for n in RAW_FD_FUNCTIONS if hasattr(os, n)}
    # Threads too: RLIMIT_NPROC does not bind root, and a learner thread could still be
    # running while the judge decides. And Python signal handlers: the learner's code runs in
    # the child's main thread, where a handler would run while the judge decides.
    stash["start_new_thread"] = _thread.start_new_thread
    stash["signal"] = signal.signal
    stash["_signal"] = sys.modules["_signal"].signal  # what that wraps, in C
    dangerous = {id(v) for v in stash.values()}
    dangerous |= {id(getattr(signal, n)) for n in RAW_FD_FUNCTIONS if hasattr(signal, n)}
    stash["_exit"] = os._exit
    stash["gc_disable"] = gc.disable
    stash["read"] = os.read
    denied = {id(m) for n, m in sys.modules.items() if n.split(".")[0] in DENIED_MODULES}
    strip, restore = _snapshots(dangerous, denied)
    helpers_pair = (helpers.__dict__, helpers_snapshot)
    restore.append(helpers_pair)
    modules_snapshot = {n: sys.modules[n] for n in RESTORED_MODULES if n in sys.modules}
    builtins.exit = builtins.quit = capture_ns["exit"]
    builtins_snapshot = dict(builtins.__dict__)
    builtins_pair = (builtins.__dict__, types.MappingProxyType(builtins_snapshot))
    restore.append(builtins_pair)
    # Namespaces the children's set-up leaves alone can be watched instead of restored.
    own_memory = _own_memory()
    stripped = {id(namespace) for namespace, _ in strip}
    watched = [pair for pair in restore if own_memory >= 0 and id(pair[0]) not in stripped]
    stdlib = tuple(os.path.realpath(p) for p in sys.path if p and os.path.isdir(p))
    read_roots = (*stdlib, "/dev/null", "/dev/urandom", "/usr/share/zoneinfo", "/etc/localtime")
    sys_snapshot = {k: v for k, v in sys.__dict__.items() if k not in ("stdout", "stderr", "stdin")}
    lists = tuple((lst, tuple(lst)) for lst in (sys.path, sys.meta_path, sys.path_hooks, sys.argv))
    context = Context(
        uid=uid,
        base=base,
        network_isolated=network_isolated,
        stash=stash,
        strip=tuple(strip),
        restore=tuple(restore),
        watched=tuple(id(namespace) for namespace, _ in watched),
        baseline=(),
        restore_unwatched=tuple(p for p in restore if all(p is not w for w in watched)),
        kept_during_tests=(builtins_pair, helpers_pair),
        own_memory=own_memory,
        tests=_TestsCache(slots=int(config.get("tests_cache_slots", TESTS_CACHE_SLOTS))),
        spares=int(config.get("spares", SPARES)),
        sys_snapshot=types.MappingProxyType(sys_snapshot),
        lists=lists,
        modules_snapshot=types.MappingProxyType(modules_snapshot),
        builtins_snapshot=types.MappingProxyType(builtins_snapshot),
        read_roots=read_roots,
        import_roots=stdlib,
        helpers=helpers.namespace_helpers,
        messages=messages,
        capture=capture_ns["Capture"],
        output_limit_exceeded=capture_ns["OutputLimitExceeded"],
        steps={
            "guarded": _isolated(_guarded),
            "run_held": _isolated(_run_held),
            "prepare": _isolated(_prepare_tests),
            "collect": _isolated(_collect),
        },
    )
    reachable = [*helpers.__dict__.values(), *capture_ns.values(), *context.steps.values()]
    context.protected = frozenset(id(f) for f in reachable if isinstance(f, types.FunctionType))
    # Process-wide settings every child would otherwise make for itself.
    _reset_signals(_signal_plan())
    os.umask(0o077)  # the zygote's own folders have explicit modes
    # The serving thread's stack, so each child's: deep recursion fails cleanly.
    _thread.stack_size(16 << 20)
    context.kit = _make_kit(context)
    # Everything allocated so far is shared read-only with the children: keep the collector
    # off it, so a child's first collection does not touch (and copy) every page.
    gc.collect()
    gc.freeze()
    context.baseline = _read_tags(own_memory, context.watched) or ()
    if len(context.baseline) != len(context.watched):
        context.watched, context.restore_unwatched = (), context.restore
    return context


# -- the child -----------------------------------------------------------------------------
@dataclass
class _Kit:
    """What every child needs that does not depend on its job: built once in the zygote and
    inherited through ``fork``. The zygote never touches it, so each child finds it as new
    (building it in each child cost ~40 copy-on-write faults of running the set-up code)."""

    module: types.ModuleType  # the learner's ``__main__``
    parts: list[str]  # what the learner's run printed
    counter: list[Any]  # [characters written, limit reached], shared by both phases
    streams: tuple[Any, Any, Any, Any]  # stdout, stderr, then the tests' stdout and stderr
    learner_box: list[Any]  # the learner's code object, once compiled
    tests_box: list[Any]  # the tests' code object
    record: list[BaseException]  # every exception a step raised
    state: dict[str, Any]  # what the step between the two phases puts back (_prepare_tests)
    results: collections.deque[Any]  # filled by the step chain, read by the judge
    program: Any  # the step chain: an iterator of C objects only (see _make_kit)
    hook: Callable[[str, tuple[Any, ...]], None]  # the audit hook, installed by each child
    set_facts: Callable[[str, Any, Any], None]  # the audit hook's per-child facts
    processes_attempted: Callable[[], bool]


def _make_kit(ctx: Context) -> _Kit:
    """Build the child kit and the audit hook (in the zygote, once; each child installs the hook).

    The step chain is C code that arms the audit hook, calls each step and appends its
    result to ``results`` (``takewhile`` stops at the first step that did not return None),
    turns the collector off and disarms the hook. Only these C objects (unreachable from
    Python) refer to ``results`` and to the test code's box.
    """
    module = types.ModuleType("__main__")
    ns = module.__dict__
    # The real builtins (with exit/quit): the learner may change them either way (``import
    # builtins``); the zygote checks them after the run, or the tests and the judge put the
    # snapshot back first. A copy would cost ~90 copy-on-write faults (reference counts).
    ns["__builtins__"] = builtins.__dict__
    parts: list[str] = []
    counter: list[Any] = [0, False]
    capture, limit = ctx.capture, MAX_OUTPUT_PLACEHOLDER
    streams = (
        capture(parts, counter, limit),
        capture([], counter, limit),
        capture([], counter, limit),
        capture([], counter, limit),
    )
    learner_box: list[Any] = [None]
    tests_box: list[Any] = [None]
    record: list[BaseException] = []
    steps = ctx.steps
    guarded, run_held = steps["guarded"], steps["run_held"]
    state: dict[str, Any] = {
        "builtins": builtins.__dict__,
        "restore": ctx.restore_unwatched,  # all of ctx.restore unless the zygote checks
        "sys": (sys.__dict__, ctx.sys_snapshot),
        "lists": ctx.lists,
        "modules": (sys.modules, ctx.modules_snapshot),
        "module": module,
        "test_out": streams[2],
        "test_err": streams[3],
        "parts": parts,
        "ns": ns,
        "helpers": ctx.helpers,
        "stdin_type": io.StringIO,
        "tests": False,  # the job fills in the rest
    }
    inner = [
        partial(guarded, record, run_held, learner_box, ns),
        partial(guarded, record, steps["prepare"], state),
        partial(guarded, record, run_held, tests_box, ns),
    ]
    hook, processes_attempted, set_facts, set_armed = audit_hook_factory(
        import_roots=ctx.import_roots,
        protected=ctx.protected,
        rules=AUDIT_RULES,
        tools=AUDIT_TOOLS,
    )
    results: collections.deque[Any] = collections.deque()
    program = itertools.chain(
        map(operator.call, [partial(set_armed, True)]),
        itertools.takewhile(partial(operator.is_, None), map(operator.call, inner)),
        map(
            operator.call,
            [
                partial(steps["collect"], record),
                # Before this generator resumes: a limit the learner lowered would fail it.
                partial(sys.setrecursionlimit, sys.getrecursionlimit()),
                ctx.stash["gc_disable"],
                partial(set_armed, False),
            ],
        ),
    )
    return _Kit(
        module, parts, counter, streams, learner_box, tests_box, record, state, results,
        program, hook, set_facts, processes_attempted,
    )  # fmt: skip


def _set_limits(limits: Mapping[str, Any], result_fd: int) -> None:
    cpu = max(1, math.ceil(float(limits["cpu_seconds"])))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # SIGXCPU at the soft limit, SIGKILL one second later if it is ignored.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    fsize = int(limits["file_size_bytes"])
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    nofile = max(64, result_fd + 1)
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    memory = int(limits["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


def _drop_privileges(uid: int | None) -> None:
    if uid is None:
        return
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # all three: no way back to root; capabilities are cleared


def _signal_plan() -> tuple[tuple[int, Any], ...]:
    """What to change so that every standard signal has its default action, no Python
    handler: nothing may run Python code in a child while its judge decides (a handler would
    run there on a signal the learner's code arranged; ``signal.signal`` is removed too).
    SIGPIPE and SIGXFSZ stay ignored (EPIPE/EFBIG instead of dying). Applied to the zygote
    itself (its own session: no terminal sends it anything), so children inherit it: only the
    few that differ (SIGINT, and whatever the server ignored), instead of all 29."""
    plan = []
    for number in range(1, 32):  # the standard signals; real-time ones have no handlers
        if number in (signal.SIGKILL, signal.SIGSTOP):
            continue
        ignored = number in (signal.SIGPIPE, signal.SIGXFSZ)
        wanted = signal.SIG_IGN if ignored else signal.SIG_DFL
        try:
            current = signal.getsignal(number)
        except (OSError, ValueError):
            continue
        if current is not wanted:  # a Python handler, None (set from C) or the other action
            plan.append((number, wanted))
    return tuple(plan)


def _reset_signals(plan: tuple[tuple[int, Any], ...]) -> None:
    for number, handler in plan:
        with contextlib.suppress(OSError, ValueError):
            signal.signal(number, handler)


def _isolate_process(ctx: Context, keep: tuple[int, int], workdir: str) -> int:
    """New session, no inherited descriptor but ``keep`` (and stdio, on /dev/null already in
    the zygote, as are the signal dispositions and the umask), its own folder and uid. Done
    while the child waits for its job, so none of it is on the critical path. Returns a
    read-only descriptor on this process's memory, for the version tags (-1 when none are
    watched or it cannot be opened): opened before the uid changes, after which it could not
    be."""
    stash = ctx.stash
    os.setsid()
    low, high = sorted(keep)
    stash["closerange"](3, low)
    stash["closerange"](low + 1, high)
    stash["closerange"](high + 1, 1 << 16)
    memory = -1  # (unreadable: the check fails, and the job is graded again with the restore)
    if ctx.watched:
        try:  # noqa: SIM105 - not contextlib.suppress: see _reap
            memory = os.open("/proc/self/mem", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            pass
    os.chdir(workdir)
    _drop_privileges(ctx.uid)
    # A real path already (a name in the zygote's realpath'd base): what the hook compares.
    ctx.kit.set_facts(workdir, (workdir, *ctx.read_roots), (*keep, memory))
    # Here, not in the zygote: there every fork would call it (disarmed, still ~13 pages of
    # Python written after each fork).
    sys.addaudithook(ctx.kit.hook)
    return memory


class _Verdict:
    """Writes the one verdict and exits, from the judge, with private references."""

    def __init__(self, stash: Mapping[str, Any], fd: int, nonce: str, output_limit: int) -> None:
        self._write = stash["write"]
        self._exit: Callable[[int], NoReturn] = stash["_exit"]
        self._fd = fd
        self._nonce, self._output_limit = nonce, output_limit

    def send(self, outcome: str, message: str = "", stdout: str = "", detail: str = "") -> NoReturn:
        values = (outcome, message, stdout[: self._output_limit], detail)
        fields = [v.encode("utf-8", "replace") for v in values]
        header = " ".join([VERDICT_MAGIC.decode(), self._nonce, *[str(len(f)) for f in fields]])
        body = (header + "\n").encode() + b"".join(fields)
        payload = memoryview(struct.pack(">I", len(body)) + body)
        while len(payload):
            payload = payload[self._write(self._fd, payload) :]
        self._exit(0)


def _compile_or_report(
    ctx: Context, job: Mapping[str, Any], verdict: _Verdict, slot: int
) -> tuple[Any, Any]:
    """Compile the learner's code and the tests (unless the zygote had, in ``slot``); a
    SyntaxError is reported without running anything (its line and column point into the
    learner's code)."""
    messages, locale = ctx.messages, str(job.get("locale", "en"))
    filename = str(job.get("filename") or "main.py")
    try:
        learner_code = compile(str(job["code"]), filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        # Read through the base class: the compiler made this object, but be exact anyway.
        fields = SyntaxError.__dict__
        msg, line, column = (fields[n].__get__(exc) for n in ("msg", "lineno", "offset"))
        text = msg if type(msg) is str else ""
        name = type.__dict__["__name__"].__get__(type(exc))
        verdict.send("error", messages.exception_message(name, text, locale, line, column))
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        name = type(exc).__name__
        verdict.send("error", messages.exception_message(name, str(exc), locale))
    tests = None
    if slot != NO_SLOT:
        tests = ctx.tests.entries[slot][1]
    elif job.get("test_code"):
        try:
            tests = compile(str(job["test_code"]), "<tests>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            # The pack's bug, not the learner's: `pack check` shows it to the author.
            verdict.send("grader_error", messages.message("grader_error", locale), "", f"{exc!r}")
    return learner_code, tests


def _child(ctx: Context, job_fd: int, result_fd: int, workdir: str) -> Iterator[Step]:
    """The generator a child's step loop takes its steps from: :func:`_child_steps`, and the
    process ends whatever way that ends (an exception, or being closed). (The zygote's ends of
    the pipes are closed with every other inherited descriptor: see _isolate_process.)"""
    try:
        yield from _child_steps(ctx, job_fd, result_fd, workdir)
    finally:
        ctx.stash["_exit"](EXIT_NO_VERDICT)


def _child_steps(ctx: Context, job_fd: int, result_fd: int, workdir: str) -> Iterator[Step]:
    """The child's own part, driven by the step loop (see :func:`main`): isolate this
    process and prepare everything, wait for the job, *yield* the step chain that runs the
    learner's code and the tests, then judge, write the verdict and exit.

    Everything that does not depend on the job is done before the job arrives, while the
    previous submission is still being answered -- most of it once, in the zygote (the
    stripped modules, the audit hook, signals, stdio, the kit), the rest here (session,
    descriptors, folder, uid): on the critical path remain only compiling, running and
    judging.

    While the yielded chain runs, this generator is suspended: the learner's frames sit on C
    code alone (no grader frame below them to walk to). When it resumes, learner code has run
    in this same thread, so everything needed afterwards is bound to locals first, and it
    never drops the last reference to a learner object (a finalizer would run here). The
    chain's last steps (C) have put the recursion limit back, turned the collector off and
    disarmed the audit hook.
    """
    stash, kit = ctx.stash, ctx.kit
    memory = _isolate_process(ctx, (job_fd, result_fd), workdir)
    out, err, test_out, test_err = kit.streams
    sys.stdout = sys.__stdout__ = out  # type: ignore[misc]
    sys.stderr = sys.__stderr__ = err  # type: ignore[misc]
    state, ns, results = kit.state, kit.module.__dict__, kit.results
    sys.modules["__main__"] = kit.module
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # no processes or threads, of any kind
    # Unless the job is here already: write (so copy) now the pages the restore before the
    # tests will write, every name and value of the snapshots not watched (none, when the
    # zygote can read version tags), off the job's critical path. (C loops over our own.)
    if ctx.restore_unwatched and not select.select([job_fd], [], [], 0)[0]:
        consume = collections.deque[Any](maxlen=0).extend
        for _, snapshot in ctx.restore_unwatched:
            consume(snapshot.items())

    # The job, after a byte that says whether this child checks the watched namespaces after
    # its run (optimistic) or restores them before the tests, and two with the slot of the
    # zygote's compiled tests (NO_SLOT: compile them).
    head = stash["read"](job_fd, 3)
    mode = head[:1]
    raw = read_raw_frame(job_fd) if len(head) == 3 else None
    # The C scanner itself, not json.loads: its Python wrappers and the regular expression
    # they run would be ~20 more pages written in this child.
    job: Any = _scan_json(raw[4:].decode("utf-8", "surrogatepass"), 0)[0] if raw else None
    if not isinstance(job, dict):  # the zygote is stopping: no job will come
        stash["_exit"](0)
    optimistic = mode == MODE_OPTIMISTIC
    if not optimistic:
        state["restore"] = ctx.restore
    limits = job["limits"]
    output_limit = int(limits["output_bytes"])
    for stream in (out, err, test_out, test_err):
        stream._limit = output_limit
    verdict = _Verdict(stash, result_fd, str(job["nonce"]), output_limit)
    _set_limits(limits, result_fd)
    slot = int.from_bytes(head[1:], "big")
    kit.learner_box[0], tests = _compile_or_report(ctx, job, verdict, slot)
    kit.tests_box[0] = tests if tests is not None else compile("", "<tests>", "exec")
    stdin_text = str(job.get("stdin") or "")
    sys.stdin = sys.__stdin__ = io.StringIO(stdin_text)  # type: ignore[misc,assignment]
    ns["__file__"] = str(job.get("filename") or "main.py")
    sys_dicts = (id(sys.__dict__), id(sys.modules))  # (our own last change to them is above)
    state.update(
        tests=tests is not None,
        stdin_text=stdin_text,
        source=str(job["code"]),
        locale=str(job.get("locale", "en")),
        memory=memory,
        sys_tags=(sys_dicts, _read_tags(memory, sys_dicts)),
    )
    steps_run = 3 if tests is not None else 1
    judge = _Judge(ctx, job, kit, steps_run)
    # Room to report after a MemoryError: address space (RLIMIT_AS), not memory, so bytes(),
    # which calloc()s it untouched, rather than a bytearray that memset()s 64 fresh pages.
    ballast = bytes(1 << 18)

    yield partial(results.extend, kit.program)
    if optimistic and not judge.watched_unchanged(memory):
        # Before any code that looks up a builtin (the builtins are watched too): a changed
        # namespace may have fooled the tests, so this run does not count; the zygote grades
        # the job again with the restore.
        stash["write"](result_fd, TAMPERED)
        stash["_exit"](0)
    try:
        del ballast
        outcome = judge.decide(results, restore_builtins=not optimistic)
    except BaseException as exc:  # our bug; never unwind (that would drop learner objects here)
        verdict.send("grader_error", "", "", f"judge: {type(exc).__name__}")
    verdict.send(*outcome)


class _Judge:
    """Decides the outcome once the step chain is over, from the results deque alone.

    Builtins are restored first unless the child's check found them unchanged (learner code
    may have replaced them, and this class's code looks names up there), keeping the replaced
    objects alive so no finalizer runs here. The exceptions are read through base-class
    descriptors (C code, bound once here), never through methods a learner class could
    override; their ``str()`` was computed in the chain (the collect step).
    """

    _tb_of = BaseException.__dict__["__traceback__"].__get__
    _name_of = type.__dict__["__name__"].__get__
    _missing_name = NameError.__dict__["name"].__get__
    _errno_of = OSError.__dict__["errno"].__get__
    _exit_code_of = SystemExit.__dict__["code"].__get__

    def __init__(self, ctx: Context, job: Mapping[str, Any], kit: _Kit, steps: int) -> None:
        record, counter, parts = kit.record, kit.counter, kit.parts
        self._dict = dict
        self._type, self._str, self._len, self._missing = type, str, len, object()
        self._kept_during_tests = ctx.kept_during_tests
        self._read_tags, self._watched, self._baseline = _read_tags, ctx.watched, ctx.baseline
        self._builtins, self._snapshot = builtins.__dict__, ctx.builtins_snapshot
        self._kept: list[Any] = []
        self._messages = ctx.messages
        self._limit_exc = ctx.output_limit_exceeded
        self._record, self._counter, self._parts = record, counter, parts
        self._processes_attempted = kit.processes_attempted
        self._steps = steps
        self._limits = job["limits"]
        self._locale = str(job.get("locale", "en"))
        self._filename = str(job.get("filename") or "main.py")

    def decide(
        self, results: collections.deque[Any], restore_builtins: bool = True
    ) -> tuple[str, str, str]:
        """(outcome, message, stdout). ``restore_builtins`` False: the zygote found them
        unchanged (restoring would write every page they are on). True: this run had the
        restore before the tests, so they could only have been changed while the tests ran --
        by learner code the tests called; a pass is then not accepted."""
        changed = restore_builtins and self._changed_during_tests()
        if restore_builtins:
            self._kept.append(self._dict(self._builtins))
            self._builtins.clear()
            self._builtins.update(self._snapshot)
        parts = self._parts
        stdout = "".join([p for p in parts if type(p) is str])
        prefix = 1  # arming the audit hook
        done = 0  # how many steps returned None
        while (
            done < self._steps and len(results) > prefix + done and results[prefix + done] is None
        ):
            done += 1
        collected = results[prefix + done] if len(results) > prefix + done else ()
        self._texts = {}
        if type(collected) is tuple:
            for pair in collected:
                if type(pair) is tuple and len(pair) == 2 and type(pair[1]) is str:
                    self._texts[id(pair[0])] = pair[1]
        failure = self._record[-1] if self._record and done < self._steps else None
        if failure is not None and not issubclass(type(failure), BaseException):
            failure = None
        limited = self._limit_verdict(failure)
        if limited is not None:
            return (*limited, stdout)
        if done == self._steps:
            if changed:
                return "error", self._msg("changed_during_tests"), stdout
            return "passed", "", stdout
        if done == 0:
            return (*self._learner_failure(failure), stdout)
        if done == 2 and failure is not None:  # the tests raised
            return (*self._test_failure(failure), stdout)
        return "error", self._msg("interfered"), stdout  # our own step failed: learner's doing

    def watched_unchanged(self, memory: int) -> bool:
        """Whether every watched namespace still has the version tag it had in the zygote,
        read through ``memory`` (this process's). Runs before anything is restored, so it
        looks up no name in the builtins (bound references only)."""
        tags = self._read_tags(memory, self._watched)
        return tags is not None and tags == self._baseline and self._baseline != ()

    def _changed_during_tests(self) -> bool:
        """Whether the builtins or the helpers' namespace differ from their snapshots. Runs
        before the builtins are restored, so it looks up no name there, and it calls no
        method of a learner object: exact ``str`` keys, values compared by identity."""
        _type, _str, _len, missing = self._type, self._str, self._len, self._missing
        for live, snapshot in self._kept_during_tests:
            if _len(live) != _len(snapshot):
                return True
            for key, value in live.items():
                if _type(key) is not _str or snapshot.get(key, missing) is not value:
                    return True
        return False

    def _msg(self, key: str, **values: object) -> str:
        return str(self._messages.message(key, self._locale, **values))

    def _limit_verdict(self, exc: BaseException | None) -> tuple[str, str] | None:
        if self._processes_attempted() is True:
            return "limit_exceeded", self._msg("processes")
        if type(exc) is self._limit_exc or self._counter[1] is True:
            kib = int(self._limits["output_bytes"]) // 1024
            return "limit_exceeded", self._msg("output", kib=kib)
        if exc is None:
            return None
        if issubclass(type(exc), MemoryError):
            mib = int(self._limits["memory_bytes"]) // (1024 * 1024)
            return "limit_exceeded", self._msg("memory", mib=mib)
        errno = self._errno_of(exc) if issubclass(type(exc), OSError) else None
        if type(errno) is int and errno == 27:  # EFBIG (the type check: no learner __eq__ here)
            kib = int(self._limits["file_size_bytes"]) // 1024
            return "limit_exceeded", self._msg("file_size", kib=kib)
        return None

    def _learner_failure(self, exc: BaseException | None) -> tuple[str, str]:
        if exc is None:  # the thread died before our step could record anything
            return "error", self._msg("interfered")
        line = self._learner_line(exc)
        if type(exc) is SystemExit:
            code = self._exit_code_of(exc)
            if self._steps == 1 and (code is None or (type(code) is int and code == 0)):
                return "passed", ""  # "just run it": exiting with 0 is a normal end
            how = "sys.exit()" if line is None else f"sys.exit() ({self._msg('line', line=line)})"
            return "error", self._msg("exit_before_tests", how=how)
        return "error", self._describe(exc, line)

    def _test_failure(self, exc: BaseException) -> tuple[str, str]:
        line = self._learner_line(exc)
        if line is not None:  # the learner's own code raised while the tests called it
            return "error", self._describe(exc, line)
        if type(exc) is AssertionError:
            return "failed", self._texts.get(id(exc), "") or self._msg("test_failed")
        if type(exc) is NameError:
            name = self._missing_name(exc)
            if type(name) is str:
                return "failed", self._msg("not_defined", name=name)
        return "failed", self._describe(exc, None)

    def _learner_line(self, exc: BaseException) -> int | None:
        """The innermost line of the learner's own file in the traceback (grader frames and
        library frames are skipped; they are never shown)."""
        line, tb, budget = None, self._tb_of(exc), 100_000
        while tb is not None and budget:
            name = tb.tb_frame.f_code.co_filename  # may be a str subclass (compile() allows it)
            if type(name) is str and name == self._filename:
                line = tb.tb_lineno
            tb, budget = tb.tb_next, budget - 1
        return line if type(line) is int else None

    def _describe(self, exc: BaseException, line: int | None) -> str:
        text = self._texts.get(id(exc), "")
        if issubclass(type(exc), RecursionError):
            text = "maximum recursion depth exceeded"
        name = _exact_str(self._name_of(type(exc)))  # a class may name itself with a str subclass
        return str(self._messages.exception_message(name, text, self._locale, line))


def _exact_str(value: object) -> str:
    """``value`` as an exact ``str`` without calling any of its methods (a learner's str
    subclass could override ``__str__``/``__format__``/``__eq__``); '' for a non-string."""
    if type(value) is str:
        return value
    if issubclass(type(value), str):
        return str.__getitem__(value, slice(None))  # type: ignore[index]
    return ""


# -- the zygote ----------------------------------------------------------------------------
def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_raw_frame(fd: int) -> bytes | None:
    """One frame as bytes (length prefix included), or None on EOF. Usually a single
    ``read``: frames are written whole, and each side waits for the other's answer before it
    writes again, so what is in the pipe is one frame (anything more is a protocol error)."""
    data = os.read(fd, PIPE_READ)
    if len(data) < 4:
        rest = _read_exactly(fd, 4 - len(data)) if data else None
        if rest is None:
            return None
        data += rest
    (size,) = struct.unpack_from(">I", data)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes is too large")
    missing = 4 + size - len(data)
    if missing < 0:
        raise ValueError("more than one frame in the pipe")
    if missing:
        rest = _read_exactly(fd, missing)
        if rest is None:
            return None
        data += rest
    return data


_encode_json = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps builds one per call
# The C scanner behind json.loads: (document, index) -> (value, end). (typeshed annotates
# make_scanner as the class it is, taking a decoder.)
_scan_json: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(
    json.JSONDecoder()  # type: ignore[arg-type]
)


def encode_frame(message: Any) -> bytes:
    body = _encode_json(message).encode("utf-8", "surrogatepass")
    return struct.pack(">I", len(body)) + body


@dataclass
class _Watch:
    """What the zygote saw of one child."""

    pid: int
    data: bytes = b""
    complete: bool = False  # a whole verdict arrived (the child may still be exiting)
    timed_out: bool = False
    overflow: bool = False
    status: int = 0
    cpu_seconds: float = 0.0
    killed: bool = False
    reaped: bool = False


def _watch(pid: int, read_fd: int, wall: float, cap: int) -> _Watch:
    """Collect the child's next frame (its verdict, or its request for the tamper check)
    until a whole one has arrived, the child exits, or ``wall`` seconds pass. Only the child
    holds the pipe's write end, so end-of-file means it exited: it is then reaped, and its
    exit status decides. Otherwise reaping is left to :func:`_reap`, after the reply is sent
    (a process's exit, unmapping its memory, takes about as long as running trivial code)."""
    watch, chunks, received, expected = _Watch(pid), [], 0, -1
    deadline = time.monotonic() + wall
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([read_fd], [], [], left)[0]:
            watch.timed_out = True
            break
        chunk = os.read(read_fd, PIPE_READ)
        if not chunk:
            _reap(watch)  # it exited without a whole frame: its exit status tells why
            break
        if received + len(chunk) > cap:
            watch.overflow = True
            break
        chunks.append(chunk)
        received += len(chunk)
        if expected < 0 and received >= 4:
            expected = 4 + int.from_bytes((chunk if len(chunks) == 1 else b"".join(chunks))[:4])
            if expected > cap:  # not a frame of ours: only the exit ends it
                expected = cap + 1
        if 0 <= expected <= received:
            watch.complete = True
            break
    watch.data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    return watch


def _reap(watch: _Watch, wait: bool = True) -> bool:
    """Kill the child's whole process group (it is the leader) and reap it; with ``wait``
    False, only if it has exited already. Kill before reaping: a zombie keeps its pid, so the
    group cannot be someone else's yet. True once reaped."""
    if watch.reaped:
        return True
    # (Here and in the zygote's other per-job code: try/except, not contextlib.suppress,
    # whose Python methods would be more pages written after every fork.)
    if not watch.killed:
        try:
            os.killpg(watch.pid, signal.SIGKILL)
        except OSError:  # not a group leader yet (it had not reached setsid): the process
            try:  # noqa: SIM105 - see above
                os.kill(watch.pid, signal.SIGKILL)
            except OSError:
                pass
        watch.killed = True
    pid, status, usage = os.wait4(watch.pid, 0 if wait else os.WNOHANG)
    if pid != watch.pid:
        return False
    watch.status, watch.reaped = status, True
    watch.cpu_seconds = usage.ru_utime + usage.ru_stime
    return True


@dataclass
class _Spare:
    """A child forked and isolated ahead of time, blocked reading its job."""

    pid: int
    job_fd: int  # the zygote writes the job here
    result_fd: int  # and reads the verdict here
    workdir: str
    forked: int = 0  # its number among the zygote's forks (see _TestsCache)
    watch: _Watch | None = None


def _fork() -> int | OSError:
    """``os.fork()`` for the step loop, which must not see an exception (it would end it)."""
    try:
        return os.fork()
    except OSError as exc:
        return exc


@dataclass
class _Loop:
    """The step loop's state (see :func:`main`): the generator it takes its steps from
    (``source[0]``: the zygote's :func:`serve`, or in a child the child's own), where the
    results of the steps go, and the generators of the children about to be forked, the next
    one first."""

    source: list[Iterator[Step]] = field(default_factory=list)
    results: collections.deque[Any] = field(default_factory=collections.deque)
    pending: collections.deque[Iterator[Step]] = field(default_factory=collections.deque)

    def steps(self) -> Iterator[Step]:
        """``next(source[0])``, again and again, in C: the loop adds no Python frame."""
        return map(next, map(operator.itemgetter(0), itertools.repeat(self.source)))

    def enter_child(self) -> None:
        """The fork hook, in a new child: from its next step on, the loop takes its steps
        from the child's generator. The zygote's generators stay parked at ``source[1]``
        (never resumed, never finalised), so no zygote code runs in a child."""
        if self.pending:
            self.source[:0] = [self.pending[0]]


def _plan_spare(ctx: Context, forked: int) -> tuple[_Spare, tuple[int, int], Iterator[Step]]:
    """Everything a spare needs before its fork: its folder -- an unguessable name in a folder
    others may enter but not list, made with one ``mkdir`` (``tempfile.mkdtemp`` costs ~50 us
    of Python for the same) --, its two pipes (the child's ends returned apart, for the zygote
    to close after the fork) and the generator the child will take its steps from."""
    workdir = f"{ctx.base}/job-{os.urandom(8).hex()}"
    os.mkdir(workdir, 0o700)
    opened: list[int] = []
    try:
        if ctx.uid is not None:
            os.chown(workdir, ctx.uid, ctx.uid)
        opened.extend(os.pipe())
        opened.extend(os.pipe())
    except OSError:
        for fd in opened:
            _os_close(fd)
        os.rmdir(workdir)
        raise
    job_r, job_w, result_r, result_w = opened
    spare = _Spare(0, job_w, result_r, workdir, forked)
    return spare, (job_r, result_w), _child(ctx, job_r, result_w, workdir)


def fork_spares(ctx: Context, loop: _Loop, count: int) -> Generator[Step, None, list[_Spare]]:
    """Fork up to ``count`` children now, so that a job costs neither the fork nor the
    isolation; at least one, or OSError.

    They are forked back to back by one step of C code, everything planned first
    (:func:`_plan_spare`): each fork makes every page of the zygote copy-on-write again, so
    each page the zygote writes afterwards costs a fault -- ~110 pages for one job's worth of
    serving, ~45 for a fork yielded through the generators. Between the forks of a batch the
    zygote runs no Python but :func:`_fork`, and the pages its serving writes fault once per
    batch instead of once per job.

    The children's generators are made first and queued in ``loop.pending``; the step
    alternates a fork with taking the next generator off the queue. In a child, the fork hook
    (:meth:`_Loop.enter_child`) has the loop take its steps from the generator at the head of
    the queue, its own, and the fork's 0 ends the step (``takewhile``): the zygote's
    generators, this one among them, are never resumed there and the learner's frames sit on
    C code alone."""
    planned: list[tuple[_Spare, tuple[int, int], Iterator[Step]]] = []
    try:
        for number in range(ctx.tests.forks + 1, ctx.tests.forks + count + 1):
            planned.append(_plan_spare(ctx, number))
    except OSError:
        if not planned:
            raise
    loop.pending.extend(steps for _, _, steps in planned)
    calls = itertools.repeat((_fork, loop.pending.popleft), len(planned))
    batch = itertools.takewhile(bool, map(operator.call, itertools.chain.from_iterable(calls)))
    before = len(loop.results)
    try:
        yield partial(loop.results.extend, batch)
        # loop.results: the pid (or OSError) and the generator of each fork, then the
        # step's own None. Fewer only in a child the fork hook failed to switch: it ends.
        if len(loop.results) != before + 2 * len(planned) + 1:
            ctx.stash["_exit"](EXIT_NO_VERDICT)
        loop.results.pop()
        outcomes = [loop.results.popleft() for _ in range(2 * len(planned))][::2]
    finally:
        loop.pending.clear()  # (the generators never start here: dropping them runs no code)
    forked, failure = [], None
    for (spare, child_ends, _), pid in zip(planned, outcomes, strict=True):
        for fd in child_ends:
            _os_close(fd)
        if isinstance(pid, int) and pid > 0:
            spare.pid = pid
            forked.append(spare)
        else:  # the fork failed (no memory, no pids)
            failure = pid if isinstance(pid, OSError) else None
            _os_close(spare.job_fd)
            _os_close(spare.result_fd)
            os.rmdir(spare.workdir)
    ctx.tests.forks += len(planned)
    if not forked:
        raise failure or OSError("no child forked")
    return forked


def discard(spare: _Spare, wait: bool = True) -> bool:
    """Kill, reap and clean up a spare (after its job, or unused). With ``wait`` False it does
    not wait for the child to finish exiting (tearing down its memory takes a while): False
    then means "call again later"."""
    for fd in (spare.job_fd, spare.result_fd):
        if fd >= 0:
            try:  # noqa: SIM105 - not contextlib.suppress: see _reap
                _os_close(fd)
            except OSError:
                pass
    spare.job_fd = spare.result_fd = -1
    watch = spare.watch = spare.watch or _Watch(spare.pid)
    if not _reap(watch, wait):
        return False
    try:
        os.rmdir(spare.workdir)  # the usual case: the submission wrote no file
    except OSError:
        _remove_tree(spare.workdir)
    return True


def run_job(
    spare: _Spare,
    job: bytes,
    wall: float,
    cap: int,
    ctx: Context,
    restore: bool = False,
    meanwhile: Callable[[], Iterator[Step]] = lambda: iter(()),
    tests: bytes = b"",
) -> Generator[Step, None, tuple[int, int, int, bytes] | None]:
    """Hand ``job`` (the child's frame) to ``spare`` and watch it for ``wall`` seconds, taking
    at most ``cap`` bytes. What was seen -- flags (``SAW_*``), exit status, CPU microseconds,
    the child's bytes -- for the server to judge; or None when the learner's code changed a
    watched namespace (the caller runs the job again with ``restore``). ``meanwhile`` runs
    while the child works (a batch of spares is forked then, when none is left); the caller
    discards this spare once the reply is sent. ``tests``: the job's test code, which the
    child takes compiled from the cache when it was there before the child's fork."""
    started = time.monotonic()
    check = bool(ctx.watched) and not restore
    slot = ctx.tests.slot_for(tests, spare.forked)
    mode = MODE_OPTIMISTIC if check else MODE_RESTORE
    data = memoryview(mode + slot.to_bytes(2, "big") + job)
    while len(data):  # blocks while the child reads: the pipe holds 64 KiB
        data = data[_os_write(spare.job_fd, data) :]
    _os_close(spare.job_fd)
    spare.job_fd = -1
    yield from meanwhile()
    left = wall - (time.monotonic() - started)
    spare.watch = watch = _watch(spare.pid, spare.result_fd, left, cap)
    if check and watch.complete and watch.data == TAMPERED:
        move_baseline(ctx)
        return None
    if not watch.complete:
        _reap(watch)  # no verdict: the exit status and CPU time will decide
    flags = (
        (SAW_CACHED_TESTS if slot != NO_SLOT else 0)
        | (SAW_VERDICT if watch.complete else 0)
        | (SAW_TIMEOUT if watch.timed_out else 0)
        | (SAW_OVERFLOW if watch.overflow else 0)
        | (SAW_EXIT if watch.reaped else 0)
    )
    return flags, watch.status, round(watch.cpu_seconds * 1_000_000), watch.data


class _Spares:
    """The zygote's pipeline: the spares that take the next jobs, and used children to reap.

    While a job runs, a batch of spares is forked when none is left (so they isolate
    themselves in parallel) and the previous children are reaped if they have exited:
    neither is on a job's critical path. When the zygote is idle it tops the spares up to a
    whole batch and waits for the used children.
    """

    def __init__(self, ctx: Context, loop: _Loop, batch: int) -> None:
        self._ctx = ctx
        self._loop = loop
        self._batch = max(1, min(batch, MAX_SPARES))
        self._ready: collections.deque[_Spare] = collections.deque()
        self._used: list[_Spare] = []

    def take(self) -> Generator[Step, None, _Spare]:
        if not self._ready:
            self._ready.extend((yield from fork_spares(self._ctx, self._loop, 1)))
        return self._ready.popleft()

    def prepare_next(self, wait: bool = False) -> Iterator[Step]:
        """Fork a batch of spares if none is left (with ``wait``, when idle: top them up to a
        batch), and reap the used children that have exited (all of them, waiting, with
        ``wait``; never more than a few are left waiting)."""
        missing = self._batch - len(self._ready) if wait or not self._ready else 0
        if missing > 0:
            try:  # noqa: SIM105 - not contextlib.suppress: see _reap
                self._ready.extend((yield from fork_spares(self._ctx, self._loop, missing)))
            except OSError:  # no memory or pids right now: fork on demand instead
                pass
        wait = wait or len(self._used) > 2
        used, self._used = self._used, []
        for spare in used:  # (a plain loop: a comprehension is one more function per call)
            if not discard(spare, wait):
                self._used.append(spare)

    def done(self, spare: _Spare) -> None:
        self._used.append(spare)

    def replace_ready(self) -> None:
        """Discard the spares waiting for a job: the next job gets a child forked for it."""
        self._used.extend(self._ready)
        self._ready.clear()

    def close(self) -> None:
        for spare in [*self._used, *self._ready]:
            discard(spare)
        self._used.clear()
        self._ready.clear()


def _remove_tree(path: str) -> None:
    """Remove a folder and everything in it, even what the learner made unreadable (same
    uid), however deep (no recursion); nothing is followed (links are refused in the
    sandbox). Best effort: what cannot be removed stays."""
    pending, emptied = [path], []
    while pending:
        folder = pending.pop()
        emptied.append(folder)
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700)
        try:
            with os.scandir(folder) as entries:
                listed = list(entries)
        except OSError:
            continue
        for entry in listed:
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass
    for folder in reversed(emptied):
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def _stdlib_readable(ctx: Context) -> bool:
    """Whether a child (after the uid drop) can read the standard library, i.e. import a module
    that was not preloaded: every folder on the way must be searchable by others."""
    if ctx.uid is None:
        return True
    for root in ctx.import_roots:
        path = root
        while path not in ("/", ""):
            if not os.stat(path).st_mode & 0o001:
                return False
            path = os.path.dirname(path)
    return True


def serve(ctx: Context, fd_in: int, fd_out: int, loop: _Loop) -> Iterator[Step]:
    """Answer requests until the server closes our pipe. Each is a :data:`REQUEST` header and
    the child's job frame, each answer a :data:`REPLY` header and the child's bytes: the
    zygote reads no JSON and judges nothing per job (the server does), so what it writes --
    each page of it a copy-on-write fault after every fork -- stays small. A generator: it
    yields each fork to the step loop (see :func:`main`)."""

    def send(frame: bytes) -> None:
        data = memoryview(frame)
        while len(data):
            data = data[_os_write(fd_out, data) :]

    ready = {
        "ready": True,
        "pid": os.getpid(),
        "base": ctx.base,  # for the server to remove if we are killed
        "network_isolated": ctx.network_isolated,
        "uid": ctx.uid,
        "python": sys.version.split()[0],
        "stdlib_readable": _stdlib_readable(ctx),
        "watched": len(ctx.watched),
    }
    send(encode_frame(ready))
    spares = _Spares(ctx, loop, ctx.spares)
    yield from spares.prepare_next()
    try:
        while (raw := read_raw_frame(fd_in)) is not None:
            wall_ms, cap, tests_size = REQUEST.unpack_from(raw, 4)
            start = 4 + REQUEST.size
            tests, job = raw[start : start + tests_size], raw[start + tests_size :]
            answer = yield from _answer(spares, job, tests, wall_ms / 1000, cap, ctx)
            flags, status, cpu_us, data = answer
            header = struct.pack(">I", REPLY.size + len(data)) + REPLY.pack(flags, status, cpu_us)
            send(header + data)
            if not flags & SAW_CACHED_TESTS:
                ctx.tests.add(tests)  # for the children forked from now on
            # Idle for a moment: reap the last child and remove its folder now rather than
            # during the next job (back-to-back requests keep that off their critical path).
            if not select.select([fd_in], [], [], IDLE_CLEANUP_SECONDS)[0]:
                yield from spares.prepare_next(wait=True)
    finally:
        spares.close()


def _answer(
    spares: _Spares, job: bytes, tests: bytes, wall: float, cap: int, ctx: Context
) -> Generator[Step, None, tuple[int, int, int, bytes]]:
    """Run one job: without the restore first, again with it when the learner's code changed a
    watched namespace; a spare killed from outside while waiting is replaced once."""
    restore, died = False, 0
    while True:
        spare = yield from spares.take()
        try:
            seen = yield from run_job(
                spare, job, wall, cap, ctx, restore, spares.prepare_next, tests
            )
            if seen is not None:
                return (seen[0] | SAW_RESTORED, *seen[1:]) if restore else seen
            restore = True
        except BrokenPipeError:  # the spare died while waiting for its job
            died += 1
            if died == 2:
                return SAW_FAILURE, -1, 0, b"the spare child died"
            spares.replace_ready()  # (whatever killed it may have killed its batch too)
        except Exception as exc:  # our bug: report it and keep serving
            return SAW_FAILURE, -1, 0, f"zygote: {exc!r}".encode("utf-8", "replace")
        finally:
            spares.done(spare)


def first_stage(config: Mapping[str, Any], argv: list[str]) -> NoReturn:
    """Ask the kernel, through libc, for what the standard library has no function for — die
    with the server (``PR_SET_PDEATHSIG``), a new empty network namespace — then ``exec`` a
    fresh interpreter as the zygote. Both survive ``exec``; ``ctypes`` does not: an extension
    module, once loaded, stays cached in the interpreter, where ``_imp.create_dynamic`` would
    hand ``_ctypes`` (raw memory access) to learner code without any audit event."""
    _libc_call("prctl", 1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
    isolated = bool(config.get("network", True)) and _isolate_network()
    interpreter = sys.orig_argv[: len(sys.orig_argv) - len(argv) + 1]  # flags and this file
    config = {**config, "network_isolated": isolated}
    os.execv(sys.executable, [*interpreter, json.dumps(config)])


def main(argv: list[str]) -> int:
    config = json.loads(argv[1]) if len(argv) > 1 else {}
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    if "network_isolated" not in config:
        first_stage(config, argv)
    if isinstance(config.get("code_fd"), int):  # our compiled code (see sandbox._BOOT): read
        with contextlib.suppress(OSError):
            _os_close(config["code_fd"])
    ctx = prepare(config)
    # The server's pipes move away from 0 and 1, which (with 2) go to /dev/null: children
    # inherit that. Our own tracebacks still reach the server's stderr.
    fd_in, fd_out, fd_err = _os_dup(0), _os_dup(1), _os_dup(2)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        _os_dup2(devnull, fd)
    _os_close(devnull)
    err = open(fd_err, "w", buffering=1, closefd=False)  # noqa: SIM115 - for our lifetime
    sys.stderr = sys.__stderr__ = err  # type: ignore[misc]
    # Every child would strip these itself: do it once (our own code keeps private references).
    for namespace, key in ctx.strip:
        namespace.pop(key, None)
    # The step loop: a second thread whose entry point is C code calls what ``serve`` yields
    # -- ``os.fork`` among them -- so a child starts in a thread with no Python frame below
    # the loop. There the loop switches to the child's own generator (see fork_spares), which
    # yields its step chain: the learner's code runs in the child's only thread, on C frames
    # alone, with no thread of its own to start.
    loop = _Loop()
    loop.source.append(serve(ctx, fd_in, fd_out, loop))
    os.register_at_fork(after_in_child=loop.enter_child)
    finished = _thread.allocate_lock()
    finished.acquire()
    steps = itertools.chain(loop.steps(), [finished.release])
    try:
        ctx.stash["start_new_thread"](loop.results.extend, (map(operator.call, steps),))
        # Until the loop ends: the server closed our pipe, or our bug (its traceback is on
        # stderr) ended the thread.
        while not finished.acquire(timeout=1.0):
            if not _thread._count():
                return 1
    finally:
        _remove_tree(ctx.base)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
