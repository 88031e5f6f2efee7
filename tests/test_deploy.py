"""The deployment files, and the container's exact command run locally: no Docker engine
runs here, so the test starts the Dockerfile's CMD with the environment the image sets and
drives a learner through it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from eduverse_firestore.emulator import Emulator, new_project
from http_json import ok_json, request_json

from eduverse_core import Eduverse, Settings

ROOT = Path(__file__).parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
STRONG_KEY = "deploy-test-key-0123456789-abcdefghijklmnop"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = DOCKERFILE.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def runtime_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in runtime_stage():
        if word == "ENV":
            for pair in rest.split():
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def image_cmd() -> list[str]:
    cmd = [rest for word, rest in runtime_stage() if word == "CMD"]
    assert len(cmd) == 1, "one CMD in the runtime stage"
    parsed: list[str] = json.loads(cmd[0])
    return parsed


def test_dockerfile_builds_assets_in_node_and_runs_slim_python_as_non_root() -> None:
    froms = [rest for word, rest in dockerfile_instructions() if word == "FROM"]
    assert froms[0].startswith("node:20") and froms[-1].startswith("python:3.12-slim")
    words = dict(runtime_stage())
    run_as = next(rest for word, rest in runtime_stage() if word == "ARG" and "RUN_AS" in rest)
    assert words["USER"] == "${RUN_AS}" and run_as == "RUN_AS=10001"  # non-root by default
    assert "HEALTHCHECK" in words and "/healthz" in words["HEALTHCHECK"]
    assert "COPY" in words and any(
        "--from=assets" in rest for w, rest in runtime_stage() if w == "COPY"
    )
    assert image_env()["EDUVERSE_ENV"] == "production"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "frontend/node_modules"} <= set(ignored)


def test_compose_cloudbuild_and_app_yaml_describe_the_same_service() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app_env = compose["services"]["app"]["environment"]
    assert app_env["EDUVERSE_STORAGE"].startswith("firestore://")
    assert app_env["FIRESTORE_EMULATOR_HOST"].startswith("firestore:")
    build = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
    deploy = next(step for step in build["steps"] if step["id"] == "deploy")
    args = " ".join(deploy["args"])
    assert "--set-secrets=EDUVERSE_SECRET_KEY=" in args  # the key comes from Secret Manager
    assert "EDUVERSE_ENV=production" in args
    appengine = yaml.safe_load((ROOT / "app.yaml").read_text())
    assert appengine["entrypoint"] == " ".join(image_cmd())
    assert "EDUVERSE_SECRET_KEY" not in appengine["env_variables"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def container_env(port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDUVERSE_")}
    env.update(image_env())
    env["PORT"] = str(port)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["WEB_CONCURRENCY"] = "1"
    env.update(extra)
    return env


@pytest.fixture(params=["firestore", "sqlite"])
def container(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The image's CMD, run here with the image's environment: on the Firestore emulator as
    on Cloud Run, and on a SQLite file as on a single machine."""
    port = free_port()
    if request.param == "firestore":
        emulator: Emulator = request.getfixturevalue("firestore_emulator")
        storage = {
            "EDUVERSE_STORAGE": f"firestore://{new_project()}",
            "FIRESTORE_EMULATOR_HOST": emulator.host,
        }
    else:
        storage = {"EDUVERSE_STORAGE": f"sqlite:///{tmp_path / 'app.db'}"}
    env = container_env(
        port,
        EDUVERSE_SECRET_KEY=STRONG_KEY,
        EDUVERSE_ALLOW_INSTRUCTOR_SIGNUP="true",
        **storage,
    )
    process = subprocess.Popen(
        image_cmd(),
        cwd=tmp_path,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if request_json(base, "GET", "/healthz")[0] == 200:
                    break
                raise ConnectionError("not ready")
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read() if process.stdout else ""
                    pytest.fail(f"the container command did not come up:\n{output}")
                time.sleep(0.2)
        yield base, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def reference_solution(week: int, position: int) -> str:
    settings = Settings(storage="sqlite://:memory:", load_entry_points=False)
    with Eduverse(settings) as ev:
        cycle = ev.pack("logicore").weeks[week - 1].cycles[position - 1]
        track = cycle.track("beginner")
        assert track is not None and track.solution is not None
        return track.solution


def test_the_container_command_serves_a_learner_end_to_end(
    container: tuple[str, subprocess.Popen[str]],
) -> None:
    base, _ = container
    session = ok_json(
        base,
        "POST",
        "/api/auth/signup",
        {"email": "deploy@example.org", "name": "Deploy", "password": "long enough pw"},
    )
    token = session["token"]
    page = urllib.request.urlopen(base + "/", timeout=10)
    assert page.status == 200 and "text/html" in page.headers["Content-Type"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    week = ok_json(base, "GET", "/api/packs/logicore/weeks/1", token=token)
    assert week["week"]["number"] == 1
    answer = ok_json(
        base,
        "POST",
        "/api/submissions",
        {
            "pack_id": "logicore",
            "week": 1,
            "cycle": 1,
            "track": "beginner",
            "code": reference_solution(1, 1),
        },
        token=token,
    )
    assert answer["outcome"] == "passed", answer["message"]
    progress = ok_json(base, "GET", "/api/progress", token=token)
    assert progress["progress"]["completed"] == [answer["progress"]["completed"][0]]
    assert progress["progress"]["cycle"] == 2


def test_the_container_command_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    env = container_env(free_port(), EDUVERSE_STORAGE=f"sqlite:///{tmp_path / 'app.db'}")
    done = subprocess.run(
        image_cmd(), cwd=tmp_path, env=env, text=True, capture_output=True, timeout=60
    )
    assert done.returncode != 0
    assert "EDUVERSE_SECRET_KEY is not set" in done.stdout + done.stderr
