"""Shared fixtures: an Eduverse on in-memory SQLite with the tiny test pack and an in-process
grader, plus ready-made accounts. (Backend-specific fixtures live beside their tests.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eduverse_firestore.emulator import Emulator, EmulatorError, running_emulator
from flask.testing import FlaskClient

from eduverse_core import Eduverse
from eduverse_core.models import ClassDetails, Classroom, User
from webapp import create_app

from fakes import PASSWORD, EventRecorder, InProcessGrader, TestPlugin, test_settings


@pytest.fixture
def grader() -> InProcessGrader:
    return InProcessGrader()


@pytest.fixture
def recorder() -> EventRecorder:
    return EventRecorder()


@pytest.fixture
def ev(grader: InProcessGrader, recorder: EventRecorder) -> Iterator[Eduverse]:
    with Eduverse(test_settings(), plugins=[TestPlugin(grader), recorder]) as instance:
        yield instance


@pytest.fixture
def student(ev: Eduverse) -> User:
    return ev.accounts.create_user("Student@Example.org ", "Stu Dent", PASSWORD)


@pytest.fixture
def other_student(ev: Eduverse) -> User:
    return ev.accounts.create_user("other@example.org", "Other", PASSWORD)


@pytest.fixture
def instructor(ev: Eduverse) -> User:
    return ev.accounts.create_user("prof@example.org", "Prof", PASSWORD, role="instructor")


@pytest.fixture
def other_instructor(ev: Eduverse) -> User:
    return ev.accounts.create_user("prof2@example.org", "Prof Two", PASSWORD, role="instructor")


@pytest.fixture
def classroom(ev: Eduverse, instructor: User) -> Classroom:
    details = ClassDetails(subject="Python", year=2026, semester="1", section="A")
    return ev.classes.create(instructor, details)


@pytest.fixture
def client(ev: Eduverse) -> Iterator[FlaskClient]:
    """A test client of the web app composed around ``ev``."""
    app = create_app(eduverse=ev)
    app.testing = True
    with app.test_client() as test_client:
        yield test_client


@pytest.fixture
def other_classroom(ev: Eduverse, other_instructor: User) -> Classroom:
    details = ClassDetails(subject="Python", year=2026, semester="1", section="B")
    return ev.classes.create(other_instructor, details)


@pytest.fixture
def callers(
    ev: Eduverse,
    student: User,
    other_student: User,
    instructor: User,
    other_instructor: User,
    classroom: Classroom,
    other_classroom: Classroom,
) -> dict[str, User | None]:
    """The five callers of the authorization matrices: ``member`` is in ``classroom``,
    ``outsider`` in another instructor's class; ``other_instructor`` owns that other class and
    nothing of ``classroom``."""
    ev.classes.join(student, classroom.invite_code)
    ev.classes.join(other_student, other_classroom.invite_code)
    return {
        "anonymous": None,
        "member": student,
        "outsider": other_student,
        "instructor": instructor,
        "other_instructor": other_instructor,
    }


@pytest.fixture(scope="session")
def firestore_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """Google's Firestore emulator for the tests that run the app on Firestore; it fails
    (never skips) when the emulator is missing. Each user picks a fresh project id
    (``eduverse_firestore.emulator.new_project``), so nothing needs resetting between tests."""
    try:
        with running_emulator(tmp_path_factory.mktemp("firestore")) as emulator:
            yield emulator
    except EmulatorError as exc:
        pytest.fail(str(exc), pytrace=False)
