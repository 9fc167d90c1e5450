"""The exported schemas say what the contract says: strict commands, open events, codes and words for everything."""

from __future__ import annotations

import ast
import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from shared.contract import schemas
from shared.contract.refusals import BY_COMMAND, MALFORMED, REFUSAL_CODES

ROOT = Path(__file__).resolve().parents[2]
ALL = schemas.all_schemas()
COMMANDS = {t: s for t, s in ALL.items() if s["x-kind"] == "command"}
EVENTS = {t: s for t, s in ALL.items() if s["x-kind"] == "event"}


def _objects(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [schema, *schema.get("$defs", {}).values()]


@pytest.mark.parametrize("ce_type", sorted(COMMANDS))
def test_a_command_schema_refuses_unknown_fields_in_every_object(ce_type: str) -> None:
    schema = COMMANDS[ce_type]
    assert all(obj.get("additionalProperties") is False for obj in _objects(schema) if obj.get("type") == "object")


@pytest.mark.parametrize("ce_type", sorted(EVENTS))
def test_an_event_schema_accepts_fields_added_later(ce_type: str) -> None:
    schema = EVENTS[ce_type]
    assert all("additionalProperties" not in obj for obj in _objects(schema))
    validator = jsonschema.Draft202012Validator(schema)
    required = schema.get("required", [])
    sample = {name: _sample(schema["properties"][name], schema) for name in required}
    validator.validate(sample)
    validator.validate({**sample, "a_field_added_in_a_later_release": {"any": ["shape"]}})


def _sample(prop: dict[str, Any], root: dict[str, Any]) -> Any:  # noqa: PLR0911 - one value per kind of schema
    """Some valid value of a property: enough to show the schema takes an event plus a new field."""
    if "$ref" in prop:
        target = root["$defs"][prop["$ref"].rsplit("/", 1)[-1]]
        return _sample(target, root)
    if "anyOf" in prop:
        return _sample(prop["anyOf"][0], root)
    if "const" in prop:
        return prop["const"]
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "object":
        return {name: _sample(prop["properties"][name], root) for name in prop.get("required", [])}
    if kind == "array":
        return []
    samples = {"integer": 2027, "number": 1, "boolean": True, "null": None}
    if kind in samples:
        return samples[kind]
    formats = {"uuid": "00000000-0000-4000-8000-000000000000", "date-time": "2027-01-01T09:00:00+01:00"}
    return formats.get(prop.get("format", ""), "2027-01-01" if prop.get("format") == "date" else "text")


@pytest.mark.parametrize("ce_type", sorted(ALL))
def test_every_schema_names_its_dialect_and_id_and_describes_every_property(ce_type: str) -> None:
    schema = ALL[ce_type]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == schemas.schema_id(ce_type)
    assert schemas.undescribed(schema) == [], "describe them on the model or in shared/contract/glossary.py"
    jsonschema.Draft202012Validator.check_schema(schema)


def _codes_the_domain_returns(service: str) -> set[str]:
    """Every `code=` a service's domain writes into a Reason, its constants resolved: read from the source."""
    codes: set[str] = set()
    for path in sorted((ROOT / "services" / service / "domain").glob("*.py")):
        tree = ast.parse(path.read_text())
        constants = {
            node.target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "code":
                if isinstance(node.value, ast.Name) and node.value.id in constants:
                    codes.add(constants[node.value.id])
                elif isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                    codes.add(node.value.value)
    return codes


@pytest.mark.parametrize("service", sorted(REFUSAL_CODES))
def test_each_command_rejected_lists_exactly_the_codes_its_service_returns_each_described(service: str) -> None:
    returned = _codes_the_domain_returns(service)
    assert returned, f"no refusal codes found in services/{service}/domain"
    code = ALL[f"{service}.CommandRejected.v1"]["$defs"]["Reason"]["properties"]["code"]
    assert set(code["enum"]) == returned | {MALFORMED}
    assert set(code["x-enumDescriptions"]) == set(code["enum"])
    assert all(len(text) > 10 for text in code["x-enumDescriptions"].values())


def test_the_check_allows_a_new_optional_field_in_a_nested_event_object_and_a_narrowed_value() -> None:
    released = ALL["applications.ApplicationSubmitted.v1"]
    grown = copy.deepcopy(released)
    grown["$defs"]["Applicant"]["properties"]["website"] = {"type": "string", "description": "its home page"}
    grown["$defs"]["Budget"]["properties"]["total_cost_nok"]["enum"] = [1, 2]
    assert schemas.incompatibilities(released, grown) == []


def test_the_check_refuses_a_widened_event_value_and_a_nested_field_removed() -> None:
    released = ALL["funding.BudgetThresholdCrossed.v1"]
    widened = copy.deepcopy(released)
    widened["properties"]["threshold"]["enum"] = [*widened["properties"]["threshold"]["enum"], "half"]
    assert schemas.incompatibilities(released, widened) == [
        "funding.BudgetThresholdCrossed.v1: field 'threshold' changed type"
    ]

    submitted = ALL["applications.ApplicationSubmitted.v1"]
    shrunk = copy.deepcopy(submitted)
    del shrunk["$defs"]["Contact"]["properties"]["email"]
    shrunk["$defs"]["Contact"]["required"].remove("email")
    problems = schemas.incompatibilities(submitted, shrunk)
    assert any("'applicant.contact.email' removed" in p for p in problems), problems


def test_the_check_refuses_a_narrowed_command_value() -> None:
    released = ALL["funding.AllocateBudget.v1"]
    narrowed = copy.deepcopy(released)
    narrowed["properties"]["source"]["enum"] = ["state"]
    assert schemas.incompatibilities(released, narrowed) == ["funding.AllocateBudget.v1: field 'source' changed type"]


def test_every_command_has_its_refusal_codes_and_every_code_belongs_to_a_command() -> None:
    assert set(BY_COMMAND) == set(COMMANDS), "list each command's codes in shared/contract/refusals.py BY_COMMAND"
    for service, codes in REFUSAL_CODES.items():
        listed = {code for ce_type, own in BY_COMMAND.items() if ce_type.startswith(f"{service}.") for code in own}
        assert listed <= set(codes), f"{service}: codes not in its catalogue: {listed - set(codes)}"
        assert set(codes) - {MALFORMED} <= listed, f"{service}: codes no command gets: {set(codes) - listed}"
