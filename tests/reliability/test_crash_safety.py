"""`kill -9` of the production server (gunicorn, SQLite in WAL mode) during sustained writes:
after a restart the database passes SQLite's integrity check and every write the server
acknowledged before the kill is there."""

from __future__ import annotations

import http.client
import os
import signal
import sqlite3
import threading
import time
import urllib.error
from pathlib import Path

from reliability_support import production_server, sign_up

WRITERS = 6
WRITE_SECONDS = 3.0


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    acknowledged_questions: dict[str, set[str]] = {}
    last_reflection: dict[str, int] = {}
    tokens: list[str] = []
    with production_server(db) as (api, process):
        prof = sign_up(api, "prof@example.org", "instructor")
        status, made = api.call(
            "POST", "/api/classes", {"subject": "Crash", "year": 2026, "semester": "1"}, prof
        )
        assert status == 201, made
        invite = {"invite_code": made["class"]["invite_code"]}
        for n in range(WRITERS):
            bearer = sign_up(api, f"writer{n}@example.org")
            assert api.call("POST", "/api/classes/join", invite, bearer)[0] == 200
            tokens.append(bearer)
            acknowledged_questions[bearer] = set()
        stop = threading.Event()

        def write(bearer: str) -> None:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    question = {
                        "text": f"q{i}",
                        "context": {"week": 1, "scene": "task", "character": "alex", "excerpt": ""},
                    }
                    status, data = api.call("POST", "/api/questions", question, bearer)
                    if status == 201:
                        acknowledged_questions[bearer].add(data["question"]["id"])
                    reflection = {
                        "ratings": {},
                        "feedback": {"meaningful": f"take {i}", "difficult": "", "curious": ""},
                    }
                    if api.call("PUT", "/api/reflections/1", reflection, bearer)[0] == 200:
                        last_reflection[bearer] = i
                except (urllib.error.URLError, http.client.HTTPException, OSError):
                    return  # the server is gone (possibly mid-answer: not acknowledged)

        threads = [threading.Thread(target=write, args=(t,)) for t in tokens]
        for thread in threads:
            thread.start()
        time.sleep(WRITE_SECONDS)
        os.killpg(process.pid, signal.SIGKILL)  # no shutdown, no checkpoint
        process.wait(timeout=30)
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
    assert sum(len(ids) for ids in acknowledged_questions.values()) > WRITERS  # real load

    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    with production_server(db) as (api, _):
        for bearer in tokens:
            status, mine = api.call("GET", "/api/questions/mine", token=bearer)
            assert status == 200
            stored = {q["id"] for q in mine["questions"]}
            assert acknowledged_questions[bearer] <= stored
            status, reflections = api.call("GET", "/api/reflections/mine", token=bearer)
            assert status == 200
            if bearer in last_reflection:
                (week_one,) = reflections["reflections"]
                kept = int(week_one["feedback"]["meaningful"].removeprefix("take "))
                # The last acknowledged one, or one sent after it whose answer the kill cut off.
                assert kept >= last_reflection[bearer]
