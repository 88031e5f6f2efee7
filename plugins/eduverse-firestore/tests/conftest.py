"""The Firestore emulator, started once per test session, and a fresh project per test.

The emulator is Google's own (``gcloud components install cloud-firestore-emulator``, or the
Debian package ``google-cloud-cli-firestore-emulator``); ``FIRESTORE_EMULATOR`` overrides where
it is looked for. These tests never skip: without the emulator they fail, saying so.

Isolation: every test gets its own project id on the one emulator, so no test sees another's
data and nothing has to be deleted between tests (the emulator keeps each project apart).
The emulator enforces ``firestore.rules`` for clients that are not the server (see
``test_rules_deny_every_client``).
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
from dataclasses import dataclass
from pathlib import Path

import pytest

from eduverse_firestore.storage import FirestoreStorage

PLUGIN_ROOT = Path(__file__).resolve().parent.parent
RULES_FILE = PLUGIN_ROOT / "firestore.rules"
INDEXES_FILE = PLUGIN_ROOT / "firestore.indexes.json"

DEFAULT_EMULATOR = Path(
    "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator"
)
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Emulator:
    """A running emulator: ``host`` is what ``FIRESTORE_EMULATOR_HOST`` holds."""

    host: str
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}"


def emulator_binary() -> Path:
    """The emulator's launcher; a failure (not a skip) when it is missing."""
    binary = Path(os.environ.get("FIRESTORE_EMULATOR", DEFAULT_EMULATOR))
    if not binary.is_file():
        pytest.fail(
            f"the Firestore emulator is missing at {binary}: install the Google Cloud CLI's"
            " cloud-firestore-emulator component (needs Java 11+), or point FIRESTORE_EMULATOR"
            " at its cloud_firestore_emulator script",
            pytrace=False,
        )
    return binary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    """Stop the launcher and its ``java`` child: the whole process group the launcher leads
    (it was started in a session of its own, so the group is exactly the emulator)."""
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


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """Start the emulator on a free port in its own session (``start_new_session``, as
    ``setsid`` does), wait until it answers, point ``FIRESTORE_EMULATOR_HOST`` at it, and stop
    its whole process group at the end."""
    binary = emulator_binary()
    port = free_port()
    host = f"127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("firestore-emulator") / "emulator.log"
    command = [
        str(binary),
        "start",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--rules={RULES_FILE}",
    ]
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
                pytest.fail(
                    f"the Firestore emulator did not start on {host}"
                    f" (exit code {process.poll()}):\n{output}",
                    pytrace=False,
                )
            time.sleep(0.1)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("FIRESTORE_EMULATOR_HOST", host)
            yield Emulator(host, log_path)
    finally:
        _stop(process)


def new_project() -> str:
    """A project id no other test uses (valid for Google Cloud: 6-30 characters)."""
    return f"test-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def project(emulator: Emulator) -> str:
    """A fresh, empty project on the emulator."""
    return new_project()


@pytest.fixture
def storage(project: str) -> Iterator[FirestoreStorage]:
    """A backend on a fresh project, closed afterwards."""
    backend = FirestoreStorage(project)
    yield backend
    backend.close()
