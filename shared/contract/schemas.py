"""JSON Schemas of the public contract: exported from the models, and checked for backward compatibility."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.contract import applications, funding, workshops
from shared.contract.base import Command, CommandRejected, Message, NotificationRequested
from shared.topics import SERVICES

# Each producing service's part of the contract: its commands and the events it publishes.
_PARTS = (applications, workshops, funding)


def contract_models() -> dict[str, type[Message]]:
    """Every command and event of the contract, by ce_type."""
    models: dict[str, type[Message]] = {NotificationRequested.ce_type: NotificationRequested}
    for part in _PARTS:
        models.update((model.ce_type, model) for model in (*part.COMMANDS, *part.PUBLISHED))
    return dict(sorted(models.items()))


def schema_of(ce_type: str, model: type[Message]) -> dict[str, Any]:
    kind = "command" if issubclass(model, Command) else "event"
    # A command is what a sender may write (validation); an event is what we write (serialization).
    schema = model.model_json_schema(mode="validation" if kind == "command" else "serialization")
    return {"$id": ce_type, "x-kind": kind, **schema}


def all_schemas() -> dict[str, dict[str, Any]]:
    schemas = {ce_type: schema_of(ce_type, model) for ce_type, model in contract_models().items()}
    rejected = CommandRejected.model_json_schema(mode="serialization")
    for service in SERVICES:
        ce_type = f"{service}.CommandRejected.v1"
        schemas[ce_type] = {"$id": ce_type, "x-kind": "event", **rejected}
    return dict(sorted(schemas.items()))


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export(folder: Path) -> list[Path]:
    """Write one file per type; remove files of types that no longer exist (the release baseline keeps them)."""
    folder.mkdir(parents=True, exist_ok=True)
    schemas = all_schemas()
    written = []
    for ce_type, schema in schemas.items():
        path = folder / f"{ce_type}.json"
        path.write_text(render(schema))
        written.append(path)
    for stale in folder.glob("*.json"):
        if stale.stem not in schemas:
            stale.unlink()
    return written


def load(folder: Path) -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}


# Values an event field may gain over its release because the contract itself announces them
# (contract.md, "Follow-up of a grant"): readers are told to expect them. Nothing else widens.
ANNOUNCED_VALUES: dict[tuple[str, str], frozenset[str]] = {
    ("funding.FundingCaseClosed.v1", "reason"): frozenset({"completed"}),
    ("applications.ApplicationWithdrawn.v1", "status_before"): frozenset({"running", "lapsed", "completed"}),
}


def incompatibilities(released: dict[str, Any], current: dict[str, Any] | None) -> list[str]:
    """What in `current` breaks a system written against `released`.

    Commands are written by other systems: a new required field, a removed field (unknown
    fields are refused) or a changed type breaks them. Events are read by other systems: a
    removed or no-longer-required field, or a changed type, breaks them.
    """
    ce_type = released["$id"]
    if current is None:
        return [f"{ce_type}: removed (a new .vN type is the way to change it)"]
    problems = []
    command = released.get("x-kind") == "command"
    old_props: dict[str, Any] = released.get("properties", {})
    new_props: dict[str, Any] = current.get("properties", {})
    for name, old in old_props.items():
        if name not in new_props:
            problems.append(f"{ce_type}: field {name!r} removed")
        elif _shape(old, released) != _shape(_without_announced(ce_type, name, new_props[name]), current):
            problems.append(f"{ce_type}: field {name!r} changed type")
    old_required, new_required = set(released.get("required", [])), set(current.get("required", []))
    if command:
        problems += [f"{ce_type}: field {name!r} became required" for name in sorted(new_required - old_required)]
    else:
        problems += [
            f"{ce_type}: field {name!r} is no longer always present" for name in sorted(old_required - new_required)
        ]
    return problems


def _without_announced(ce_type: str, name: str, prop: dict[str, Any]) -> dict[str, Any]:
    """The property as the release knew it: the contract's announced values taken out of its enum."""
    announced = ANNOUNCED_VALUES.get((ce_type, name))
    if not announced or "enum" not in prop:
        return prop
    kept = [value for value in prop["enum"] if value not in announced]
    narrowed = {key: value for key, value in prop.items() if key != "enum"}
    return {**narrowed, "const": kept[0]} if len(kept) == 1 else {**narrowed, "enum": kept}


def _shape(prop: dict[str, Any], root: dict[str, Any]) -> Any:
    """A property's type, with references resolved and descriptions ignored, for comparison."""
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return _shape(root.get("$defs", {}).get(name, {}), root)
    ignored = {"description", "title", "default", "examples"}
    shaped: dict[str, Any] = {}
    for key, value in prop.items():
        if key in ignored:
            continue
        if isinstance(value, dict):
            shaped[key] = {k: _shape(v, root) if isinstance(v, dict) else v for k, v in value.items()}
        elif isinstance(value, list):
            shaped[key] = [_shape(v, root) if isinstance(v, dict) else v for v in value]
        else:
            shaped[key] = value
    return shaped


def check_against(release: Path) -> list[str]:
    current = all_schemas()
    problems = []
    for ce_type, schema in load(release).items():
        problems += incompatibilities(schema, current.get(ce_type))
    return problems
