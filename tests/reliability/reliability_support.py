"""A real HTTP server for reliability tests: the app in a thread, JSON calls over urllib."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from http_json import request_json
from werkzeug.serving import make_server

from eduverse_core import Eduverse
from webapp import create_app


@dataclass
class Api:
    base: str

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        """One JSON request; returns (status, parsed body or None). Never raises on 4xx/5xx."""
        return request_json(self.base, method, path, body, token)


@contextmanager
def serve_in_thread(ev: Eduverse) -> Iterator[Api]:
    server = make_server("127.0.0.1", 0, create_app(eduverse=ev), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Api(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)


SECRET = "reliability-secret-0123456789-abcdefghij"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def production_server(db: Path, workers: int = 2) -> Iterator[tuple[Api, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDUVERSE_")}
    env.update(
        PORT=str(port),
        WEB_CONCURRENCY=str(workers),
        EDUVERSE_STORAGE=f"sqlite:///{db}",
        EDUVERSE_SECRET_KEY=SECRET,
        EDUVERSE_ALLOW_INSTRUCTOR_SIGNUP="1",
        EDUVERSE_LOAD_ENTRY_POINTS="0",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    process = subprocess.Popen(
        ["gunicorn", "--config", "python:webapp.gunicorn_conf", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    api = Api(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    while True:
        try:
            if api.call("GET", "/readyz")[0] == 200:
                break
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        assert process.poll() is None and time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)
    try:
        yield api, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def sign_up(api: Api, email: str, role: str = "student") -> str:
    body = {"email": email, "name": email.split("@")[0], "password": "crash test pw", "role": role}
    status, data = api.call("POST", "/api/auth/signup", body)
    assert status == 201, data
    return str(data["token"])
