"""Plugin management: the default plugins, entry points, one-file plugins, ``check_pending``.

Every :class:`~eduverse_core.engine.Eduverse` has its own plugin manager: two instances in one
process (tests, a multi-tenant host) never see each other's plugins.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType

import pluggy

from . import hookspecs
from .errors import StartupError
from .settings import Settings

hookimpl = pluggy.HookimplMarker(hookspecs.PROJECT_NAME)

ENTRY_POINT_GROUP = "eduverse"

DEFAULT_PLUGINS: tuple[str, ...] = (
    "eduverse_core.default_plugins.sqlite_storage",
    "eduverse_core.default_plugins.sandbox_grader",
    "eduverse_core.default_plugins.bundled_packs",
)
"""Built-ins, written as plugins; disable one by its short name (e.g. ``bundled_packs``)."""


@dataclass(frozen=True)
class PluginInfo:
    """What ``eduverse plugins`` shows about one plugin."""

    name: str
    version: str
    hooks: tuple[str, ...]
    source: str  # "default", "entry point", "plugins dir" or "code"


def _core_version() -> str:
    try:
        return version("eduverse")
    except PackageNotFoundError:  # running from a source tree without install
        return "0+unknown"


def make_plugin_manager(settings: Settings, extra: Iterable[object] = ()) -> pluggy.PluginManager:
    """A fresh plugin manager with every plugin the settings ask for, verified."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    disabled = set(settings.disabled_plugins)
    for dotted in DEFAULT_PLUGINS:
        short = dotted.rsplit(".", 1)[-1]
        if short not in disabled:
            try:
                module = importlib.import_module(dotted)
            except ImportError as exc:  # a broken installation, not a user error
                raise StartupError(f"default plugin {dotted!r} cannot be imported: {exc}") from exc
            pm.register(module, name=short)
    for name in disabled:
        pm.set_blocked(name)
    if settings.load_entry_points:
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as exc:  # a broken installed plugin must say which one
            raise StartupError(f"could not load an installed eduverse plugin: {exc}") from exc
    if settings.plugins_dir is not None:
        for module in load_plugin_dir(settings.plugins_dir):
            name = module.__name__.rsplit(".", 1)[-1]
            if name not in disabled:
                pm.register(module, name=name)
    for plugin in extra:
        pm.register(plugin)
    check_pending(pm)
    return pm


def check_pending(pm: pluggy.PluginManager) -> None:
    """Fail start-up when a plugin implements a hook that does not exist (a typo)."""
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise StartupError(f"plugin {exc.plugin!r} implements an unknown hook: {exc}") from exc


def load_plugin_dir(folder: Path) -> list[ModuleType]:
    """Import every ``*.py`` in ``folder`` (sorted) as a one-file plugin."""
    if not folder.is_dir():
        raise StartupError(f"plugins directory {str(folder)!r} does not exist")
    modules = []
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module_name = f"eduverse_plugins_dir.{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise StartupError(f"cannot import plugin file {str(path)!r}")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise StartupError(f"plugin file {str(path)!r} failed to import: {exc}") from exc
        sys.modules.setdefault(module_name, module)
        modules.append(module)
    return modules


def describe_plugins(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Name, version, hooks and origin of every registered plugin."""
    dist_of = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:  # blocked
            continue
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or []))
        if id(plugin) in dist_of:
            dist = dist_of[id(plugin)]
            infos.append(PluginInfo(name, dist.version, hooks, "entry point"))
        elif getattr(plugin, "__name__", "").startswith("eduverse_core.default_plugins."):
            infos.append(PluginInfo(name, _core_version(), hooks, "default"))
        elif getattr(plugin, "__name__", "").startswith("eduverse_plugins_dir."):
            version_ = str(getattr(plugin, "__version__", "-"))
            infos.append(PluginInfo(name, version_, hooks, "plugins dir"))
        else:
            version_ = str(getattr(plugin, "__version__", "-"))
            infos.append(PluginInfo(name, version_, hooks, "code"))
    return infos
