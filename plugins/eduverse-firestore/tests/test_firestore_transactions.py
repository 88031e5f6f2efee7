"""Transactions, sharded counters and operation counts: what only the Firestore backend has."""

from __future__ import annotations

import functools
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from google.api_core import exceptions as google_errors
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.transaction import Transaction

from eduverse_core.errors import StorageError
from eduverse_core.models import Progress
from eduverse_core.storage import (
    T0,
    Boom,
    Storage,
    StorageContract,
    complete,
    make_classroom,
    make_membership,
    make_question,
    make_reflection,
    make_submission,
    make_user,
    rating_deltas,
)
from eduverse_firestore import storage as storage_module
from eduverse_firestore.layout import COUNTER_SHARDS, COUNTER_SHARDS_DEFAULT
from eduverse_firestore.ops import OpsSnapshot
from eduverse_firestore.storage import FirestoreStorage


# -- the contract's concurrency tests, one client per worker -----------------------------------
class _ClientPerWorker(StorageContract):
    """Each worker gets its own backend (its own client and connection), as separate server
    processes or Cloud Run instances have: their transactions contend in Firestore itself, not
    on the local locks that the threads of one backend queue on. Small numbers: in the
    emulator two transactions that deadlock wait 2 s for its lock timeout."""

    __test__ = False
    concurrency_workers = 3
    concurrency_rounds = 3

    def run_concurrently(self, storage: Storage, task: Callable[[Storage, int], None]) -> None:
        assert isinstance(storage, FirestoreStorage)
        workers = [FirestoreStorage(storage.project) for _ in range(self.concurrency_workers)]
        start_together = threading.Barrier(len(workers))

        def run(worker: int) -> None:
            start_together.wait(timeout=60)
            task(workers[worker], worker)

        try:
            with ThreadPoolExecutor(max_workers=len(workers)) as pool:
                for future in [pool.submit(run, n) for n in range(len(workers))]:
                    future.result()
        finally:
            for worker in workers:
                worker.close()


CONCURRENCY_TESTS = sorted(
    name for name in dir(StorageContract) if name.startswith("test_") and "concurren" in name
)


def test_the_contract_has_concurrency_tests() -> None:
    assert len(CONCURRENCY_TESTS) >= 4, CONCURRENCY_TESTS


@pytest.mark.parametrize("name", CONCURRENCY_TESTS)
def test_contract_concurrency_with_a_client_per_worker(
    name: str, storage: FirestoreStorage
) -> None:
    getattr(_ClientPerWorker(), name)(storage)


# -- retries ----------------------------------------------------------------------------------
@pytest.fixture
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage_module, "RETRY_FIRST_S", 0.0)


def _abort_commits(monkeypatch: pytest.MonkeyPatch, times: int) -> list[int]:
    """Make the next ``times`` commits fail as contention does; returns the count so far."""
    aborted = [0]
    real_commit = Transaction._commit

    def commit(self: Transaction) -> list[object]:
        if aborted[0] < times:
            aborted[0] += 1
            raise google_errors.Aborted("contention (injected)")  # type: ignore[no-untyped-call]
        return real_commit(self)

    monkeypatch.setattr(Transaction, "_commit", commit)
    return aborted


def test_an_aborted_transaction_runs_again_from_a_fresh_read(
    storage: FirestoreStorage, monkeypatch: pytest.MonkeyPatch, no_pauses: None
) -> None:
    storage.update_progress("s1", "logicore", complete("a"))
    seen: list[Progress] = []

    def mutate(progress: Progress) -> Progress:
        seen.append(progress)
        return complete("b")(progress)

    aborted = _abort_commits(monkeypatch, times=2)
    before = storage.ops.snapshot()
    log = make_submission(student_id="s1")
    result = storage.record_submission(log, {"class:c1": {"n": 1}}, mutate)
    cost = storage.ops.snapshot() - before
    assert aborted == [2] and len(seen) == 3
    assert all(progress.completed == ["a"] for progress in seen)  # each try read afresh
    assert result.completed == ["a", "b"]
    assert storage.get_counters("class:c1") == {"n": 1}  # counted once, not three times
    assert storage.list_submissions() == [log]
    # Reads of every try are billed; the writes only of the one that committed.
    assert cost == OpsSnapshot(reads=6, writes=3, transactions=1, retries=2)


def test_a_transaction_that_keeps_aborting_is_storage_error_and_writes_nothing(
    storage: FirestoreStorage, monkeypatch: pytest.MonkeyPatch, no_pauses: None
) -> None:
    _abort_commits(monkeypatch, times=storage_module.MAX_ATTEMPTS)
    with pytest.raises(StorageError, match="kept conflicting") as info:
        storage.update_progress("s1", "logicore", complete("a"))
    assert isinstance(info.value.__cause__, google_errors.Aborted)
    monkeypatch.undo()
    assert storage.get_progress("s1", "logicore") is None
    assert storage.ops.retries == storage_module.MAX_ATTEMPTS - 1


def test_a_failing_mutation_is_not_retried(storage: FirestoreStorage) -> None:
    calls: list[Progress] = []

    def explode(progress: Progress) -> Progress:
        calls.append(progress)
        raise Boom("no")

    with pytest.raises(Boom):
        storage.update_progress("s1", "logicore", explode)
    assert len(calls) == 1 and storage.ops.retries == 0 and storage.ops.transactions == 0


def test_real_contention_between_two_clients_is_resolved_by_a_retry(
    storage: FirestoreStorage, project: str
) -> None:
    """A transaction of another client reads the same progress while ours is between its read
    and its commit: both hold a read lock and want to write. One is aborted and retried, and
    no update is lost either way."""
    other = FirestoreStorage(project)
    storage.update_progress("s1", "logicore", complete("first"))
    ours_has_read = threading.Event()
    theirs_has_read = threading.Event()

    def ours(progress: Progress) -> Progress:
        ours_has_read.set()
        theirs_has_read.wait(timeout=10)
        return complete("ours")(progress)

    def theirs(progress: Progress) -> Progress:
        theirs_has_read.set()
        return complete("theirs")(progress)

    with ThreadPoolExecutor(max_workers=2) as pool:
        mine = pool.submit(storage.update_progress, "s1", "logicore", ours)
        assert ours_has_read.wait(timeout=10)
        their = pool.submit(other.update_progress, "s1", "logicore", theirs)
        mine.result(timeout=60)
        their.result(timeout=60)
    progress = storage.get_progress("s1", "logicore")
    assert progress is not None
    assert sorted(progress.completed) == ["first", "ours", "theirs"]
    assert storage.ops.retries + other.ops.retries >= 1
    other.close()


# -- sharded counters -------------------------------------------------------------------------
def _shard_numbers(storage: FirestoreStorage, scope: str) -> list[int]:
    query = storage._client.collection(COUNTER_SHARDS).where(
        filter=FieldFilter("scope", "==", scope)
    )
    return sorted(int((doc.to_dict() or {})["shard"]) for doc in query.stream())


def test_counter_changes_spread_over_the_shards_of_their_scope(project: str) -> None:
    storage = FirestoreStorage(project, shards=4, rng=random.Random(7))
    for n in range(40):
        storage.record_submission(make_submission(), {"class:c1": {"n": 1, "odd": n % 2}}, None)
    assert _shard_numbers(storage, "class:c1") == [0, 1, 2, 3]
    assert storage.get_counters("class:c1") == {"n": 40, "odd": 20}
    storage.close()


def test_one_shard_is_one_document(project: str) -> None:
    storage = FirestoreStorage(project, shards=1)
    for _ in range(5):
        storage.save_reflection(make_reflection(), rating_deltas("class:c1"))
    assert _shard_numbers(storage, "class:c1") == [0]
    assert storage.get_counters("class:c1") == {"comprehension": 4, "count": 1}
    storage.close()


def test_sharded_counters_sum_exactly_under_concurrency(project: str) -> None:
    """Two backends (two processes' worth of clients), eight threads, submissions and
    reflections adding positive and negative amounts to shared and private scopes."""
    backends = [FirestoreStorage(project), FirestoreStorage(project)]
    threads, rounds = 8, 12

    def work(worker: int) -> None:
        backend = backends[worker % 2]
        for n in range(rounds):
            deltas = {
                "class:c1": {"attempts": 1, "balance": 1 if n % 3 else -2},
                f"user:s{worker}:logicore": {"xp": 5},
            }
            backend.record_submission(make_submission(id=f"w{worker}-{n}"), deltas, None)
        backend.save_reflection(
            make_reflection(student_id=f"s{worker}"),
            lambda previous, current: {"class:c1": {"reflections": 1}},
        )

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(work, worker) for worker in range(threads)]:
            future.result()
    balance = sum(1 if n % 3 else -2 for n in range(rounds)) * threads
    assert backends[0].get_counters("class:c1") == {
        "attempts": threads * rounds,
        "balance": balance,
        "reflections": threads,
    }
    for worker in range(threads):
        assert backends[1].get_counters(f"user:s{worker}:logicore") == {"xp": 5 * rounds}
    shards = _shard_numbers(backends[0], "class:c1")
    assert len(shards) > 1 and set(shards) <= set(range(COUNTER_SHARDS_DEFAULT))
    for backend in backends:
        backend.close()


def test_counter_names_and_scopes_are_opaque(storage: FirestoreStorage) -> None:
    names = {"": 1, "__name__": 2, "a.b": 3, "`x`": 4, "%": 5, "%25": 6, "ü/|": 7, "a b": 8}
    scopes = ["", ".", "..", "__x__", "a/b", "a|b", "class:%_"]
    for scope in scopes:
        storage.record_submission(make_submission(), {scope: names}, None)
    for scope in scopes:
        assert storage.get_counters(scope) == names


# -- operation counts -------------------------------------------------------------------------
def _cost(storage: FirestoreStorage, action: Callable[[], object]) -> OpsSnapshot:
    before = storage.ops.snapshot()
    action()
    return storage.ops.snapshot() - before


def test_operations_are_counted_as_firestore_bills_them(storage: FirestoreStorage) -> None:
    user = make_user()
    assert _cost(storage, lambda: storage.get_user("nobody")) == OpsSnapshot(reads=1)
    assert _cost(storage, lambda: storage.create_user(user)) == OpsSnapshot(
        reads=2, writes=2, transactions=1
    )
    assert _cost(storage, lambda: storage.get_user_by_email(user.email)) == OpsSnapshot(reads=1)
    assert _cost(storage, lambda: storage.list_users(role="instructor")) == OpsSnapshot(reads=1)

    classroom = make_classroom(id="c1")
    storage.create_classroom(classroom)
    for membership in (make_membership("c1", "s1"), make_membership("c1", "s2")):
        join = functools.partial(storage.join_classroom, membership)
        assert _cost(storage, join) == OpsSnapshot(reads=2, writes=1, transactions=1)
    storage.add_question(make_question(class_id="c1"))

    counters = {"class:c1": {"passed": 1, "attempts": 1}, "user:s1:logicore": {"xp": 10}}
    record = _cost(
        storage,
        lambda: storage.record_submission(
            make_submission(student_id="s1"), counters, complete("a")
        ),
    )
    # The log and the progress read; the log, the progress and one shard per scope written.
    assert record == OpsSnapshot(reads=2, writes=4, transactions=1)
    assert _cost(storage, lambda: storage.get_counters("class:c1")) == OpsSnapshot(reads=1)
    assert _cost(storage, lambda: storage.get_counters("class:none")) == OpsSnapshot(reads=1)
    many = ["s1", "s2", "s3"]
    assert _cost(storage, lambda: storage.list_progress(many, "logicore")) == OpsSnapshot(reads=3)
    assert _cost(storage, lambda: storage.hit_rate_limit("k", 60, T0)) == OpsSnapshot(writes=1)
    assert _cost(storage, lambda: storage.peek_rate_limit("k", 60, T0)) == OpsSnapshot(reads=1)

    storage.record_submission(make_submission(), {"class:c1:week:1": {"n": 1}}, None)
    # The class; 2 memberships, 1 question, 1 shard of "class:c1", 1 of "class:c1:…".
    assert _cost(storage, lambda: storage.delete_classroom("c1")) == OpsSnapshot(
        reads=6, deletes=7, transactions=1
    )


def test_the_counter_is_thread_safe_and_resettable(storage: FirestoreStorage) -> None:
    def add() -> None:
        for _ in range(1000):
            storage.ops.add(reads=1, writes=2)

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (storage.ops.reads, storage.ops.writes) == (4000, 8000)
    assert storage.ops.reset() == OpsSnapshot(reads=4000, writes=8000)
    assert storage.ops.snapshot() == OpsSnapshot()
