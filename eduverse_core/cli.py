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
from pathlib import Path
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


# -- grading --------------------------------------------------------------------------------
@cli.command("grade")
@click.option("--pack", "pack_source", required=True, help="Pack file or folder, or a pack id.")
@click.option("--week", required=True, type=int, help="Week number.")
@click.option("--cycle", "cycle_ref", required=True, help="Cycle id or 1-based position.")
@click.option("--track", default=None, help="beginner or advanced (default: the first).")
@click.option("--locale", default=None, help="Message language (default: the pack's).")
@click.option("--username", default="", help="Name put in {{USERNAME}} of the feedback.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.argument("file")
@click.pass_context
@clean_errors
def grade_cmd(
    ctx: click.Context,
    pack_source: str,
    week: int,
    cycle_ref: str,
    track: str | None,
    locale: str | None,
    username: str,
    as_json: bool,
    file: str,
) -> None:
    """Grade FILE on a cycle with the server's grader, as a learner's submission would be.

    Exit 0 when it passes, 1 otherwise, 2 for an unknown week, cycle, track or file.
    """
    from .grading.cycles import default_track, grade_cycle
    from .services.progress import locate

    pack_ = _pack_for_grading(ctx, pack_source)
    _, _, cycle = locate(pack_, week, cycle_ref)
    track = track or default_track(cycle)
    if cycle.track(track) is None:
        have = ", ".join(cycle.tracks())
        fail(f"cycle {cycle.id!r} has no track {track!r} (it has: {have})", EXIT_USAGE)
    if not Path(file).is_file():
        fail(f"file {file!r} not found", EXIT_USAGE)
    code = Path(file).read_text(encoding="utf-8")
    locale = locale or pack_.default_locale
    graded = grade_cycle(get_eduverse(ctx).grader, pack_, cycle, track, code, locale, username)
    result = graded.result
    if as_json:
        feedback = graded.feedback.to_dict()
        del feedback["character_name"]
        echo_json(
            {
                "outcome": result.outcome.value,
                "message": result.message,
                "stdout": result.stdout,
                "duration_ms": result.duration_ms,
                "feedback": feedback,
            }
        )
    else:
        click.echo(f"{result.outcome.value} ({result.duration_ms} ms)")
        if result.message:
            click.echo(result.message)
        if result.stdout:
            click.echo("--- output ---")
            click.echo(result.stdout, nl=not result.stdout.endswith("\n"))
    ctx.exit(0 if result.passed else EXIT_PROBLEM)


def _pack_for_grading(ctx: click.Context, source: str, doing: str = "grading") -> Any:
    """A pack from a path, or a registered pack's id. A pack that loads is graded even when
    `pack validate` still finds problems (an author grades while writing): warn only."""
    from .errors import ValidationFailed
    from .packs import validate

    path = Path(source)
    if not path.exists():
        return get_eduverse(ctx).pack(source)
    validation = validate(path)
    if validation.pack is None:
        problems = [str(p) for p in validation.problems]
        raise ValidationFailed(f"scenario pack {source!r} does not load", problems=problems)
    if validation.problems:
        count = len(validation.problems)
        click.echo(
            f"warning: {source} has {count} validation problem(s)"
            f" (see `eduverse pack validate {source}`); {doing} anyway",
            err=True,
        )
    return validation.pack


# -- packs ----------------------------------------------------------------------------------
@cli.group()
def pack() -> None:
    """Validate, check, convert and inspect scenario packs."""


@pack.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print {valid, problems} as JSON.")
@click.pass_context
@clean_errors
def pack_validate(ctx: click.Context, paths: tuple[Path, ...], as_json: bool) -> None:
    """Validate packs (files or folders): schema, models, semantic rules and plugin checks.

    Prints one line per problem, FILE::$.json.path: message. Exit 1 when any is found.
    """
    from .packs import problems_summary, validate

    extra = _plugin_pack_checks(ctx)
    results = [validate(path, extra) for path in paths]
    problems = [problem for result in results for problem in result.problems]
    if as_json:
        echo_json({"valid": not problems, "problems": [p.to_dict() for p in problems]})
    else:
        for problem in problems:
            click.echo(str(problem))
        # Summaries go to stderr: stdout stays one line per problem, ready for grep and wc.
        for result in results:
            click.echo(result.summary(), err=True)
        if problems:
            click.echo(problems_summary(problems), err=True)
    ctx.exit(EXIT_PROBLEM if problems else 0)


def _plugin_pack_checks(ctx: click.Context) -> Callable[[Any], list[str]] | None:
    """The plugins' ``eduverse_validate_scenario_pack`` as one check, or None when no plugin
    implements it. The Eduverse the hook receives is created only when a pack is checked."""
    from .plugins import make_plugin_manager
    from .settings import Settings

    hook = make_plugin_manager(Settings.from_env()).hook.eduverse_validate_scenario_pack
    if not hook.get_hookimpls():
        return None

    def check(pack: Any) -> list[str]:
        results = hook(eduverse=get_eduverse(ctx), pack=pack)
        return [str(problem) for result in results for problem in result or []]

    return check


@pack.command("import-legacy")
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder to write the pack into (pack.yaml, weeks/, IMPORT-REPORT.md).",
)
@click.option("--id", "pack_id", default=None, help="Pack id (default: from the folder name).")
@click.option("--force", is_flag=True, help="Replace the pack in a non-empty --out folder.")
@clean_errors
def pack_import_legacy(source: Path, out_dir: Path, pack_id: str | None, force: bool) -> None:
    """Convert the original system's scenario.json into a folder pack, with a report of
    everything an author must still do (e.g. write the reference solutions)."""
    from .errors import Conflict
    from .legacy_packs import import_legacy

    try:
        report = import_legacy(source, out_dir, pack_id=pack_id, force=force)
    except Conflict as exc:
        fail(exc.message, EXIT_USAGE)
        return
    click.echo(report.to_markdown(), nl=False)


@pack.command("stats")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@clean_errors
def pack_stats_cmd(path: Path, as_json: bool) -> None:
    """Per-week counts of a pack: cycles, tracks (b=beginner, a=advanced), hints, wrong
    answers; plus totals, locales, id and version."""
    from .packs import load_pack, pack_stats, stats_table

    stats = pack_stats(load_pack(path))
    if as_json:
        echo_json(stats.to_dict())
    else:
        click.echo(stats_table(stats))


@pack.command("check")
@click.argument("source", metavar="PATH")
@click.option("--json", "as_json", is_flag=True, help="Print {cycles, checks, failures} as JSON.")
@click.option("--jobs", default=None, type=click.IntRange(min=1), help="Gradings at a time.")
@click.option(
    "--locale",
    "locales",
    multiple=True,
    help="Check test messages in this locale (repeatable; default: every locale of the pack).",
)
@click.pass_context
@clean_errors
def pack_check(
    ctx: click.Context, source: str, as_json: bool, jobs: int | None, locales: tuple[str, ...]
) -> None:
    """Run a pack's code against its tests: every reference solution passes, no starter code
    passes, each wrong answer gets its expected outcome, every lecture example runs.

    Exit 1 when any check fails.
    """
    import os
    import threading

    from .grading.check import check_pack, plan

    pack_ = _pack_for_grading(ctx, source, "checking")
    unknown = sorted(set(locales) - set(pack_.locales))
    if unknown:
        fail(f"pack {pack_.id!r} has no locale {', '.join(unknown)}", EXIT_USAGE)
    graders = get_eduverse(ctx).grader
    jobs = jobs or max(2, os.cpu_count() or 2)
    show_bar = not as_json and sys.stderr.isatty()
    if show_bar:
        lock = threading.Lock()
        total = len(plan(pack_, locales)[1])
        with click.progressbar(length=total, label="checking", file=sys.stderr) as bar:

            def advance() -> None:
                with lock:
                    bar.update(1)

            report = check_pack(pack_, graders, jobs=jobs, locales=locales, on_progress=advance)
    else:
        report = check_pack(pack_, graders, jobs=jobs, locales=locales)
    if as_json:
        echo_json(report.to_dict())
    else:
        for failure in report.failures:
            click.echo(str(failure))
        noun = "failure" if len(report.failures) == 1 else "failures"
        summary = f"{report.cycles} cycles, {report.checks} checks, {len(report.failures)} {noun}"
        click.echo(summary, err=True)
    ctx.exit(EXIT_PROBLEM if report.failures else 0)


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
