"""The look-ups' route table: paths with ids, typed arguments, cursors, and the OpenAPI document each service serves."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from applications.queries import LOOKUPS as APPLICATIONS
from funding.queries import LOOKUPS as FUNDING
from jsonschema import Draft202012Validator
from pydantic import BaseModel
from workshops.queries import LOOKUPS as WORKSHOPS

from shared.db import Connection
from shared.lookups import (
    Lookup,
    LookupArgumentError,
    Param,
    keyset_cursor,
    openapi,
    read_keyset_cursor,
)


class Answer(BaseModel):
    value: int


async def nothing(conn: Connection, arguments: Mapping[str, Any]) -> Answer | None:
    return None


ONE = Lookup(
    "/v1/things/{thing_id}/parts/{part}",
    "a part",
    Answer,
    nothing,
    params=(
        Param("thing_id", uuid.UUID, "the thing"),
        Param("part", int, "the part"),
        Param("when", datetime, "as of"),
    ),
)


def test_a_path_with_ids_matches_its_template_only() -> None:
    thing = uuid.uuid4()
    match = ONE.pattern.match(f"/v1/things/{thing}/parts/7")
    assert match is not None
    assert ONE.arguments(match, {"when": ["2027-01-01T10:00:00+01:00"]}) == {
        "thing_id": thing,
        "part": 7,
        "when": datetime.fromisoformat("2027-01-01T10:00:00+01:00"),
    }
    assert ONE.pattern.match(f"/v1/things/{thing}/parts/7/more") is None
    assert ONE.pattern.match(f"/v1/things/{thing}/parts") is None
    assert ONE.pattern.match(f"/v1/thingsX{thing}/parts/7") is None


def test_an_argument_that_cannot_be_read_is_named_and_a_missing_one_is_none() -> None:
    match = ONE.pattern.match("/v1/things/nope/parts/7")
    assert match is not None
    with pytest.raises(LookupArgumentError, match=r"^thing_id: "):
        ONE.arguments(match, {})
    match = ONE.pattern.match(f"/v1/things/{uuid.uuid4()}/parts/7")
    assert match is not None
    assert ONE.arguments(match, {"when": [""]})["when"] is None


def test_a_look_up_refuses_a_path_outside_v1_or_a_parameter_it_does_not_declare() -> None:
    with pytest.raises(ValueError, match="starts with /v1/"):
        Lookup("/things", "things", Answer, nothing)
    with pytest.raises(ValueError, match="does not declare"):
        Lookup("/v1/things/{thing_id}", "a thing", Answer, nothing)


def test_a_cursor_reads_back_as_the_sort_key_it_was_made_of_and_a_forged_one_is_refused() -> None:
    at, row = datetime(2027, 3, 1, 9, 30, tzinfo=UTC), uuid.uuid4()
    assert read_keyset_cursor(keyset_cursor(at, row)) == (at, row)
    for forged in ("x", "W10=", keyset_cursor(at, row)[:-4]):
        with pytest.raises(LookupArgumentError, match=r"^cursor"):
            read_keyset_cursor(forged)


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


@pytest.mark.parametrize(
    ("service", "lookups"), [("applications", APPLICATIONS), ("workshops", WORKSHOPS), ("funding", FUNDING)]
)
def test_each_services_openapi_document_is_whole_and_its_schemas_valid(service: str, lookups: Sequence[Lookup]) -> None:
    document = json.loads(json.dumps(openapi(lookups, title=service, version="0.1.0")))
    assert document["openapi"].startswith("3.1")
    schemas = document["components"]["schemas"]
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)  # raises on a schema that is not valid JSON Schema
    for ref in refs(document):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    for path, item in document["paths"].items():
        in_path = {p["name"] for p in item["get"]["parameters"] if p["in"] == "path"}
        assert in_path == set(re.findall(r"\{(\w+)\}", path))
        assert {"200", "400", "401", "404"} <= set(item["get"]["responses"])
