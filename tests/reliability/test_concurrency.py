"""Races through the real HTTP stack (a threaded server on 127.0.0.1; SQLite in a file and
the Firestore emulator):
many requests at once must lose no update, and every aggregate must equal a recount from the
records it summarises."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from eduverse_firestore import plugin as firestore_plugin
from eduverse_firestore.emulator import Emulator, new_project
from reliability_support import Api, serve_in_thread

from eduverse_core import Eduverse
from eduverse_core.models import ClassDetails, Outcome, User
from eduverse_core.services.reflections import reflection_counters
from eduverse_core.services.submissions import submission_counters
from eduverse_core.storage import counters_total

from fakes import InProcessGrader, TestPlugin, test_settings

PASSWORD = "concurrency password"


@pytest.fixture(params=["sqlite", "firestore"])
def world(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Eduverse, Api]]:
    """The app over real HTTP, on a SQLite file or on a fresh Firestore emulator project."""
    plugins: list[object] = [TestPlugin(InProcessGrader())]
    if request.param == "firestore":
        emulator: Emulator = request.getfixturevalue("firestore_emulator")
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host)
        settings = test_settings(storage=f"firestore://{new_project()}")
        plugins.append(firestore_plugin)
    else:
        settings = test_settings(storage=f"sqlite:///{tmp_path / 'race.db'}")
    with Eduverse(settings, plugins=plugins) as ev, serve_in_thread(ev) as api:
        yield ev, api


def at_once(count: int, task: Callable[[int], Any]) -> list[Any]:
    """Run ``task(i)`` for every i in threads released together; return results in order."""
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        barrier.wait(timeout=30)
        return task(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def learners(ev: Eduverse, count: int) -> list[User]:
    return [
        ev.accounts.create_user(f"race{i}@example.org", f"Racer {i}", PASSWORD)
        for i in range(count)
    ]


def token(ev: Eduverse, user: User) -> str:
    return ev.sessions.issue(ev.accounts.get(user.id)).token


def new_class(ev: Eduverse) -> tuple[User, str, str]:
    prof = ev.accounts.create_user("prof@example.org", "Prof", PASSWORD, role="instructor")
    classroom = ev.classes.create(prof, ClassDetails(subject="Races", year=2026, semester="1"))
    return prof, classroom.id, classroom.invite_code


def test_fifty_learners_join_one_class_at_once(world: tuple[Eduverse, Api]) -> None:
    ev, api = world
    prof, class_id, code = new_class(ev)
    students = learners(ev, 50)
    tokens = [token(ev, s) for s in students]
    statuses = at_once(
        50, lambda i: api.call("POST", "/api/classes/join", {"invite_code": code}, tokens[i])[0]
    )
    assert statuses == [200] * 50
    status, detail = api.call("GET", f"/api/classes/{class_id}", token=token(ev, prof))
    assert status == 200
    assert detail["class"]["member_count"] == 50
    assert {m["id"] for m in detail["members"]} == {s.id for s in students}
    assert len(ev.storage.list_members(class_id)) == 50


def test_twenty_concurrent_submissions_by_one_learner(world: tuple[Eduverse, Api]) -> None:
    ev, api = world
    _, class_id, code = new_class(ev)
    (student,) = learners(ev, 1)
    bearer = token(ev, student)
    assert api.call("POST", "/api/classes/join", {"invite_code": code}, bearer)[0] == 200

    def submit(i: int) -> str:
        answer = "answer = 1\n" if i % 2 == 0 else "answer = -1\n"
        body = {"pack_id": "tiny", "week": 1, "cycle": 1, "track": "beginner", "code": answer}
        status, data = api.call("POST", "/api/submissions", body, bearer)
        assert status == 200, data
        return str(data["outcome"])

    outcomes = at_once(20, submit)
    assert Counter(outcomes) == {"passed": 10, "failed": 10}
    logs = ev.storage.list_submissions(student_id=student.id)
    assert len(logs) == 20 and len({log.id for log in logs}) == 20
    recount = counters_total(*(submission_counters(log) for log in logs))
    assert ev.storage.get_counters(f"class:{class_id}") == recount[f"class:{class_id}"]
    mine = f"user:{student.id}:tiny"
    assert ev.storage.get_counters(mine) == recount[mine]
    progress = ev.storage.get_progress(student.id, "tiny")
    assert progress is not None and progress.completed.count("w1-a") == 1
    failures_before_first_pass = progress.failed_attempts.get("w1-a:beginner", 0)
    failed_logs = sum(log.outcome is Outcome.FAILED for log in logs)
    assert failures_before_first_pass <= failed_logs  # counted once each, never invented


def test_concurrent_reflections_keep_one_and_counters_match_it(
    world: tuple[Eduverse, Api],
) -> None:
    ev, api = world
    _, class_id, code = new_class(ev)
    (student,) = learners(ev, 1)
    bearer = token(ev, student)
    api.call("POST", "/api/classes/join", {"invite_code": code}, bearer)

    def reflect(i: int) -> int:
        rating = 1 + i % 5
        body = {
            "pack_id": "tiny",
            "ratings": {
                "w1-a": {"comprehension": rating, "application": rating},
                "w1-b": {"comprehension": 6 - rating, "application": rating},
            },
            "feedback": {"meaningful": f"take {i}", "difficult": "", "curious": ""},
        }
        return api.call("PUT", "/api/reflections/1", body, bearer)[0]

    assert at_once(12, reflect) == [200] * 12
    (stored,) = ev.storage.list_reflections(student_id=student.id)
    assert stored.feedback.meaningful.startswith("take ")
    expected = reflection_counters(stored)[f"class:{class_id}"]
    counters = ev.storage.get_counters(f"class:{class_id}")
    assert {k: v for k, v in counters.items() if k.startswith("refl:")} == expected


def test_concurrent_questions_and_progress_writes_lose_nothing(
    world: tuple[Eduverse, Api],
) -> None:
    ev, api = world
    prof, class_id, code = new_class(ev)
    students = learners(ev, 10)
    tokens = [token(ev, s) for s in students]
    for bearer in tokens:
        api.call("POST", "/api/classes/join", {"invite_code": code}, bearer)

    def write(i: int) -> list[int]:
        bearer = tokens[i % 10]
        question = {
            "text": f"question {i}",
            "context": {"week": 1, "scene": "task", "character": "alex", "excerpt": "x"},
        }
        live = {"code": f"print({i})", "cycle_id": "w1-a"}
        pause = {"week": 1, "cycle": 1, "scene": "coding", "track": "beginner"}
        return [
            api.call("POST", "/api/questions", question, bearer)[0],
            api.call("PUT", "/api/progress/live-code", live, bearer)[0],
            api.call("PUT", "/api/progress/pause", pause, bearer)[0],
        ]

    assert at_once(30, write) == [[201, 200, 200]] * 30
    questions = ev.storage.list_questions(class_id=class_id)
    assert sorted(q.text for q in questions) == sorted(f"question {i}" for i in range(30))
    status, feed = api.call("GET", f"/api/classes/{class_id}/monitor", token=token(ev, prof))
    assert status == 200 and feed["unanswered_questions"] == 30
    for i, student in enumerate(students):
        progress = ev.storage.get_progress(student.id, "tiny")
        assert progress is not None and progress.pause_state is not None
        written = {f"print({j})" for j in range(30) if j % 10 == i}
        assert progress.live_code in written
