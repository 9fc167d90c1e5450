"""The contract as artefacts: exported schemas agree with the code, and the code keeps the released contract."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from shared.contract import schemas

ROOT = Path(__file__).resolve().parents[2]
EXPORTED = ROOT / "contract" / "schemas"
RELEASED = ROOT / "contract" / "released" / "v1"


def test_the_exported_schemas_are_what_the_code_says() -> None:
    exported = {path.stem: path.read_text() for path in EXPORTED.glob("*.json")}
    generated = {ce_type: schemas.render(schema) for ce_type, schema in schemas.all_schemas().items()}
    assert sorted(exported) == sorted(generated), "run `make contract` and commit contract/schemas"
    changed = [ce_type for ce_type in generated if exported[ce_type] != generated[ce_type]]
    assert changed == [], f"run `make contract`: these differ from the code: {changed}"


def test_the_code_is_backward_compatible_with_the_released_contract() -> None:
    assert list(RELEASED.glob("*.json")), "the released contract baseline is missing"
    assert schemas.check_against(RELEASED) == []


def test_every_type_of_the_contract_has_a_schema() -> None:
    types = set(schemas.all_schemas())
    for service in ("applications", "workshops", "funding"):
        assert f"{service}.CommandRejected.v1" in types
        assert any(t.startswith(f"{service}.") and t != f"{service}.CommandRejected.v1" for t in types)
    assert "programme.NotificationRequested.v1" in types


def _some_command_and_event() -> tuple[dict[str, Any], dict[str, Any]]:
    released = schemas.all_schemas()
    command = next(s for s in released.values() if s["x-kind"] == "command" and s.get("properties"))
    event = next(s for s in released.values() if s["x-kind"] == "event" and s.get("required"))
    return command, event


def test_the_check_refuses_a_removed_field_a_new_required_command_field_and_a_changed_type() -> None:
    command, event = _some_command_and_event()
    broken = copy.deepcopy(command)
    first = next(iter(broken["properties"]))
    del broken["properties"][first]
    broken["properties"]["new_field"] = {"type": "string"}
    broken["required"] = [*broken.get("required", []), "new_field"]
    problems = schemas.incompatibilities(command, broken)
    assert any("removed" in p for p in problems)
    assert any("became required" in p for p in problems)

    retyped = copy.deepcopy(event)
    name = event["required"][0]
    retyped["properties"][name] = {"type": "boolean"}
    retyped["required"] = [r for r in event["required"] if r != name]
    problems = schemas.incompatibilities(event, retyped)
    assert any("changed type" in p for p in problems)
    assert any("no longer always present" in p for p in problems)


def test_the_check_allows_additive_changes() -> None:
    command, event = _some_command_and_event()
    grown = copy.deepcopy(event)
    grown["properties"]["extra"] = {"type": "string"}
    grown["required"] = [*event["required"], "extra"]
    assert schemas.incompatibilities(event, grown) == []
    optional = copy.deepcopy(command)
    optional["properties"]["extra"] = {"type": "string"}
    assert schemas.incompatibilities(command, optional) == []
