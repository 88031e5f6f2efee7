"""Production behaviour: refusing unsafe settings, Cloud Logging JSON, the gunicorn config."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask

from eduverse_core import Eduverse, Settings
from eduverse_core.errors import StartupError, StorageError
from webapp import create_app, gunicorn_conf
from webapp.logs import SPAN_KEY, TRACE_KEY, CloudLoggingFormatter, configure_json_logging

from fakes import test_settings

STRONG = "k" * 20 + "9Qz_-x7mP2vLr5tW8yB3nC6d"


def production(**overrides: object) -> Settings:
    """Production settings; ``secret_key`` is left unset unless given (test_settings sets one)."""
    values: dict[str, object] = {
        "environment": "production",
        "log_format": "text",
        "storage": "sqlite://:memory:",
        "default_pack": "tiny",
        "load_entry_points": False,
        "disabled_plugins": ("bundled_packs",),
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({}, "EDUVERSE_SECRET_KEY is not set"),
        ({"secret_key": "changeme"}, "EDUVERSE_SECRET_KEY is weak"),
        ({"secret_key": "short-but-random"}, "EDUVERSE_SECRET_KEY is weak"),
        ({"secret_key": STRONG}, "in memory"),
    ],
)
def test_production_refuses_unsafe_settings(overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(StartupError, match="refusing to start in production") as caught:
        create_app(production(**overrides))
    assert fragment in str(caught.value)


def test_production_starts_with_a_strong_key_and_durable_storage(tmp_path: Path) -> None:
    settings = production(secret_key=STRONG, storage=f"sqlite:///{tmp_path}/e.db")
    assert settings.production_problems() == []
    app = create_app(settings)
    assert app.test_client().get("/healthz").status_code == 200
    app.extensions["eduverse"].close()


def test_development_starts_without_a_key() -> None:
    settings = production(environment="development")
    assert settings.production_problems() != []  # it would not pass in production …
    app = create_app(settings)  # … but development starts
    assert app.test_client().get("/healthz").status_code == 200
    app.extensions["eduverse"].close()


def test_environment_and_log_format_come_from_the_environment() -> None:
    settings = Settings.from_env({"EDUVERSE_ENV": "production", "EDUVERSE_SECRET_KEY": STRONG})
    assert settings.environment == "production" and settings.json_logs
    assert Settings.from_env({"EDUVERSE_LOG_FORMAT": "json"}).json_logs
    assert not Settings.from_env({}).json_logs
    assert not Settings.from_env(
        {"EDUVERSE_ENV": "production", "EDUVERSE_LOG_FORMAT": "text"}
    ).json_logs
    with pytest.raises(ValueError):
        Settings.from_env({"EDUVERSE_ENV": "staging"})


def _record(message: str, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord("eduverse.test", level, __file__, 1, message, None, None)


def test_json_log_line_has_severity_and_the_requests_trace() -> None:
    formatter = CloudLoggingFormatter(project="demo-project")
    app = Flask(__name__)
    trace = "105445aa7843bc8bf206b12000100000"
    with app.test_request_context("/api/me", headers={"X-Cloud-Trace-Context": f"{trace}/1;o=1"}):
        line = json.loads(formatter.format(_record("slow storage", logging.ERROR)))
    assert line["severity"] == "ERROR"
    assert line["message"] == "slow storage"
    assert line[TRACE_KEY] == f"projects/demo-project/traces/{trace}"
    assert line[SPAN_KEY] == "1"
    assert line["httpRequest"] == {"requestMethod": "GET", "requestUrl": "/api/me"}


def test_json_log_reads_w3c_traceparent_and_works_outside_requests() -> None:
    formatter = CloudLoggingFormatter()
    app = Flask(__name__)
    header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with app.test_request_context("/", headers={"traceparent": header}):
        line = json.loads(formatter.format(_record("hi", logging.INFO)))
    assert line[TRACE_KEY] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert line[SPAN_KEY] == "00f067aa0ba902b7"
    outside = json.loads(formatter.format(_record("boot")))
    assert outside["severity"] == "WARNING" and TRACE_KEY not in outside
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    assert "RuntimeError: boom" in json.loads(formatter.format(record))["stack_trace"]


def test_configure_json_logging_installs_one_handler(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_json_logging()
        configure_json_logging()
        assert sum(isinstance(h.formatter, CloudLoggingFormatter) for h in root.handlers) == 1
        logging.getLogger("eduverse.probe").warning("hello %s", "world")
        out = capsys.readouterr().out.strip().splitlines()[-1]
        assert json.loads(out)["message"] == "hello world"
    finally:
        root.handlers, level = saved
        root.setLevel(level)


def test_gunicorn_config_binds_port_and_closes_the_app_on_worker_exit() -> None:
    assert gunicorn_conf.wsgi_app == "webapp:create_app()"
    assert gunicorn_conf.bind.startswith("0.0.0.0:")
    assert gunicorn_conf.timeout == 0
    ev = Eduverse(test_settings())
    app = create_app(eduverse=ev)
    storage = ev.storage
    storage.ping()
    gunicorn_conf.worker_exit(None, SimpleNamespace(wsgi=app))
    with pytest.raises(StorageError):
        storage.ping()  # the worker's connections are closed
    gunicorn_conf.worker_exit(None, SimpleNamespace())  # a worker without an app is fine


def test_production_server_process_is_not_dumpable(tmp_path: Path) -> None:
    """Same-uid processes (learner code when the server is not root) cannot read a
    non-dumpable process's /proc/<pid>/environ, where the secret key lives."""
    script = (
        "import ctypes, sys\n"
        "from eduverse_core import Settings\n"
        "from webapp import create_app\n"
        f"create_app(Settings(environment='production', log_format='text', secret_key={STRONG!r},"
        f" storage='sqlite:///{tmp_path}/p.db', load_entry_points=False))\n"
        "print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "0"
