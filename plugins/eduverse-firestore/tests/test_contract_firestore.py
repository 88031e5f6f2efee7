"""The shared storage contract on the Firestore emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eduverse_core.storage import StorageContract
from eduverse_firestore.storage import GET_ALL_CHUNK, FirestoreStorage


class TestFirestoreStorage(StorageContract):
    """The whole contract, every worker thread sharing one backend (one client), as the
    threads of one server process do."""

    many_records = GET_ALL_CHUNK * 2 + 1  # three batched reads in list_progress

    @pytest.fixture
    def storage(self, project: str) -> Iterator[FirestoreStorage]:
        backend = FirestoreStorage(project)
        yield backend
        backend.close()
