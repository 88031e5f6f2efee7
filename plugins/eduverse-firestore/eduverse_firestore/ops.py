"""Counting the document operations the backend performs (what Firestore bills), for benchmarks.

Firestore bills document reads, writes and deletes. The backend counts them as it issues them:

* **reads**: one per document fetched by id, found or not; one per document a query returns,
  and one for a query that returns nothing (Firestore's minimum charge per query). Reads of a
  transaction attempt that later aborts count too: they were billed.
* **writes**: one per document created, set, updated or incremented, counted when the write is
  committed (a retried transaction counts its writes once).
* **deletes**: one per document deleted, counted like writes.
* **transactions** committed, and **retries**: transaction attempts that aborted on contention
  and ran again.

>>> before = storage.ops.snapshot()          # doctest: +SKIP
>>> storage.record_submission(log, deltas, None)  # doctest: +SKIP
>>> storage.ops.snapshot() - before          # doctest: +SKIP
OpsSnapshot(reads=2, writes=3, deletes=0, transactions=1, retries=0)
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class OpsSnapshot:
    """Operation counts at one moment; subtract two snapshots for the cost of what happened
    between them."""

    reads: int = 0
    writes: int = 0
    deletes: int = 0
    transactions: int = 0
    retries: int = 0

    def __add__(self, other: OpsSnapshot) -> OpsSnapshot:
        return OpsSnapshot(
            *(
                a + b
                for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other), strict=True)
            )
        )

    def __sub__(self, other: OpsSnapshot) -> OpsSnapshot:
        return OpsSnapshot(
            *(
                a - b
                for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other), strict=True)
            )
        )


class OpsCounter:
    """Thread-safe running totals of :class:`OpsSnapshot`'s fields; one per storage instance."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals = OpsSnapshot()

    def add(
        self,
        *,
        reads: int = 0,
        writes: int = 0,
        deletes: int = 0,
        transactions: int = 0,
        retries: int = 0,
    ) -> None:
        delta = OpsSnapshot(reads, writes, deletes, transactions, retries)
        with self._lock:
            self._totals = self._totals + delta

    def snapshot(self) -> OpsSnapshot:
        """The totals so far (an immutable copy)."""
        with self._lock:
            return self._totals

    def reset(self) -> OpsSnapshot:
        """Start again from zero; return the totals up to now."""
        with self._lock:
            totals, self._totals = self._totals, OpsSnapshot()
            return totals

    @property
    def reads(self) -> int:
        return self.snapshot().reads

    @property
    def writes(self) -> int:
        return self.snapshot().writes

    @property
    def deletes(self) -> int:
        return self.snapshot().deletes

    @property
    def transactions(self) -> int:
        return self.snapshot().transactions

    @property
    def retries(self) -> int:
        return self.snapshot().retries

    def __repr__(self) -> str:
        return f"OpsCounter({self.snapshot()})"
