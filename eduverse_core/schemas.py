"""JSON Schemas generated from the pydantic models (never edited by hand).

The models are the single source of truth of the pack format; this module turns them into a
draft 2020-12 schema that editors, CI and :mod:`eduverse_core.packs` use. The committed copy in
``schemas/`` is compared with a fresh generation in the tests, so it cannot drift: after
changing a model run ``make schemas``.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from .models import ScenarioPack
from .resources import bundled_dir

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE_URL = "https://eduverse.dev/schemas/"
PACK_SCHEMA_NAME = "scenario-pack.schema.json"
PACK_SCHEMA_ID = SCHEMA_BASE_URL + PACK_SCHEMA_NAME

_PACK_DESCRIPTION = (
    "A scenario pack: a whole story-driven Python course (cast, weeks, cycles, lectures, tests"
    " and feedback). Write it as one JSON/YAML file, or as a folder with `pack.yaml` (everything"
    " but `weeks`) and `weeks/*.yaml` (one week per file). Validate with"
    " `eduverse pack validate`."
)


def generated_schemas() -> dict[str, dict[str, Any]]:
    """Every generated schema by file name (a fresh copy the caller may change)."""
    return copy.deepcopy(_generated())


@lru_cache(maxsize=1)
def _generated() -> dict[str, dict[str, Any]]:
    # Cached: packs.py validates every pack against this schema and generation is not free.
    return {PACK_SCHEMA_NAME: pack_schema()}


def pack_schema() -> dict[str, Any]:
    """The scenario-pack schema: the models' schema plus draft 2020-12 metadata."""
    schema = ScenarioPack.model_json_schema(by_alias=True)
    _close_locale_maps(schema)
    schema["$schema"] = DRAFT_2020_12
    schema["$id"] = PACK_SCHEMA_ID
    schema["title"] = "EduVerse scenario pack"
    schema["description"] = _PACK_DESCRIPTION
    return schema


def _close_locale_maps(node: Any) -> None:
    """Reject map keys that match no ``patternProperties`` (e.g. a locale ``KO``).

    Pydantic validates dict keys against their pattern but emits only ``patternProperties``,
    which lets other keys through; without this the schema would accept what the models
    reject, and editors would stay silent about a misspelt locale.
    """
    if isinstance(node, dict):
        if "patternProperties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _close_locale_maps(value)
    elif isinstance(node, list):
        for item in node:
            _close_locale_maps(item)


def schema_text(schema: dict[str, Any]) -> str:
    """The canonical file text of ``schema``: sorted keys, so regeneration is byte-stable."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(folder: Path | None = None) -> list[Path]:
    """Write every generated schema into ``folder`` (default: the bundled ``schemas/``)."""
    target = folder if folder is not None else bundled_dir("schemas")
    written = []
    for name, schema in generated_schemas().items():
        path = target / name
        path.write_text(schema_text(schema), encoding="utf-8")
        written.append(path)
    return written
