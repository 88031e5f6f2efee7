"""`eduverse migrate legacy-firestore`: read the original system's Firestore collections and
convert them into the configured storage (``eduverse_core.services.legacy_data`` does the
converting; this module only reads).

The source is a Firestore project (and database) of the original system, read with Google's
client — ``FIRESTORE_EMULATOR_HOST`` points it at an emulator, as for the storage backend.
Migrate into a different project or database than the source: the two layouts share
collection names (``users``, ``questions``, ``reflections``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

from eduverse_core.services.legacy_data import LegacyDocument, migrate_legacy

LEGACY_COLLECTIONS = (
    "users",
    "classes",
    "questions",
    "submission_logs",
    "reflections",
    "scenarios",
)
PAGE_SIZE = 500


def _plain(value: Any) -> Any:
    """Firestore values as plain Python: references as their path, nested maps and lists
    converted, everything else (timestamps included) as the client returns it."""
    path = getattr(value, "path", None)
    if isinstance(path, str) and hasattr(value, "parent"):  # a DocumentReference
        return path
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def read_legacy_documents(
    project: str, database: str = "(default)", collections: tuple[str, ...] = LEGACY_COLLECTIONS
) -> Iterator[LegacyDocument]:
    """Every document of the legacy collections, read in pages ordered by document id."""
    from google.cloud import firestore

    client = firestore.Client(project=project, database=database)
    try:
        for name in collections:
            query = client.collection(name).order_by("__name__").limit(PAGE_SIZE)
            last = None
            while True:
                page = list((query.start_after(last) if last is not None else query).stream())
                for snapshot in page:
                    yield LegacyDocument(name, snapshot.id, _plain(snapshot.to_dict() or {}))
                if len(page) < PAGE_SIZE:
                    break
                last = page[-1]
    finally:
        client.close()  # type: ignore[no-untyped-call]


def register(cli: click.Group) -> None:
    """Add ``eduverse migrate legacy-firestore`` to the CLI."""
    from eduverse_core.cli import EXIT_PROBLEM, clean_errors, echo_json, get_eduverse

    migrate = cli.commands.get("migrate")
    if not isinstance(migrate, click.Group):

        @cli.group("migrate")
        def migrate_group() -> None:
            """Bring data from other systems into EduVerse."""

        migrate = migrate_group

    @migrate.command("legacy-firestore")
    @click.option("--source-project", required=True, help="The original system's project id.")
    @click.option("--source-database", default="(default)", show_default=True)
    @click.option("--pack", "pack_id", default=None, help="The course the data belongs to"
                  " (default: the server's default pack).")  # fmt: skip
    @click.option("--dry-run", is_flag=True, help="Convert and report, store nothing.")
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    @click.pass_context
    @clean_errors
    def legacy_firestore(
        ctx: click.Context,
        source_project: str,
        source_database: str,
        pack_id: str | None,
        dry_run: bool,
        as_json: bool,
    ) -> None:
        """Convert the original system's Firestore data (users, classes, questions,
        submission_logs, reflections) into the configured storage, idempotently: running it
        again stores nothing twice. ``scenarios`` is content: use `eduverse pack
        import-legacy`."""
        ev = get_eduverse(ctx)
        chosen = pack_id or ev.settings.default_pack
        pack = ev.pack(chosen)
        documents = read_legacy_documents(source_project, source_database)
        report = migrate_legacy(ev.storage, documents, pack_id=chosen, pack=pack, dry_run=dry_run)
        if as_json:
            echo_json(report.to_dict())
        else:
            click.echo(report.to_text())
        ctx.exit(EXIT_PROBLEM if report.failed else 0)
