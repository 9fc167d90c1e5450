"""The AsyncAPI documents: as the code says, valid for the official parser, and complete enough to generate from."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from programme import contract as documents
from shared.contract import schemas
from shared.contract.base import CommandRejected
from shared.contract.refusals import command_refusals

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "contract"
VALIDATOR = CONTRACT / "asyncapi" / ".validator"
DOCUMENTS = documents.documents()
CE_HEADERS = {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type", "ce_correlationid"}


def test_the_exported_documents_are_what_the_code_says() -> None:
    generated = documents.files()
    stale = [
        name
        for name, text in generated.items()
        if not (CONTRACT / name).is_file() or (CONTRACT / name).read_text() != text
    ]
    assert stale == [], f"run `make contract` and commit contract/: {stale}"
    on_disk = {
        str(p.relative_to(CONTRACT))
        for folder in ("asyncapi", "notifications")
        for p in (CONTRACT / folder).glob("*.json")
    }
    assert on_disk <= set(generated), f"stale files: {on_disk - set(generated)}"


@pytest.fixture(scope="module")
def parsed() -> dict[str, Any]:
    """Each exported document as the official parser (@asyncapi/parser, Node) reads it; installs it on first use."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node, "Node 20 is needed to validate the AsyncAPI documents"
    assert npm, "npm is needed to install the AsyncAPI parser"
    if not (VALIDATOR / "node_modules" / "@asyncapi" / "parser").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=VALIDATOR, check=True, capture_output=True, timeout=600
        )
    files = [str(CONTRACT / "asyncapi" / f"{service}.json") for service in sorted(DOCUMENTS)]
    result = subprocess.run(
        [node, "validate.mjs", *files], cwd=VALIDATOR, check=True, capture_output=True, timeout=300, text=True
    )
    return {Path(name).stem: report for name, report in json.loads(result.stdout).items()}


@pytest.mark.parametrize("service", sorted(DOCUMENTS))
def test_the_official_parser_finds_no_error_and_every_message_carries_payload_headers_correlation_and_example(
    parsed: dict[str, Any], service: str
) -> None:
    report = parsed[service]
    errors = [d for d in report["diagnostics"] if d["severity"] == 0]
    assert report["parsed"]
    assert errors == []
    assert report["messages"], service
    for message in report["messages"]:
        assert message["payloadProperties"], message["id"]
        assert set(message["headerProperties"]) >= CE_HEADERS, message["id"]
        assert message["correlationId"] == "$message.header#/ce_correlationid", message["id"]
        assert message["examples"] >= 1, message["id"]


@pytest.mark.parametrize("service", sorted(DOCUMENTS))
def test_every_channel_the_service_reads_and_writes_is_there(parsed: dict[str, Any], service: str) -> None:
    reads = {s.topic for s in documents.reads()[service]}
    writes = {f"{service}.events.v1", f"{service}.dlq.v1", "programme.notifications.v1"}
    assert set(parsed[service]["channels"]) == reads | writes


def _messages() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (service, name, message)
        for service, doc in DOCUMENTS.items()
        for name, message in doc["components"]["messages"].items()
        if not name.startswith("dead-letter.")
    ]


@pytest.mark.parametrize(("service", "name", "message"), _messages(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_example_is_a_message_the_contract_accepts(service: str, name: str, message: dict[str, Any]) -> None:
    [example] = message["examples"]
    payload = example["payload"]
    if name.endswith(".CommandRejected.v1"):
        CommandRejected.model_validate_json(json.dumps(payload))
        schema = schemas.rejected_schema(service)
    else:
        schemas.contract_models()[name].model_validate_json(json.dumps(payload))
        schema = schemas.all_schemas()[name]
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(payload)
    headers_schema = message["headers"]
    jsonschema.Draft202012Validator(headers_schema).validate(example["headers"])


@pytest.mark.parametrize("service", sorted(DOCUMENTS))
def test_each_command_lists_the_codes_it_can_be_refused_with(service: str) -> None:
    doc = DOCUMENTS[service]
    commands = [
        m
        for name, m in doc["components"]["messages"].items()
        if name.startswith(f"{service}.") and "x-refusal-codes" in m
    ]
    assert commands, service
    for message in commands:
        assert message["x-refusal-codes"] == command_refusals(message["name"])
        assert all(f"`{code}`" in message["description"] for code in message["x-refusal-codes"])
