"""Soak: the production server (gunicorn, SQLite file, the sandbox grader) under steady load at
half the throughput measured at the start of the same run, for ``EDUVERSE_SOAK_SECONDS``
(60 in `make test`, 600 in `make soak`). Zero errors; resident memory of the whole server
(master, workers and sandbox workers) grows less than 10 % from the end of the warm-up to
the end of the run."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path

from reliability_support import Api, production_server, sign_up

SECONDS = float(os.environ.get("EDUVERSE_SOAK_SECONDS", "60"))
PROBE_SECONDS = 4.0
CLIENTS = 8
MAX_GROWTH = 0.10
SOLUTION_MARK = "soak"


def tree_rss_kib(root: int) -> int:
    """Resident memory (KiB) of ``root`` and every descendant, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


class Load:
    """A mix of what learners do: read progress, autosave live code, now and then submit."""

    def __init__(self, api: Api, tokens: list[str]) -> None:
        self.api = api
        self.tokens = tokens
        self.outcomes: Counter[str] = Counter()
        self.lock = threading.Lock()

    def one(self, client: int, i: int) -> None:
        bearer = self.tokens[client]
        step = i % 10
        if step == 9:
            body = {
                "pack_id": "logicore",
                "week": 1,
                "cycle": 1,
                "track": "beginner",
                "code": f"print('{SOLUTION_MARK} {i}')",
            }
            status, _ = self.api.call("POST", "/api/submissions", body, bearer)
        elif step % 2 == 0:
            status, _ = self.api.call("GET", "/api/progress", token=bearer)
        else:
            live = {"code": f"# draft {i}\nprint({i})\n"}
            status, _ = self.api.call("PUT", "/api/progress/live-code", live, bearer)
        with self.lock:
            self.outcomes["ok" if status == 200 else f"status {status}"] += 1

    def run(self, seconds: float, rate: float | None = None) -> float:
        """Run CLIENTS loops for ``seconds``; closed loop when ``rate`` is None, otherwise
        paced to ``rate`` requests per second in all. Returns requests per second done."""
        stop = time.monotonic() + seconds
        done = Counter[int]()
        interval = CLIENTS / rate if rate else 0.0

        def loop(client: int) -> None:
            i, next_at = 0, time.monotonic()
            while time.monotonic() < stop:
                self.one(client, i)
                i += 1
                done[client] += 1
                if interval:
                    next_at += interval
                    time.sleep(max(0.0, next_at - time.monotonic()))

        threads = [threading.Thread(target=loop, args=(c,)) for c in range(CLIENTS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sum(done.values()) / (time.monotonic() - started)


def test_soak_at_half_the_maximum(tmp_path: Path) -> None:
    with production_server(tmp_path / "soak.db") as (api, process):
        tokens = [sign_up(api, f"soak{n}@example.org") for n in range(CLIENTS)]
        load = Load(api, tokens)
        maximum = load.run(PROBE_SECONDS)
        warm_up = max(5.0, SECONDS * 0.15)
        load.run(warm_up, rate=maximum / 2)
        before = tree_rss_kib(process.pid)
        achieved = load.run(SECONDS, rate=maximum / 2)
        after = tree_rss_kib(process.pid)
    growth = (after - before) / before
    print(
        f"\nsoak: max {maximum:.0f} req/s, ran {SECONDS:.0f} s at {achieved:.0f} req/s;"
        f" RSS {before / 1024:.1f} -> {after / 1024:.1f} MiB ({growth:+.1%}); {dict(load.outcomes)}"
    )
    assert set(load.outcomes) == {"ok"}, load.outcomes
    assert achieved >= maximum / 2 * 0.8  # the server kept up with the pace
    assert growth < MAX_GROWTH
