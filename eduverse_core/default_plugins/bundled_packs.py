"""Registers the scenario packs shipped with EduVerse (the LogiCore Tech course)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..plugins import hookimpl
from ..resources import bundled_dir


@hookimpl
def eduverse_register_scenario_packs(register: Callable[[Any], None]) -> None:
    try:
        root = bundled_dir("scenario_packs")
    except FileNotFoundError:
        return
    for entry in sorted(root.iterdir()):
        is_pack_folder = entry.is_dir() and (entry / "pack.yaml").exists()
        is_pack_file = entry.is_file() and entry.suffix in {".json", ".yaml", ".yml"}
        if is_pack_folder or is_pack_file:
            register(entry)
