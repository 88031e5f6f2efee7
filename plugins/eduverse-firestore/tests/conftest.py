"""The Firestore emulator, started once per test session, and a fresh project per test.

The emulator is Google's own (``gcloud components install cloud-firestore-emulator``, or the
Debian package ``google-cloud-cli-firestore-emulator``); ``FIRESTORE_EMULATOR`` overrides where
it is looked for. These tests never skip: without the emulator they fail, saying so.

Isolation: every test gets its own project id on the one emulator, so no test sees another's
data and nothing has to be deleted between tests (the emulator keeps each project apart).
The emulator enforces ``firestore.rules`` for clients that are not the server (see
``test_rules_deny_every_client``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eduverse_firestore.emulator import Emulator, EmulatorError, new_project, running_emulator
from eduverse_firestore.storage import FirestoreStorage

PLUGIN_ROOT = Path(__file__).resolve().parent.parent
RULES_FILE = PLUGIN_ROOT / "firestore.rules"
INDEXES_FILE = PLUGIN_ROOT / "firestore.indexes.json"


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """The emulator for the whole session (rules loaded), with ``FIRESTORE_EMULATOR_HOST``
    pointing at it; a missing or broken emulator fails the tests, never skips them."""
    try:
        with (
            running_emulator(tmp_path_factory.mktemp("firestore"), rules=RULES_FILE) as running,
            pytest.MonkeyPatch.context() as patch,
        ):
            patch.setenv("FIRESTORE_EMULATOR_HOST", running.host)
            yield running
    except EmulatorError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def project(emulator: Emulator) -> str:
    """A fresh, empty project on the emulator."""
    return new_project()


@pytest.fixture
def storage(project: str) -> Iterator[FirestoreStorage]:
    """A backend on a fresh project, closed afterwards."""
    backend = FirestoreStorage(project)
    yield backend
    backend.close()
