"""An example payload per type, made from its exported schema: what the AsyncAPI documents show an integrator.

Values come from the field's name where a plausible one is known (an organisation number with a
valid check digit, a cluster of the programme, a period that ends after it starts), else from
its schema (an enum's first value, a format's sample, a length or bound it must keep). A test
reads every example back through the type's own model, so an example is always a valid message.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from shared.contract.reference import CLUSTERS

_NAMESPACE: Final = uuid.UUID("0d8b1f8e-52f4-4c1e-9a55-6f3c43c2b0a7")
_EMAIL: Final = "kari.nordmann@example.no"

BY_NAME: Final[dict[str, Any]] = {
    "organisation_number": "974760673",
    "lead_cluster": CLUSTERS[1],
    "hosting_cluster": CLUSTERS[1],
    "partner_clusters": [CLUSTERS[0]],
    "title": "Digital twin for the production line",
    "why": "Manual quality control stops the line twice a week; the project automates it.",
    "how": "Sensors on three stations, a shared data platform, and training for the operators.",
    "focus_areas": ["productivity", "digitalisation"],
    "objective": "Halve unplanned stops",
    "indicator": "unplanned stops per month",
    "target": "at most 4",
    "achieved": "3",
    "total_cost_nok": 2_000_000,
    "requested_nok": 800_000,
    "own_contribution_nok": 1_200_000,
    "amount_nok": 750_000,
    "total_nok": 50_000_000,
    "remaining_nok": 49_250_000,
    "budget_remaining_nok": 49_250_000,
    "programme_year": 2027,
    "start": "2027-01-01",
    "end": "2027-12-31",
    "starts_at": "2027-03-01T09:00:00+01:00",
    "ends_at": "2027-03-01T15:00:00+01:00",
    "previous_starts_at": "2027-02-22T09:00:00+01:00",
    "previous_ends_at": "2027-02-22T15:00:00+01:00",
    "attended_at": "2027-03-01T15:00:00+01:00",
    "confirmed_at": "2027-01-11T10:00:00+01:00",
    "accepted_at": "2027-02-01T10:00:00+01:00",
    "email": _EMAIL,
    "facilitators": ["ingrid.berg@example.no"],
    "name": "Kari Nordmann",
    "applicant_name": "Nordvik Mekaniske AS",
    "role": "CEO",
    "reason": "The project's aims fall outside the programme's.",
    "source": "statsbudsjettet kap. 2421 post 76",
    "decided_by": "case handler 17",
    "capacity": 30,
    "previous_capacity": 25,
    "position": 1,
    "registrations": 2,
    "version": 2,
    "town": "Raufoss",
    "venue": "Raufoss Industripark, building 2",
    "recipient": {"email": _EMAIL},
    "template": "applications.received",
    "message": "check digit does not match",
    "field": "applicant.organisation_number",
    "command_type": "applications.SubmitApplication.v1",
}

_BY_FORMAT: Final[dict[str, str]] = {
    "date": "2027-01-01",
    "date-time": "2027-01-05T10:00:00+01:00",
    "email": _EMAIL,
}


def example_of(schema: dict[str, Any]) -> Any:
    """An example instance of a whole exported schema (its `$defs` resolved)."""
    return _Example(schema).value(schema, "")


_JSON_TYPES: Final[dict[str, type | tuple[type, ...]]] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    """Whether a value known by name has the schema's JSON type (`indicators` items are objects, not text)."""
    kind = schema.get("type")
    return not isinstance(kind, str) or kind not in _JSON_TYPES or isinstance(value, _JSON_TYPES[kind])


class _Example:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def value(self, schema: dict[str, Any], name: str) -> Any:
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        if "anyOf" in schema:
            chosen = next((s for s in schema["anyOf"] if s.get("type") != "null"), schema["anyOf"][0])
            return self.value(chosen, name)
        if name in BY_NAME and _fits(BY_NAME[name], schema):
            return BY_NAME[name]
        return self.by_type(schema, name)

    def by_type(self, schema: dict[str, Any], name: str) -> Any:  # noqa: PLR0911 - one value per JSON type
        kind = schema.get("type")
        if kind == "object":
            properties: dict[str, Any] = schema.get("properties", {})
            return {field: self.value(prop, field) for field, prop in properties.items()}
        if kind == "array":
            return [self.value(schema.get("items", {}), name.removesuffix("s"))]
        if kind == "integer":
            return max(int(schema.get("minimum", 1)), 1)
        if kind == "boolean":
            return True
        if schema.get("format") == "uuid" or name.endswith("_id") or name in {"about", "subject"}:
            return str(uuid.uuid5(_NAMESPACE, name))
        if schema.get("format") in _BY_FORMAT:
            return _BY_FORMAT[schema["format"]]
        return f"example {name}".strip() if kind == "string" else None

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
        return schema
