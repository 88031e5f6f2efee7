"""Query shapes and the composite indexes that serve them.

Firestore serves a query only from an index. Single-field indexes exist for every field
automatically and serve a query on one field, or equality filters alone (merged); anything
else — an equality filter and an ordering on another field, an ordering on two fields — needs
a *composite* index declared in ``firestore.indexes.json`` and deployed. The emulator needs
none, so a missing index would only show in production; hence every query the backend builds
goes through one helper that records its :class:`QueryShape`, and a test checks each shape
that needs a composite index against the file (and that the file declares nothing unused).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

Direction = Literal["ASCENDING", "DESCENDING"]
ASCENDING: Final[Direction] = "ASCENDING"
DESCENDING: Final[Direction] = "DESCENDING"


@dataclass(frozen=True)
class QueryShape:
    """What a query filters and orders on, without the values."""

    collection: str
    equals: tuple[str, ...] = ()
    """Fields with an equality filter, sorted."""
    ranges: tuple[str, ...] = ()
    """Fields with a range (inequality) filter, sorted."""
    order: tuple[tuple[str, Direction], ...] = ()
    """The ``order_by`` clauses, in order."""

    @property
    def effective_order(self) -> tuple[tuple[str, Direction], ...]:
        """The ordering an index must provide: a range filter without an explicit ordering
        orders by its field."""
        if self.order or not self.ranges:
            return self.order
        return tuple((field, ASCENDING) for field in self.ranges)

    @property
    def needs_composite_index(self) -> bool:
        """Whether single-field indexes cannot serve this query: it involves more than one
        field and is not made of equality filters alone."""
        fields = {*self.equals, *self.ranges, *(field for field, _ in self.order)}
        equality_only = not self.ranges and not self.order
        return len(fields) > 1 and not equality_only

    def covered_by(self, index: CompositeIndex) -> bool:
        """Whether ``index`` serves this query: the equality fields first (in any order and
        direction), then exactly the ordering."""
        if index.collection != self.collection:
            return False
        order = self.effective_order
        if len(index.fields) != len(self.equals) + len(order):
            return False
        prefix, rest = index.fields[: len(self.equals)], index.fields[len(self.equals) :]
        return {field for field, _ in prefix} == set(self.equals) and rest == order

    def __str__(self) -> str:
        parts = [f"{field} ==" for field in self.equals]
        parts += [f"{field} <>" for field in self.ranges]
        parts += [f"order by {field} {direction.lower()}" for field, direction in self.order]
        return f"{self.collection}: {', '.join(parts) or 'everything'}"


@dataclass(frozen=True)
class CompositeIndex:
    """One entry of ``indexes`` in ``firestore.indexes.json``."""

    collection: str
    fields: tuple[tuple[str, Direction], ...]

    def __str__(self) -> str:
        fields = ", ".join(f"{field} {direction.lower()}" for field, direction in self.fields)
        return f"{self.collection} ({fields})"


@dataclass(frozen=True)
class IndexFile:
    """``firestore.indexes.json``, read: the composite indexes, the fields exempt from
    single-field indexing and the TTL fields, each as ``(collection, field)``."""

    indexes: tuple[CompositeIndex, ...]
    exempt: frozenset[tuple[str, str]]
    ttl: frozenset[tuple[str, str]]

    @classmethod
    def load(cls, path: Path) -> IndexFile:
        """Read and check the file; ``ValueError`` naming the problem if it is malformed."""
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
        indexes = []
        for entry in raw.get("indexes", []):
            if entry.get("queryScope") != "COLLECTION":
                raise ValueError(f"index {entry} must have queryScope COLLECTION")
            fields = []
            for field in entry["fields"]:
                if field.get("order") not in (ASCENDING, DESCENDING):
                    raise ValueError(f"index {entry}: field {field} needs an order")
                fields.append((str(field["fieldPath"]), field["order"]))
            indexes.append(CompositeIndex(str(entry["collectionGroup"]), tuple(fields)))
        exempt, ttl = set(), set()
        for override in raw.get("fieldOverrides", []):
            key = (str(override["collectionGroup"]), str(override["fieldPath"]))
            if override.get("indexes") == []:
                exempt.add(key)
            if override.get("ttl") is True:
                ttl.add(key)
        return cls(tuple(indexes), frozenset(exempt), frozenset(ttl))


class QueryRecorder:
    """The shapes of every query built so far (thread-safe); one per storage instance."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shapes: set[QueryShape] = set()

    def record(self, shape: QueryShape) -> None:
        with self._lock:
            self._shapes.add(shape)

    def shapes(self) -> frozenset[QueryShape]:
        with self._lock:
            return frozenset(self._shapes)


def uncovered(shapes: Iterable[QueryShape], indexes: Iterable[CompositeIndex]) -> list[QueryShape]:
    """The shapes that need a composite index and have none among ``indexes``."""
    declared = list(indexes)
    return sorted(
        (
            shape
            for shape in shapes
            if shape.needs_composite_index and not any(shape.covered_by(i) for i in declared)
        ),
        key=str,
    )
