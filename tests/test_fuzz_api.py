"""Fuzzing the whole API from its own OpenAPI document (schemathesis): every operation, as
each kind of caller, must never answer 5xx and never answer anything its schema does not
describe (status, content type, body).

Bounded here (``EDUVERSE_FUZZ_EXAMPLES``, default 12 per operation and caller); ``make fuzz``
runs it longer. A fresh token is issued for every case, so an operation that ends a session
(log-out, a password change) cannot starve the next case.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from eduverse_core import Eduverse
from eduverse_core.models import ClassDetails, Outcome, User
from webapp import create_app

from fakes import InProcessGrader, TestPlugin, test_settings

EXAMPLES = int(os.environ.get("EDUVERSE_FUZZ_EXAMPLES", "12"))
PASSWORD = "fuzzing password 1"
ROLES = ("anonymous", "student", "instructor")


class World:
    """One app with a class, its instructor and a member, shared by every fuzz case."""

    def __init__(self) -> None:
        # Fuzzed code never runs in this process: the test pack's grader only gives verdicts
        # (forced), and /api/run uses the real sandbox.
        grader = InProcessGrader()
        grader.forced = Outcome.FAILED
        self.ev = Eduverse(test_settings(default_grader="sandbox"), plugins=[TestPlugin(grader)])
        self.app = create_app(eduverse=self.ev)
        accounts = self.ev.accounts
        self.instructor = accounts.create_user("prof@fuzz.org", "Prof", PASSWORD, role="instructor")
        self.student = accounts.create_user("learner@fuzz.org", "Learner", PASSWORD)
        details = ClassDetails(subject="Fuzzing", year=2026, semester="1")
        classroom = self.ev.classes.create(self.instructor, details)
        self.ev.classes.join(self.student, classroom.invite_code)

    def headers(self, role: str) -> dict[str, str]:
        user: User | None = {"student": self.student, "instructor": self.instructor}.get(role)
        if user is None:
            return {}
        # Re-read the account: a fuzzed password change bumps its token version.
        fresh = self.ev.accounts.get(user.id)
        return {"Authorization": f"Bearer {self.ev.sessions.issue(fresh).token}"}


WORLD = World()
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WORLD.app)


@pytest.fixture(scope="module", autouse=True)
def _close_world() -> Iterator[None]:
    yield
    WORLD.ev.close()


@pytest.fixture(params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_fails_or_breaks_its_schema(case: Any, role: str) -> None:
    response = case.call(headers=WORLD.headers(role))
    assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code}"
    case.validate_response(
        response,
        checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
    )
