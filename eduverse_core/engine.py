"""The :class:`Eduverse` instance: settings + plugin manager + registries + services.

Everything an application needs hangs off one object, created once. There is no global state:
tests and embedding applications can run several side by side.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Generic, TypeVar

from .errors import NotFound, StartupError
from .events import Event
from .grading.base import Grader, GraderFactory
from .models import ScenarioPack
from .plugins import describe_plugins, make_plugin_manager
from .settings import Settings
from .storage import Storage, StorageFactory

log = logging.getLogger(__name__)

T = TypeVar("T")


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
        self._items[name] = item

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
            self._add_pack(self._packs, source)
        else:
            self._pack_sources.append(source if isinstance(source, ScenarioPack) else Path(source))

    @property
    def packs(self) -> Registry[ScenarioPack]:
        """Every registered pack by id, loaded on first access. An invalid pack is a
        ``StartupError`` naming its file and first problems."""
        if self._packs is None:
            with self._lazy:
                if self._packs is None:
                    packs: Registry[ScenarioPack] = Registry("scenario pack")
                    for source in self._pack_sources:
                        self._add_pack(packs, source)
                    self._packs = packs
        return self._packs

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
        packs.register(pack.id, pack)

    def pack(self, pack_id: str) -> ScenarioPack:
        """The registered pack ``pack_id`` (``NotFound`` otherwise)."""
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
