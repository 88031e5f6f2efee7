"""The JSON Schemas are generated from the models, described, committed and shipped."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from eduverse_core.schemas import (
    DRAFT_2020_12,
    PACK_SCHEMA_ID,
    PACK_SCHEMA_NAME,
    generated_schemas,
    schema_text,
    write_schemas,
)

REPO = Path(__file__).resolve().parent.parent
COMMITTED = REPO / "schemas"


def pack_schema() -> dict[str, Any]:
    return generated_schemas()[PACK_SCHEMA_NAME]


def test_committed_schemas_match_the_models() -> None:
    for name, schema in generated_schemas().items():
        committed = COMMITTED / name
        assert committed.is_file(), f"schemas/{name} is missing: run `make schemas`"
        assert committed.read_text(encoding="utf-8") == schema_text(schema), (
            f"schemas/{name} is out of date with the models: run `make schemas` and commit it"
        )


def test_pack_schema_is_draft_2020_12_with_id_and_metadata() -> None:
    schema = pack_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DRAFT_2020_12
    assert schema["$id"] == PACK_SCHEMA_ID == f"https://eduverse.dev/schemas/{PACK_SCHEMA_NAME}"
    assert schema["title"] == "EduVerse scenario pack"
    assert "weeks/*.yaml" in schema["description"]


def _properties(node: Any, where: str) -> Iterator[tuple[str, Any]]:
    """Every (location, property schema) under ``node``, through $defs and nesting."""
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            yield f"{where}.properties.{name}", prop
        for key, value in node.items():
            yield from _properties(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _properties(item, f"{where}[{index}]")


def test_every_schema_property_has_a_description() -> None:
    found = list(_properties(pack_schema(), "#"))
    assert len(found) > 50  # the walk really reaches the $defs
    undescribed = [where for where, prop in found if not str(prop.get("description", "")).strip()]
    assert undescribed == [], "add Field(description=…) to the model fields: " + ", ".join(
        undescribed
    )


def test_every_schema_definition_has_a_description() -> None:
    defs = pack_schema()["$defs"]
    assert {name for name, d in defs.items() if not d.get("description")} == set()


def test_minimal_example_pack_validates_against_the_schema_file() -> None:
    schema = json.loads((COMMITTED / PACK_SCHEMA_NAME).read_text(encoding="utf-8"))
    pack = yaml.safe_load((REPO / "examples" / "minimal-pack.yaml").read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema).iter_errors(pack)) == []


def test_schema_rejects_locale_keys_the_models_reject() -> None:
    # Pydantic emits only patternProperties for a keyed dict; the generator closes the map.
    hint = Draft202012Validator({"$defs": pack_schema()["$defs"], "$ref": "#/$defs/Hint"})
    assert hint.is_valid({"after_failures": 0, "text": {"ko": "힌트", "en-US": "Hint"}})
    assert not hint.is_valid({"after_failures": 0, "text": {"Korean": "힌트"}})


def test_write_schemas_writes_the_canonical_text(tmp_path: Path) -> None:
    [path] = write_schemas(tmp_path)
    assert path == tmp_path / PACK_SCHEMA_NAME
    text = path.read_text(encoding="utf-8")
    assert text == schema_text(pack_schema())
    assert text.endswith("}\n")
    assert json.loads(text) == pack_schema()


def test_generated_schemas_are_copies() -> None:
    generated_schemas()[PACK_SCHEMA_NAME]["title"] = "changed"
    assert pack_schema()["title"] == "EduVerse scenario pack"


@pytest.mark.slow
def test_wheel_ships_the_schemas_and_the_bundled_packs(tmp_path: Path) -> None:
    # Without network the isolated build cannot fetch hatchling; reuse the venv's when present.
    offline = ["--no-isolation"] if importlib.util.find_spec("hatchling") else []
    command = [sys.executable, "-m", "build", "--wheel", *offline, "--outdir", str(tmp_path)]
    subprocess.run([*command, str(REPO)], check=True, capture_output=True, timeout=300)
    [wheel] = tmp_path.glob("eduverse-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert f"eduverse_core/_bundled/schemas/{PACK_SCHEMA_NAME}" in names
    packs = [n for n in names if n.startswith("eduverse_core/_bundled/scenario_packs/")]
    bundled = REPO / "scenario_packs"
    expected = {
        f"eduverse_core/_bundled/scenario_packs/{p.relative_to(bundled).as_posix()}"
        for p in bundled.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert expected and expected <= set(packs)
