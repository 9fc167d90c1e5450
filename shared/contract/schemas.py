"""JSON Schemas of the public contract: exported from the models, and checked for backward compatibility.

Commands are strict (an unknown field is refused, as the service refuses it); events and
notification requests are open, because the contract lets them gain optional fields and a
reader that validates with the exported schema must not break on the first one. Every property
carries a description (the model's own, else the glossary's), every `CommandRejected` lists its
service's refusal codes, and every schema has `$schema` and an `$id` that `ce_dataschema` names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from shared.contract import applications, funding, glossary, workshops
from shared.contract.base import Command, CommandRejected, Message, NotificationRequested
from shared.contract.refusals import refusal_codes
from shared.topics import SERVICES

DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
# A URN rather than a URL: stable wherever the system runs; contract/schemas/<ce_type>.json holds it.
ID_PREFIX: Final = "urn:programme:schema:"

# Each producing service's part of the contract: its commands and the events it publishes.
_PARTS = (applications, workshops, funding)


def schema_id(ce_type: str) -> str:
    """The `$id` of a type's schema, which `ce_dataschema` carries on the records of that type."""
    return f"{ID_PREFIX}{ce_type}"


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
    _describe(schema)
    if kind == "event":
        _open(schema)
    return {"$schema": DIALECT, "$id": schema_id(ce_type), "x-kind": kind, **schema}


def rejected_schema(service: str) -> dict[str, Any]:
    """A service's `CommandRejected`: the shared shape, its `code` the service's catalogue of refusal codes."""
    ce_type = f"{service}.CommandRejected.v1"
    schema = CommandRejected.model_json_schema(mode="serialization")
    _describe(schema)
    _open(schema)
    codes = refusal_codes(service)
    listed = "; ".join(f"`{code}`: {meaning}" for code, meaning in sorted(codes.items()))
    schema["$defs"]["Reason"]["properties"]["code"] = {
        "type": "string",
        "enum": sorted(codes),
        "description": f"why, as a stable code; a new rule may add one: read an unknown code as a refusal. {listed}",
        "x-enumDescriptions": dict(sorted(codes.items())),
    }
    return {"$schema": DIALECT, "$id": schema_id(ce_type), "x-kind": "event", **schema}


def all_schemas() -> dict[str, dict[str, Any]]:
    schemas = {ce_type: schema_of(ce_type, model) for ce_type, model in contract_models().items()}
    for service in SERVICES:
        schemas[f"{service}.CommandRejected.v1"] = rejected_schema(service)
    return dict(sorted(schemas.items()))


def _objects(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema's object definitions: itself and each of its `$defs`."""
    return [schema, *schema.get("$defs", {}).values()]


def _describe(schema: dict[str, Any]) -> None:
    """Fill each property's missing description from the glossary; the title pydantic derives says nothing more."""
    for obj in _objects(schema):
        for name, prop in obj.get("properties", {}).items():
            prop.pop("title", None)
            if "description" not in prop:
                described = glossary.describe(obj.get("title", ""), name)
                if described is not None:
                    prop["description"] = described


def _open(schema: dict[str, Any]) -> None:
    """An event's objects accept fields added later: the producer model stays strict, the published schema does not."""
    for obj in _objects(schema):
        obj.pop("additionalProperties", None)


def undescribed(schema: dict[str, Any]) -> list[str]:
    """Properties without a description, as `Object.field`."""
    return [
        f"{obj.get('title', '?')}.{name}"
        for obj in _objects(schema)
        for name, prop in obj.get("properties", {}).items()
        if not prop.get("description")
    ]


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


def _type_name(schema: dict[str, Any]) -> str:
    return str(schema["$id"]).removeprefix(ID_PREFIX)


def incompatibilities(released: dict[str, Any], current: dict[str, Any] | None) -> list[str]:
    """What in `current` breaks a system written against `released`.

    Commands are written by other systems: a new required field, a removed field (unknown
    fields are refused) or a changed type breaks them; a new optional field does not. Events are
    read by other systems: a removed or no-longer-required field, or a changed type, breaks
    them; a new field does not (their schemas are open), nor a free text narrowed to a list of
    values. The rule holds in nested objects too.
    """
    ce_type = _type_name(released)
    if current is None:
        return [f"{ce_type}: removed (a new .vN type is the way to change it)"]
    comparison = _Comparison(ce_type, released, current, command=released.get("x-kind") == "command")
    comparison.objects(released, current, "")
    return comparison.problems


class _Comparison:
    """One released schema against the current one, collecting what breaks."""

    def __init__(self, ce_type: str, old_root: dict[str, Any], new_root: dict[str, Any], *, command: bool) -> None:
        self.ce_type = ce_type
        self.old_root = old_root
        self.new_root = new_root
        self.command = command
        self.problems: list[str] = []

    def objects(self, old: dict[str, Any], new: dict[str, Any], prefix: str) -> None:
        old_props: dict[str, Any] = old.get("properties", {})
        new_props: dict[str, Any] = new.get("properties", {})
        for name, old_prop in old_props.items():
            path = f"{prefix}{name}"
            if name not in new_props:
                self.problems.append(f"{self.ce_type}: field {path!r} removed")
                continue
            new_prop = new_props[name] if prefix else _without_announced(self.ce_type, name, new_props[name])
            self.property(old_prop, new_prop, path)
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        if self.command:
            became = sorted(new_required - old_required)
            self.problems += [f"{self.ce_type}: field {prefix}{name!r} became required" for name in became]
        else:
            dropped = sorted(old_required - new_required)
            self.problems += [f"{self.ce_type}: field {prefix}{name!r} is no longer always present" for name in dropped]

    def property(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        old, new = _resolve(old, self.old_root), _resolve(new, self.new_root)
        if "properties" in old and "properties" in new:
            self.objects(old, new, f"{path}.")
            return
        old_shape, new_shape = _shape(old, self.old_root), _shape(new, self.new_root)
        if old_shape == new_shape or (not self.command and _narrowed(old_shape, new_shape)):
            return
        self.problems.append(f"{self.ce_type}: field {path!r} changed type")


def _resolve(prop: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in prop:
        return prop
    name = prop["$ref"].rsplit("/", 1)[-1]
    resolved: dict[str, Any] = root.get("$defs", {}).get(name, {})
    return resolved


def _narrowed(old: Any, new: Any) -> bool:
    """A free value became a list of values: everything the writer now sends, the old reader reads."""
    values = ("enum", "const")
    if not isinstance(old, dict) or not isinstance(new, dict) or any(key in old for key in values):
        return False
    return any(key in new for key in values) and {k: v for k, v in new.items() if k not in values} == old


def _without_announced(ce_type: str, name: str, prop: dict[str, Any]) -> dict[str, Any]:
    """The property as the release knew it: the contract's announced values taken out of its enum."""
    announced = ANNOUNCED_VALUES.get((ce_type, name))
    if not announced or "enum" not in prop:
        return prop
    kept = [value for value in prop["enum"] if value not in announced]
    narrowed = {key: value for key, value in prop.items() if key != "enum"}
    return {**narrowed, "const": kept[0]} if len(kept) == 1 else {**narrowed, "enum": kept}


# Words about a value, not its shape; and whether an object accepts more fields, which the kinds decide.
_NOT_SHAPE: Final = frozenset(
    {"description", "title", "default", "examples", "additionalProperties", "x-enumDescriptions"}
)


def _shape(prop: dict[str, Any], root: dict[str, Any]) -> Any:
    """A property's type, with references resolved and descriptions ignored, for comparison."""
    if "$ref" in prop:
        return _shape(_resolve(prop, root), root)
    shaped: dict[str, Any] = {}
    for key, value in prop.items():
        if key in _NOT_SHAPE:
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
