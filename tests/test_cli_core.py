"""The CLI's own commands: users, plugins, serve wiring, and clean errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from eduverse_core.cli import cli

ENV_BASE = {"EDUVERSE_LOAD_ENTRY_POINTS": "0", "EDUVERSE_SECRET_KEY": "test"}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**ENV_BASE, "EDUVERSE_STORAGE": f"sqlite:///{tmp_path / 'cli.db'}"}


def test_users_add_creates_an_instructor(env: dict[str, str]) -> None:
    runner = CliRunner()
    args = ["users", "add", "--email", "T@Example.org", "--name", "Teacher", "--role"]
    result = runner.invoke(cli, [*args, "instructor", "--password", "long enough"], env=env)
    assert result.exit_code == 0, result.output
    assert "created instructor t@example.org" in result.output
    listing = runner.invoke(cli, ["users", "list"], env=env)
    assert "instructor\tt@example.org\tTeacher" in listing.output
    assert "scrypt" not in listing.output


def test_users_add_duplicate_is_one_clean_line(env: dict[str, str]) -> None:
    runner = CliRunner()
    args = ["users", "add", "--email", "a@example.org", "--name", "A", "--password", "long enough"]
    assert runner.invoke(cli, args, env=env).exit_code == 0
    again = runner.invoke(cli, args, env=env)
    assert again.exit_code == 1
    assert again.output.strip().startswith("error:")
    assert "Traceback" not in again.output


def test_users_add_short_password_fails_cleanly(env: dict[str, str]) -> None:
    args = ["users", "add", "--email", "a@example.org", "--name", "A", "--password", "short"]
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 1 and "8 characters" in result.output


def test_plugins_lists_the_default_plugins_and_their_hooks(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["plugins", "--json"], env=env)
    assert result.exit_code == 0, result.output
    infos = {p["name"]: p for p in json.loads(result.output)}
    assert {"sqlite_storage", "sandbox_grader", "bundled_packs"} <= set(infos)
    assert infos["sqlite_storage"]["hooks"] == ["eduverse_register_storage_backends"]
    assert infos["bundled_packs"]["source"] == "default"


def test_plugins_dir_loads_a_one_file_plugin(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "shout.py").write_text(
        "from eduverse_core import hookimpl\n"
        "__version__ = '0.3'\n"
        "@hookimpl\n"
        "def eduverse_startup(eduverse):\n"
        "    pass\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["plugins"], env={**env, "EDUVERSE_PLUGINS_DIR": str(folder)})
    assert result.exit_code == 0, result.output
    assert "shout 0.3 (plugins dir)" in result.output
    assert "eduverse_startup" in result.output


def test_broken_one_file_plugin_is_a_clean_error(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "broken.py").write_text("raise ImportError('nope')\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["plugins"], env={**env, "EDUVERSE_PLUGINS_DIR": str(folder)})
    assert result.exit_code == 1
    assert "broken.py" in result.output and "Traceback" not in result.output


def test_console_script_runs_and_reports_usage_errors(env: dict[str, str]) -> None:
    exe = Path(sys.executable).with_name("eduverse")
    ok = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and ok.stdout.startswith("eduverse ")
    bad = subprocess.run([exe, "no-such-command"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "No such command" in bad.stderr
