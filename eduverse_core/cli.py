"""The ``eduverse`` command line.

Commands are thin: parse, call the core, print. Every :class:`EduverseError` (and every
missing, unreadable or malformed file) becomes one clear line on stderr and a non-zero exit;
usage errors exit 2. Plugins add commands through ``eduverse_register_commands``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

import click

from .errors import EduverseError, NotFound, ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])

EXIT_PROBLEM = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_PROBLEM) -> None:
    """Print ``error: message`` to stderr and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def clean_errors(func: F) -> F:
    """Turn core errors into one line and an exit code instead of a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NotFound as exc:
            fail(exc.message, EXIT_USAGE)
        except ValidationFailed as exc:
            for problem in exc.problems:
                click.echo(problem, err=True)
            fail(exc.message)
        except EduverseError as exc:
            fail(exc.message)
        except OSError as exc:
            name = exc.filename if exc.filename is not None else ""
            fail(f"{name}: {exc.strerror or exc}" if name else str(exc))

    return cast(F, wrapper)


def get_eduverse(ctx: click.Context) -> Any:
    """The Eduverse for this invocation, created on first use (most commands need none)."""
    obj = ctx.ensure_object(dict)
    if "eduverse" not in obj:
        from .engine import Eduverse

        obj["eduverse"] = Eduverse()
        ctx.call_on_close(obj["eduverse"].close)
    return obj["eduverse"]


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group()
@click.version_option(package_name="eduverse", message="eduverse %(version)s")
def cli() -> None:
    """EduVerse: story-driven Python courses, graded on the server."""


# -- serving ------------------------------------------------------------------------------
@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to bind.")
@click.option("--debug", is_flag=True, help="Flask debug mode (never in production).")
@click.pass_context
@clean_errors
def serve(ctx: click.Context, host: str, port: int, debug: bool) -> None:
    """Serve the web app (development server; production uses gunicorn)."""
    from webapp import create_app

    app = create_app(eduverse=get_eduverse(ctx))
    click.echo(f"EduVerse on http://{host}:{port}  (storage: {app.config['EDUVERSE_STORAGE']})")
    app.run(host=host, port=port, debug=debug, use_reloader=False, threaded=True)


# -- plugins and schemas ------------------------------------------------------------------
@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@clean_errors
def plugins_cmd(ctx: click.Context, as_json: bool) -> None:
    """List every plugin with its version and the hooks it implements."""
    infos = get_eduverse(ctx).plugin_infos()
    if as_json:
        echo_json([info.__dict__ for info in infos])
        return
    for info in infos:
        click.echo(f"{info.name} {info.version} ({info.source})")
        for hook in info.hooks:
            click.echo(f"    {hook}")


@cli.command("schema")
@click.option("--write", is_flag=True, help="Write the files instead of printing the pack schema.")
@clean_errors
def schema_cmd(write: bool) -> None:
    """Print (or --write) the JSON Schemas generated from the models."""
    from .schemas import generated_schemas, write_schemas

    if write:
        for path in write_schemas():
            click.echo(f"wrote {path}")
    else:
        echo_json(generated_schemas()["scenario-pack.schema.json"])


# -- users ----------------------------------------------------------------------------------
@cli.group()
def users() -> None:
    """Manage accounts."""


@users.command("add")
@click.option("--email", required=True, help="E-mail address (log-in name).")
@click.option("--name", required=True, help="Display name.")
@click.option(
    "--role", type=click.Choice(["student", "instructor"]), default="student", show_default=True
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Password (prompted when omitted; at least 8 characters).",
)
@click.pass_context
@clean_errors
def users_add(ctx: click.Context, email: str, name: str, role: str, password: str) -> None:
    """Create an account, e.g. an instructor: eduverse users add --role instructor …"""
    user = get_eduverse(ctx).accounts.create_user(email, name, password, role=role)
    click.echo(f"created {user.role} {user.email} ({user.id})")


@users.command("list")
@click.option("--role", type=click.Choice(["student", "instructor"]), default=None)
@click.pass_context
@clean_errors
def users_list(ctx: click.Context, role: str | None) -> None:
    """List accounts (never their passwords)."""
    for user in get_eduverse(ctx).storage.list_users(role):
        click.echo(f"{user.id}\t{user.role}\t{user.email}\t{user.name}")


# -- packs ----------------------------------------------------------------------------------
@cli.group()
def pack() -> None:
    """Validate, check, convert and inspect scenario packs."""


def main() -> None:
    """Console entry point: built-in commands plus those of plugins."""
    _register_plugin_commands()
    cli(prog_name="eduverse")


def _register_plugin_commands() -> None:
    """Let plugins add commands; a broken plugin setup is reported, not a traceback."""
    from .plugins import make_plugin_manager
    from .settings import Settings

    try:
        pm = make_plugin_manager(Settings.from_env())
    except EduverseError as exc:
        click.echo(f"warning: plugins not loaded: {exc.message}", err=True)
        return
    pm.hook.eduverse_register_commands(cli=cli)
