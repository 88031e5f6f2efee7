"""The ``eduverse`` command line.

Commands are thin: parse, call the core, print. Every :class:`EduverseError` (and every
missing, unreadable or malformed file) becomes one clear line on stderr and a non-zero exit;
usage errors exit 2. Plugins add commands through ``eduverse_register_commands``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import IO, Any, TypeVar, cast

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


def get_eduverse(ctx: click.Context, settings: Any = None) -> Any:
    """The Eduverse for this invocation, created on first use (most commands need none), on
    ``settings`` (default: from the environment)."""
    obj = ctx.ensure_object(dict)
    if "eduverse" not in obj:
        from .engine import Eduverse

        obj["eduverse"] = Eduverse(settings)
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


def _reading_eduverse(ctx: click.Context) -> Any:
    """The Eduverse for a command that only reads storage (the publications of a pack it
    grades by id). A SQLite database file that does not exist holds no publications: it is
    not created for that (an author grading in some folder would find an `eduverse.db` there);
    an empty in-memory database stands in."""
    if "eduverse" in ctx.ensure_object(dict):
        return get_eduverse(ctx)
    from .default_plugins.sqlite_storage import MEMORY, parse_url
    from .settings import Settings

    settings = Settings.from_env()
    if settings.storage.startswith("sqlite:"):
        database = parse_url(settings.storage)
        if database != MEMORY and not Path(database).exists():
            settings = Settings.from_env(storage="sqlite://:memory:")
    return get_eduverse(ctx, settings)


def _pack_for_grading(ctx: click.Context, source: str, doing: str = "grading") -> Any:
    """A pack from a path, or a registered pack's id (its publication, if the configured
    storage has one). A pack that loads is graded even when `pack validate` still finds
    problems (an author grades while writing): warn only."""
    from .errors import ValidationFailed
    from .packs import validate

    path = Path(source)
    if not path.exists():
        return _reading_eduverse(ctx).pack(source)
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
    """Validate, check, convert, inspect and publish scenario packs."""


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
    pack_ = _pack_for_grading(ctx, source, "checking")
    unknown = sorted(set(locales) - set(pack_.locales))
    if unknown:
        fail(f"pack {pack_.id!r} has no locale {', '.join(unknown)}", EXIT_USAGE)
    report = _run_checks(ctx, pack_, jobs, locales, show_bar=not as_json)
    if as_json:
        echo_json(report.to_dict())
    else:
        for failure in report.failures:
            click.echo(str(failure))
        noun = "failure" if len(report.failures) == 1 else "failures"
        summary = f"{report.cycles} cycles, {report.checks} checks, {len(report.failures)} {noun}"
        click.echo(summary, err=True)
    ctx.exit(EXIT_PROBLEM if report.failures else 0)


def _run_checks(
    ctx: click.Context, pack_: Any, jobs: int | None, locales: tuple[str, ...], *, show_bar: bool
) -> Any:
    """``check_pack`` with the configured graders, and a progress bar on a terminal."""
    import os
    import threading

    from .grading.check import check_pack, plan

    graders = get_eduverse(ctx).grader
    jobs = jobs or max(2, os.cpu_count() or 2)
    if not (show_bar and sys.stderr.isatty()):
        return check_pack(pack_, graders, jobs=jobs, locales=locales)
    lock = threading.Lock()
    total = len(plan(pack_, locales)[1])
    with click.progressbar(length=total, label="checking", file=sys.stderr) as bar:

        def advance() -> None:
            with lock:
                bar.update(1)

        return check_pack(pack_, graders, jobs=jobs, locales=locales, on_progress=advance)


@pack.command("publish")
@click.argument("path", metavar="PATH", type=click.Path(path_type=Path))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print {published, pack_id, version, published_at, previous, problems, failures, …}.",
)
@click.option("--jobs", default=None, type=click.IntRange(min=1), help="Gradings at a time.")
@click.pass_context
@clean_errors
def pack_publish(ctx: click.Context, path: Path, as_json: bool, jobs: int | None) -> None:
    """Publish the pack at PATH to the configured storage (EDUVERSE_STORAGE): every running
    instance serves it within EDUVERSE_PACK_REFRESH_SECONDS, without a redeploy.

    First the checks of `pack validate`, then those of `pack check` (in every locale); the
    pack is stored only when all pass. It replaces the previous publication of its id, and
    wins over a bundled or registered pack with that id. There is no way to skip the checks.
    Exit 0 when published, 1 when a check fails or storage does (nothing is stored), 2 for
    a usage error.
    """
    from .packs import problems_summary, validate

    if not path.exists():
        fail(f"{str(path)!r} not found", EXIT_USAGE)
    validation = validate(path, _plugin_pack_checks(ctx))
    if validation.problems:
        problems = validation.problems
        if as_json:
            problem_list = [p.to_dict() for p in problems]
            echo_json({"published": False, "problems": problem_list, "failures": []})
            ctx.exit(EXIT_PROBLEM)
        for problem in problems:
            click.echo(str(problem))
        fail(f"{path}: {problems_summary(problems)}, not published (see `eduverse pack validate`)")
    pack_ = validation.pack
    assert pack_ is not None  # a pack without problems has loaded
    ev = get_eduverse(ctx)
    # Storage before the check, so that a wrong EDUVERSE_STORAGE fails now, not minutes later.
    previous = next((i for i in ev.storage.list_published_packs() if i.pack_id == pack_.id), None)
    report = _run_checks(ctx, pack_, jobs, (), show_bar=not as_json)
    if report.failures:
        if as_json:
            failures = report.to_dict()["failures"]
            echo_json({"published": False, "problems": [], "failures": failures})
            ctx.exit(EXIT_PROBLEM)
        for failure in report.failures:
            click.echo(str(failure))
        failed = len(report.failures)
        fail(
            f"{pack_.id}: {failed} of {report.checks} checks failed, not published"
            " (see `eduverse pack check`)"
        )
    warning = _portraits_warning(ev, pack_)
    info = ev.publish_pack(pack_)
    if as_json:
        echo_json(
            {
                "published": True,
                **info.model_dump(mode="json"),
                "previous": previous.model_dump(mode="json") if previous else None,
                "checks": report.checks,
                "problems": [],
                "failures": [],
                "warnings": [warning] if warning else [],
            }
        )
        return
    if warning:
        click.echo(f"warning: {warning}", err=True)
    was = f" (was {previous.version}, published {_when(previous.published_at)})" if previous else ""
    seconds = ev.settings.pack_refresh_seconds
    click.echo(
        f"published {info.pack_id} {info.version} after {report.checks} checks{was};"
        f" running instances serve it within {seconds:g} s"
    )


@pack.command("published")
@click.option("--json", "as_json", is_flag=True, help="Print [{pack_id, version, published_at}].")
@click.pass_context
@clean_errors
def pack_published(ctx: click.Context, as_json: bool) -> None:
    """List the packs published to the configured storage: id, version, when (UTC)."""
    infos = get_eduverse(ctx).storage.list_published_packs()
    if as_json:
        echo_json([info.model_dump(mode="json") for info in infos])
        return
    for info in infos:
        click.echo(f"{info.pack_id}\t{info.version}\t{_when(info.published_at)}")
    if not infos:
        click.echo("no published packs", err=True)


def _when(moment: Any) -> str:
    """A publication time in UTC, to the second: ``2026-03-04T09:30:00Z``."""
    from datetime import UTC

    return str(moment.astimezone(UTC).replace(microsecond=0).isoformat()).replace("+00:00", "Z")


def _portraits_warning(ev: Any, pack_: Any) -> str | None:
    """Why learners may not see the pack's portraits once published (None: they will).

    A publication stores the pack's text only; the web app serves portraits from the folder
    of the registered pack with the same id (``ev.pack_dirs``)."""
    portraits = [c.portrait for c in pack_.cast if c.portrait]
    if not portraits:
        return None
    try:
        folder = ev.pack_dirs.get(pack_.id) if pack_.id in ev.packs else None
    except EduverseError:
        folder = None
    if folder is None:
        return (
            f"portraits are not published, and no registered pack {pack_.id!r} has a folder"
            " to serve them from: learners see none"
        )
    missing = [name for name in portraits if not (Path(folder) / name).is_file()]
    if missing:
        return (
            f"portraits are not published: {', '.join(missing)} missing from {folder}, where"
            f" instances serve pack {pack_.id!r}'s images from"
        )
    return None


# -- backups --------------------------------------------------------------------------------
@cli.command("export")
@click.argument("file", metavar="FILE")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
@clean_errors
def export_cmd(ctx: click.Context, file: str, as_json: bool) -> None:
    """Write every record of the store to FILE as JSON Lines (`-`: stdout): a portable backup
    that `eduverse import` restores into any storage backend.

    FILE holds password hashes: it is created readable by its owner only (mode 0600), written
    under a temporary name and renamed when complete.
    """
    from .services.backup import ExportSummary, export_records

    to_stdout = file == "-"
    if to_stdout and as_json:
        fail("--json needs a FILE: with `-` the export itself goes to stdout", EXIT_USAGE)
    path = Path(file)
    if not to_stdout and path.is_dir():
        fail(f"{file!r} is a folder", EXIT_USAGE)
    if not to_stdout and not path.absolute().parent.is_dir():
        fail(f"folder {str(path.absolute().parent)!r} does not exist", EXIT_USAGE)
    ev = get_eduverse(ctx)
    storage, pack_ids = ev.storage, _known_pack_ids(ev)

    def write(out: IO[str]) -> ExportSummary:
        with _record_bar("exporting", None, not as_json) as on_record:
            return export_records(storage, pack_ids, out, on_record=on_record)

    summary = _export_to_stdout(write) if to_stdout else _write_privately(path, write)
    if as_json:
        echo_json({"file": file, "records": summary.total, "counts": summary.counts})
    else:
        click.echo(_counts_line("exported", summary.total, summary.counts), err=to_stdout)


@cli.command("import")
@click.argument("file", metavar="FILE")
@click.option(
    "--force",
    is_flag=True,
    help="Add the records to a store that is not empty; records that collide with stored"
    " ones are skipped and reported.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
@clean_errors
def import_cmd(ctx: click.Context, file: str, force: bool, as_json: bool) -> None:
    """Restore an export (FILE, `-`: stdin) into the configured store, which must be empty.

    The whole file is checked before anything is stored. Counters are rebuilt from the logs
    and reflections, then compared with the exported ones: a difference is a warning. Exit 1
    for a broken file, a store that is not empty (without --force) or any skipped record.
    """
    from .services.backup import import_records, require_empty, verify_backup

    storage = get_eduverse(ctx).storage
    if not force:
        require_empty(storage)
    show = not as_json
    with _import_source(file) as source:
        with _record_bar("checking", None, show) as on_record:
            counts = verify_backup(source, on_record)
        source.seek(0)
        with _record_bar("importing", sum(counts.values()), show) as on_record:
            report = import_records(storage, source, force=force, on_record=on_record)
    if as_json:
        echo_json(
            {
                "records": report.total,
                "counts": report.counts,
                "scopes_checked": report.scopes_checked,
                "conflict_count": report.conflict_count,
                "conflicts": report.conflicts,
                "warnings": report.warnings,
            }
        )
    else:
        for warning in report.warnings:
            click.echo(f"warning: {warning}", err=True)
        for conflict in report.conflicts:
            click.echo(f"conflict: {conflict}", err=True)
        unlisted = report.conflict_count - len(report.conflicts)
        if unlisted:
            click.echo(f"conflict: … and {unlisted} more", err=True)
        line = _counts_line("imported", report.total, report.counts)
        scopes = report.scopes_checked
        line += f"; counters rebuilt, {_number(scopes)} scope{'s' * (scopes != 1)} checked"
        if report.warnings:
            line += f" ({_number(len(report.warnings))} differ)"
        if report.conflict_count:
            line += f"; {_number(report.conflict_count)} skipped as conflicts"
        click.echo(line)
    ctx.exit(EXIT_PROBLEM if report.conflict_count else 0)


_KIND_LABELS = {
    "user": "users",
    "classroom": "classrooms",
    "membership": "memberships",
    "question": "questions",
    "submission": "submissions",
    "reflection": "reflections",
    "progress": "progress",
    "published_pack": "published packs",
    "counters": "counter scopes",
}


def _number(n: int) -> str:
    """``1 234``: digits grouped by thousands with spaces."""
    return f"{n:,}".replace(",", " ")


def _counts_line(verb: str, total: int, counts: dict[str, int]) -> str:
    """``exported 1 234 records: users 60, classrooms 2, …``."""
    parts = ", ".join(f"{_KIND_LABELS.get(k, k)} {_number(n)}" for k, n in counts.items())
    return f"{verb} {_number(total)} record{'s' * (total != 1)}: {parts}"


def _known_pack_ids(ev: Any) -> list[str]:
    """The registered packs' ids. A pack that fails to load must not prevent a backup: warn,
    and fall back on the default pack (the export adds every pack the data names)."""
    try:
        return cast(list[str], ev.packs.names())
    except EduverseError as exc:
        click.echo(
            f"warning: packs not loaded ({exc.message}); progress is exported for the default"
            " pack and the packs that classes, logs and reflections name",
            err=True,
        )
        return [ev.settings.default_pack]


@contextmanager
def _record_bar(
    label: str, total: int | None, show: bool
) -> Iterator[Callable[[str], None] | None]:
    """A progress bar on stderr (a terminal only) advanced by the callback it yields, once
    per record; None when not shown."""
    if not (show and sys.stderr.isatty()):
        yield None
        return

    def by_hand() -> Iterator[str]:
        # click needs an iterable or a length; an empty generator has neither a length nor
        # items, so the bar counts without a total and is advanced by `update` only.
        yield from ()

    with click.progressbar(
        by_hand(),
        length=total,
        label=label,
        file=sys.stderr,
        show_pos=True,
        show_percent=total is not None,
        item_show_func=lambda kind: kind,
        update_min_steps=50,
    ) as bar:

        def advance(kind: str) -> None:
            bar.update(1, kind)

        yield advance


_T = TypeVar("_T")


def _write_privately(path: Path, write: Callable[[IO[str]], _T]) -> _T:
    """Run ``write`` on a new file beside ``path`` created with mode 0600, then rename it to
    ``path``: a failed or interrupted export never leaves a partial file under that name."""
    import os
    import tempfile

    fd, temporary = tempfile.mkstemp(dir=path.absolute().parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            result = write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result


def _export_to_stdout(write: Callable[[IO[str]], _T]) -> _T:
    """Run ``write`` on stdout, encoded as UTF-8 whatever the terminal's encoding."""
    import io

    sys.stdout.flush()  # anything echoed before goes first
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
    try:
        return write(out)
    finally:
        out.flush()
        out.detach()  # stdout stays open


@contextmanager
def _import_source(file: str) -> Iterator[IO[bytes]]:
    """FILE opened for reading in binary (the import reads it twice), or stdin copied to an
    anonymous temporary file (mode 0600, removed on close) when FILE is `-`."""
    import shutil
    import tempfile

    if file == "-":
        with tempfile.TemporaryFile() as copy:
            shutil.copyfileobj(sys.stdin.buffer, copy)
            copy.seek(0)
            yield copy
        return
    if not Path(file).is_file():
        fail(f"file {file!r} not found", EXIT_USAGE)
    with open(file, "rb") as source:
        yield source


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
