"""Every hook is documented and exercised: one ``test_hook_<name>`` per hookspec."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from eduverse_core import Eduverse, StartupError, hookimpl, hookspecs
from eduverse_core.cli import cli
from eduverse_core.default_plugins.sqlite_storage import SQLiteStorage

from fakes import EventRecorder, InProcessGrader, TestPlugin, make_pack, test_settings

HOOKS = sorted(n for n, f in vars(hookspecs).items() if n.startswith("eduverse_") and callable(f))


def test_every_hook_is_specified() -> None:
    assert HOOKS == [
        "eduverse_register_commands",
        "eduverse_register_graders",
        "eduverse_register_scenario_packs",
        "eduverse_register_storage_backends",
        "eduverse_startup",
        "eduverse_track_event",
        "eduverse_validate_scenario_pack",
        "eduverse_web_actor_from_request",
        "eduverse_web_register_blueprints",
    ]


@pytest.mark.parametrize("name", HOOKS)
def test_every_hookspec_documents_each_parameter(name: str) -> None:
    func = getattr(hookspecs, name)
    doc = inspect.getdoc(func) or ""
    assert doc, f"{name} has no docstring"
    for param in inspect.signature(func).parameters:
        assert f":param {param}:" in doc, f"{name} does not document {param!r}"


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_test(name: str) -> None:
    pattern = re.compile(rf"def test_hook_{name}\b")
    sources = (p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("test_*.py"))
    assert any(pattern.search(s) for s in sources), f"write test_hook_{name}"


def _ev(*plugins: object, **settings: Any) -> Eduverse:
    return Eduverse(test_settings(**settings), plugins=[TestPlugin(InProcessGrader()), *plugins])


def test_hook_eduverse_register_storage_backends(tmp_path: Path) -> None:
    opened: list[str] = []

    class MemoryBackend:
        @hookimpl
        def eduverse_register_storage_backends(self, register: Callable[..., None]) -> None:
            def factory(url: str) -> SQLiteStorage:
                opened.append(url)
                return SQLiteStorage.from_url("sqlite://:memory:")

            register("mem", factory)

    with _ev(MemoryBackend(), storage="mem://anything") as ev:
        ev.accounts.create_user("a@example.org", "A", "long enough")
        assert opened == ["mem://anything"]
        assert ev.storage_backends.names() == ["mem", "sqlite"]


def test_unknown_storage_scheme_is_a_startup_error() -> None:
    with _ev(storage="postgres://db") as ev, pytest.raises(StartupError) as info:
        _ = ev.storage
    assert "postgres://db" in info.value.message


def test_hook_eduverse_register_graders() -> None:
    grader = InProcessGrader()

    class GraderPlugin:
        @hookimpl
        def eduverse_register_graders(self, register: Callable[..., None]) -> None:
            register("custom", lambda settings: grader)

    with _ev(GraderPlugin()) as ev:
        assert "custom" in ev.grader_factories
        assert ev.grader("custom") is grader
        assert ev.grader("custom") is ev.grader("custom")


def test_a_grader_registered_twice_is_a_startup_error() -> None:
    class Twice:
        @hookimpl
        def eduverse_register_graders(self, register: Callable[..., None]) -> None:
            register("inprocess", lambda settings: InProcessGrader())

    with pytest.raises(StartupError, match="registered twice"):
        _ev(Twice())


def test_hook_eduverse_register_scenario_packs() -> None:
    class PackPlugin:
        @hookimpl
        def eduverse_register_scenario_packs(self, register: Callable[..., None]) -> None:
            register(make_pack("second"))

    with _ev(PackPlugin()) as ev:
        assert ev.packs.names() == ["second", "tiny"]
        assert ev.pack("second").id == "second"


def test_hook_eduverse_register_commands() -> None:
    class CommandPlugin:
        @hookimpl
        def eduverse_register_commands(self, cli: click.Group) -> None:
            @cli.command("hello-plugin")
            def hello() -> None:
                click.echo("hello from a plugin")

    from eduverse_core.plugins import make_plugin_manager

    pm = make_plugin_manager(test_settings(), [CommandPlugin()])
    pm.hook.eduverse_register_commands(cli=cli)
    try:
        result = CliRunner().invoke(cli, ["hello-plugin"])
        assert result.exit_code == 0 and "hello from a plugin" in result.output
    finally:
        cli.commands.pop("hello-plugin", None)


def test_hook_eduverse_validate_scenario_pack() -> None:
    class HouseStyle:
        @hookimpl
        def eduverse_validate_scenario_pack(self, eduverse: Eduverse, pack: Any) -> list[str]:
            return [] if pack.version.startswith("2") else ["$.version: house style wants 2.x"]

    with _ev(HouseStyle()) as ev:
        problems = ev.plugin_pack_problems(make_pack())
    assert problems == ["$.version: house style wants 2.x"]


def test_hook_eduverse_startup() -> None:
    seen: list[Eduverse] = []

    class Startup:
        @hookimpl
        def eduverse_startup(self, eduverse: Eduverse) -> None:
            seen.append(eduverse)

    with _ev(Startup()) as ev:
        assert seen == [ev]


def test_hook_eduverse_track_event() -> None:
    recorder = EventRecorder()

    class Broken:
        @hookimpl
        def eduverse_track_event(self, eduverse: Eduverse, event: Any) -> None:
            raise RuntimeError("listener bug")

    with _ev(Broken(), recorder) as ev:
        user = ev.accounts.create_user("a@example.org", "A", "long enough")
    assert recorder.names() == ["user-signed-up"]
    assert recorder.events[0].actor_id == user.id


def test_misspelt_hook_fails_at_start_up() -> None:
    class Typo:
        @hookimpl
        def eduverse_registr_graders(self, register: Callable[..., None]) -> None:
            """Misspelt on purpose."""

    with pytest.raises(StartupError, match="unknown hook"):
        _ev(Typo())


def test_two_instances_do_not_share_plugins() -> None:
    recorder = EventRecorder()
    with _ev(recorder) as first, _ev() as second:
        second.accounts.create_user("b@example.org", "B", "long enough")
        assert recorder.events == []
        first.accounts.create_user("a@example.org", "A", "long enough")
        assert recorder.names() == ["user-signed-up"]


def test_hook_eduverse_web_register_blueprints() -> None:
    from flask import Blueprint

    from webapp import create_app

    class Routes:
        @hookimpl
        def eduverse_web_register_blueprints(self, app: Any, register: Callable[..., None]) -> None:
            bp = Blueprint("extra", __name__)
            bp.add_url_rule("/extra", "extra", lambda: {"ok": True, "extra": True})
            register(bp)

    with _ev(Routes()) as ev:
        client = create_app(eduverse=ev).test_client()
        assert client.get("/extra").json == {"ok": True, "extra": True}


def test_hook_eduverse_web_actor_from_request() -> None:
    from webapp import create_app

    class HeaderAuth:
        """Trusts a header: for a test only (a real plugin would check an SSO assertion)."""

        @hookimpl
        def eduverse_web_actor_from_request(self, eduverse: Eduverse, request: Any) -> Any:
            email = request.headers.get("X-Test-User")
            return eduverse.storage.get_user_by_email(email) if email else None

    with _ev(HeaderAuth()) as ev:
        user = ev.accounts.create_user("sso@example.org", "SSO", "long enough")
        client = create_app(eduverse=ev).test_client()
        me = client.get("/api/me", headers={"X-Test-User": "sso@example.org"})
        assert me.status_code == 200 and me.json["user"]["id"] == user.id
        token = ev.sessions.issue(user).token
        bearer = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert bearer.status_code == 200
        assert client.get("/api/me").status_code == 401


def test_first_uses_from_many_threads_build_one_storage_and_one_grader() -> None:
    import threading
    import time

    built: list[str] = []

    class Counting:
        @hookimpl
        def eduverse_register_graders(self, register: Callable[..., None]) -> None:
            def factory(settings: Any) -> InProcessGrader:
                built.append("grader")
                time.sleep(0.05)  # a slow start, like a sandbox pool's, widens the race
                return InProcessGrader()

            register("counted", factory)

        @hookimpl
        def eduverse_register_storage_backends(self, register: Callable[..., None]) -> None:
            def factory(url: str) -> SQLiteStorage:
                built.append("storage")
                time.sleep(0.05)
                return SQLiteStorage.from_url("sqlite://:memory:")

            register("counted", factory)

    with _ev(Counting(), storage="counted://x") as ev:
        start = threading.Barrier(8)

        def first_use() -> None:
            start.wait()
            _ = ev.storage, ev.grader("counted"), ev.packs

        threads = [threading.Thread(target=first_use) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(built) == ["grader", "storage"]
