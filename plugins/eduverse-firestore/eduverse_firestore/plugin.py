"""The entry point (group ``eduverse``, name ``firestore``): registers the ``firestore`` scheme.

Importing this module is cheap: EduVerse loads every installed plugin at start-up, also when
it runs on SQLite, so Google's client library is imported only when a ``firestore://`` URL is
actually opened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from eduverse_core import hookimpl
from eduverse_core.storage import StorageFactory

if TYPE_CHECKING:
    from .storage import FirestoreStorage

SCHEME = "firestore"


def open_storage(url: str) -> FirestoreStorage:
    """The factory registered for ``firestore://…`` URLs."""
    from .storage import FirestoreStorage

    return FirestoreStorage.from_url(url)


@hookimpl
def eduverse_register_storage_backends(register: Callable[[str, StorageFactory], None]) -> None:
    register(SCHEME, open_storage)


@hookimpl
def eduverse_register_commands(cli: click.Group) -> None:
    """``eduverse migrate legacy-firestore`` (reads the original system's data)."""
    from .legacy import register

    register(cli)
