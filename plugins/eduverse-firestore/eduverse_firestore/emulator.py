"""Start and stop Google's Firestore emulator for tests, benchmarks and local runs.

The emulator is Google's own (``gcloud components install cloud-firestore-emulator``, or the
Debian package ``google-cloud-cli-firestore-emulator``); ``FIRESTORE_EMULATOR`` overrides where
it is looked for. It starts in a session of its own (as ``setsid`` does) because its launcher
leaves a ``java`` child: stopping means stopping the whole process group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DEFAULT_EMULATOR = Path(
    "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator"
)
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


class EmulatorError(RuntimeError):
    """The emulator is missing or did not start (the message says which, and why)."""


@dataclass(frozen=True)
class Emulator:
    """A running emulator: ``host`` is what ``FIRESTORE_EMULATOR_HOST`` holds."""

    host: str
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}"


def emulator_binary() -> Path:
    """The emulator's launcher (``EmulatorError`` when it is missing)."""
    binary = Path(os.environ.get("FIRESTORE_EMULATOR", DEFAULT_EMULATOR))
    if not binary.is_file():
        raise EmulatorError(
            f"the Firestore emulator is missing at {binary}: install the Google Cloud CLI's"
            " cloud-firestore-emulator component (needs Java 11+), or point FIRESTORE_EMULATOR"
            " at its cloud_firestore_emulator script"
        )
    return binary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def new_project() -> str:
    """A project id nothing else uses (valid for Google Cloud: 6-30 characters)."""
    return f"test-{uuid.uuid4().hex[:16]}"


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the launcher and its ``java`` child: the whole process group the launcher leads."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not _group_alive(process.pid):
            break
        os.killpg(process.pid, sig)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            process.poll()  # reap the launcher, or it lingers in the group as a zombie
            if not _group_alive(process.pid):
                break
            time.sleep(0.05)
    process.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def running_emulator(log_dir: Path, *, rules: Path | None = None) -> Iterator[Emulator]:
    """Start the emulator on a free port of 127.0.0.1, wait until it answers, and stop its
    whole process group on exit. Does not touch the environment: set
    ``FIRESTORE_EMULATOR_HOST`` to ``emulator.host`` where clients need it."""
    binary = emulator_binary()
    host = f"127.0.0.1:{free_port()}"
    log_path = log_dir / "firestore-emulator.log"
    command = [str(binary), "start", "--host=127.0.0.1", f"--port={host.rsplit(':', 1)[1]}"]
    if rules is not None:
        command.append(f"--rules={rules}")
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _ready(f"http://{host}/"):
            if process.poll() is not None or time.monotonic() > deadline:
                output = log_path.read_text(errors="replace")[-3000:]
                raise EmulatorError(
                    f"the Firestore emulator did not start on {host}"
                    f" (exit code {process.poll()}):\n{output}"
                )
            time.sleep(0.1)
        yield Emulator(host, log_path)
    finally:
        _stop(process)
