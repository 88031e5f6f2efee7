"""The :class:`Eduverse` instance: settings + plugin manager + registries + services.

Everything an application needs hangs off one object, created once. There is no global state:
tests and embedding applications can run several side by side.

**Packs** come from two sources: *registered* ones (plugins, ``EDUVERSE_PACKS``, code) and
*published* ones, which ``eduverse pack publish`` stored in the instance's storage. When the
packs are first loaded, a publication replaces the registered pack with the same id (or adds a
pack): that is how authors update a course without a redeploy. Afterwards the instance looks at
``Storage.list_published_packs()`` again at most every ``settings.pack_refresh_seconds`` (one
cheap read, on the request that finds the interval over; the other threads meanwhile go on with
what is loaded) and swaps in every publication whose version or time changed. A publication
that does not load (a document the current models reject, e.g. an older server reading a newer
pack) is logged and skipped: the instance keeps serving what it served, the registered pack or
an earlier publication. Unreachable storage is logged too, and tried again after the interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from .errors import NotFound, StartupError
from .events import Event
from .grading.base import Grader, GraderFactory
from .models import ScenarioPack, utcnow
from .plugins import describe_plugins, make_plugin_manager
from .settings import Settings
from .storage import PublishedPackInfo, Storage, StorageFactory

log = logging.getLogger(__name__)

T = TypeVar("T")

_clock = time.monotonic
"""The clock of the refresh interval (tests replace it to move time on)."""


def pack_document(pack: ScenarioPack) -> dict[str, Any]:
    """``pack`` as the JSON document a publication stores: the models' dump, by alias (as the
    schema names the fields), without ``$schema`` (an editor's hint, relative to a file)."""
    return pack.model_dump(mode="json", by_alias=True, exclude={"schema_"})


class Registry(Generic[T]):
    """Name → thing, filled by plugins through a ``register`` callback; duplicates are errors."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> None:
        if not isinstance(name, str) or not name:
            raise StartupError(f"a {self.kind} needs a non-empty name, got {name!r}")
        if name in self._items:
            raise StartupError(f"{self.kind} {name!r} is registered twice")
        self._items = {**self._items, name: item}

    def replace(self, name: str, item: T | None) -> None:
        """Put ``item`` under ``name`` (None: remove it), replacing what is there.

        Copy-on-write, like :meth:`register`: the dict is replaced, never changed, so threads
        reading the registry meanwhile see the old entries or the new ones, never an error
        about a dict changing size while they iterate. Writers hold the engine's lock.
        """
        items = dict(self._items)
        if item is None:
            items.pop(name, None)
        else:
            items[name] = item
        self._items = items

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise NotFound(f"unknown {self.kind} {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)


class Eduverse:
    """One EduVerse instance.

    >>> ev = Eduverse(Settings(storage="sqlite://:memory:"))   # doctest: +SKIP
    >>> ev.accounts.sign_up("ada@example.org", "Ada", "correct horse")  # doctest: +SKIP
    """

    def __init__(self, settings: Settings | None = None, *, plugins: Iterable[object] = ()) -> None:
        self.settings = settings if settings is not None else Settings.from_env()
        self.pm = make_plugin_manager(self.settings, plugins)
        self.storage_backends: Registry[StorageFactory] = Registry("storage backend")
        self.grader_factories: Registry[GraderFactory] = Registry("grader")
        self._pack_sources: list[ScenarioPack | Path] = []
        self._packs: Registry[ScenarioPack] | None = None
        self._registered: dict[str, ScenarioPack] = {}
        self._publications: dict[str, PublishedPackInfo] = {}  # seen, loaded or not
        self._served: set[str] = set()  # ids whose registry entry is a publication
        self._next_refresh = 0.0
        self.pack_dirs: dict[str, Path] = {}
        self._graders: dict[str, Grader] = {}
        self._storage: Storage | None = None
        # Packs, storage and graders are built on first use; a threaded server's first
        # requests arrive together, and a second sandbox pool or connection pool would leak.
        self._lazy = threading.RLock()

        self.pm.hook.eduverse_register_storage_backends(register=self.storage_backends.register)
        self.pm.hook.eduverse_register_graders(register=self.grader_factories.register)
        self.pm.hook.eduverse_register_scenario_packs(register=self.register_pack)
        for path in self.settings.pack_paths:
            self.register_pack(path)

        from .services import build_services  # services import the engine's types only

        self.services = build_services(self)
        self.accounts = self.services.accounts
        self.progress = self.services.progress
        self.classes = self.services.classes
        self.questions = self.services.questions
        self.reflections = self.services.reflections
        self.submissions = self.services.submissions
        self.analytics = self.services.analytics
        self.catalog = self.services.catalog
        self.sessions = self.services.sessions
        self.pm.hook.eduverse_startup(eduverse=self)

    # -- registries -----------------------------------------------------------------------
    def register_pack(self, source: ScenarioPack | Path | str) -> None:
        """Add a pack (loaded, or a path to a pack file or folder). Packs load on first use,
        so commands that need none (``pack validate``) work even when a pack is broken."""
        if self._packs is not None:
            with self._lazy:  # publications are swapped in under it too
                self._add_pack(self._packs, source)
        else:
            self._pack_sources.append(source if isinstance(source, ScenarioPack) else Path(source))

    @property
    def packs(self) -> Registry[ScenarioPack]:
        """Every pack by id, loaded on first access: the registered ones, each replaced by its
        publication if there is one (see the module docstring). An invalid registered pack is a
        ``StartupError`` naming its file and first problems; an invalid publication is logged
        and skipped. Publications are looked for again every ``pack_refresh_seconds``."""
        if self._packs is None:
            with self._lazy:
                if self._packs is None:
                    packs: Registry[ScenarioPack] = Registry("scenario pack")
                    for source in self._pack_sources:
                        self._add_pack(packs, source)
                    self._next_refresh = _clock() + self.settings.pack_refresh_seconds
                    self._sync_publications(packs)
                    self._packs = packs
                    return packs
        # Due: one thread refreshes; the others do not queue behind it (a request goes on
        # with the packs as they are) and find the next refresh due later once it started.
        if _clock() >= self._next_refresh and self._lazy.acquire(blocking=False):
            try:
                if _clock() >= self._next_refresh:
                    self._refresh(self._packs)
            finally:
                self._lazy.release()
        return self._packs

    def refresh_packs(self) -> None:
        """Look for new publications now, whatever the interval, and serve them."""
        packs = self.packs  # the first load reads the publications anyway
        with self._lazy:
            self._refresh(packs)

    def _refresh(self, packs: Registry[ScenarioPack]) -> None:
        # The next time is set before reading: storage that fails is tried again after the
        # interval, not on every request meanwhile.
        self._next_refresh = _clock() + self.settings.pack_refresh_seconds
        self._sync_publications(packs)

    def publish_pack(
        self, pack: ScenarioPack, published_at: datetime | None = None
    ) -> PublishedPackInfo:
        """Store ``pack`` as its id's publication (``Storage.publish_pack``) and serve it here
        at once; other instances serve it within ``pack_refresh_seconds``. The pack is not
        validated or checked here: ``eduverse pack publish`` does both first."""
        info = PublishedPackInfo(
            pack_id=pack.id, version=pack.version, published_at=published_at or utcnow()
        )
        self.storage.publish_pack(pack.id, pack.version, pack_document(pack), info.published_at)
        self._next_refresh = 0.0
        return info

    def _sync_publications(self, packs: Registry[ScenarioPack]) -> None:
        """Bring ``packs`` in line with the stored publications (the caller holds the lock)."""
        try:
            listed = {info.pack_id: info for info in self.storage.list_published_packs()}
        except Exception as exc:  # whatever a backend raises, the packs as loaded stay served
            log.warning(
                "published packs not read (%s); serving the packs as loaded, trying again in %g s",
                _reason(exc),
                self.settings.pack_refresh_seconds,
            )
            return
        for pack_id, info in sorted(listed.items()):
            seen = self._publications.get(pack_id)
            if seen is not None and (seen.version, seen.published_at) == (
                info.version,
                info.published_at,
            ):
                continue
            pack = self._load_publication(info, packs)
            if pack is None:
                continue
            packs.replace(pack_id, pack)
            self._served.add(pack_id)
            log.info(
                "serving published pack %s version %s (published %s)",
                pack_id,
                info.version,
                info.published_at.isoformat(),
            )
        for pack_id in sorted(set(self._publications) - set(listed)):
            # Gone from storage (a restore of an older backup, say): back to the registered.
            del self._publications[pack_id]
            if pack_id in self._served:
                self._served.discard(pack_id)
                packs.replace(pack_id, self._registered.get(pack_id))
                log.info("pack %s is no longer published: serving the registered one", pack_id)

    def _load_publication(
        self, info: PublishedPackInfo, packs: Registry[ScenarioPack]
    ) -> ScenarioPack | None:
        """The pack of ``info`` validated by the current models, or None (logged). A document
        that does not load is remembered, so it is not fetched again until republished; a
        storage failure is not, so the next refresh tries again."""
        try:
            published = self.storage.get_published_pack(info.pack_id)
        except Exception as exc:
            log.warning("published pack %s not read: %s", info.pack_id, _reason(exc))
            return None
        self._publications[info.pack_id] = info
        if published is None:
            return None  # listed, then gone: the next refresh sees it gone
        try:
            pack = ScenarioPack.model_validate(published.document)
            if pack.id != info.pack_id:
                raise ValueError(f"the document is pack {pack.id!r}")
        except ValueError as exc:  # pydantic's ValidationError is one
            if info.pack_id in self._served:
                keep = "the previous publication"
            elif info.pack_id in packs:
                keep = "the registered pack"
            else:
                keep = "no pack under that id"
            log.error(
                "published pack %s version %s (published %s) does not load: %s; serving %s",
                info.pack_id,
                info.version,
                info.published_at.isoformat(),
                _reason(exc),
                keep,
            )
            return None
        return pack

    def _add_pack(self, packs: Registry[ScenarioPack], source: ScenarioPack | Path | str) -> None:
        from .errors import ValidationFailed
        from .packs import load_pack

        if isinstance(source, ScenarioPack):
            pack = source
        else:
            path = Path(source)
            try:
                pack = load_pack(path)
            except ValidationFailed as exc:
                detail = "; ".join(exc.problems[:5])
                raise StartupError(f"scenario pack {str(path)!r} does not load: {detail}") from exc
            self.pack_dirs[pack.id] = path if path.is_dir() else path.parent
        if pack.id in self._served and pack.id not in self._registered:
            self._registered[pack.id] = pack  # registered late: its publication still wins
            return
        packs.register(pack.id, pack)
        self._registered[pack.id] = pack

    def pack(self, pack_id: str) -> ScenarioPack:
        """The pack ``pack_id``, registered or published (``NotFound`` otherwise)."""
        return self.packs.get(pack_id)

    @property
    def storage(self) -> Storage:
        """The storage backend chosen by ``settings.storage`` (opened on first use)."""
        if self._storage is None:
            with self._lazy:
                if self._storage is None:
                    self._storage = self._open_storage(self.settings.storage)
        return self._storage

    def _open_storage(self, url: str) -> Storage:
        scheme = url.split(":", 1)[0] if ":" in url else ""
        if scheme not in self.storage_backends:
            known = ", ".join(self.storage_backends.names()) or "none"
            raise StartupError(f"no storage backend for {url!r} (known schemes: {known})")
        return self.storage_backends.get(scheme)(url)

    def grader(self, name: str | None = None) -> Grader:
        """The grader ``name`` (default from settings), created once and reused."""
        name = name or self.settings.default_grader
        if name not in self._graders:
            with self._lazy:
                if name not in self._graders:
                    self._graders[name] = self.grader_factories.get(name)(self.settings)
        return self._graders[name]

    # -- events ---------------------------------------------------------------------------
    def track(self, name: str, actor_id: str | None = None, **data: Any) -> Event:
        """Tell plugins what happened. A failing listener is logged, never propagated."""
        event = Event(name=name, actor_id=actor_id, data=data)
        for impl in self.pm.hook.eduverse_track_event.get_hookimpls():
            try:
                impl.function(eduverse=self, event=event)
            except Exception:
                log.exception("event listener %s failed on %s", impl.plugin_name, name)
        return event

    def plugin_pack_problems(self, pack: ScenarioPack) -> list[str]:
        """Problems that ``eduverse_validate_scenario_pack`` plugins find in ``pack``."""
        results = self.pm.hook.eduverse_validate_scenario_pack(eduverse=self, pack=pack)
        return [problem for problems in results if problems for problem in problems]

    def plugin_infos(self) -> list[Any]:
        return describe_plugins(self.pm)

    def close(self) -> None:
        """Stop graders and close storage."""
        for grader in self._graders.values():
            grader.close()
        self._graders.clear()
        if self._storage is not None:
            self._storage.close()
            self._storage = None

    def __enter__(self) -> Eduverse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reason(exc: Exception) -> str:
    """A short description of why a publication was not read or loaded."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        more = exc.error_count() - 1
        return f"{where}: {first['msg']}" + (f" (and {more} more problems)" if more else "")
    message = getattr(exc, "message", None)  # EduverseError
    if isinstance(message, str):
        return message
    return str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
