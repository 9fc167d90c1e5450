"""Clients nobody here wrote: the CloudEvents Python SDK over librdkafka sends commands in both modes and reads
the answers back as valid CloudEvents whose data the exported schemas accept."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import jsonschema
import pytest
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings import kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from devkit.payloads import allocate_budget
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.topics import FUNDING_COMMANDS, FUNDING_EVENTS
from tests.integration.interop.clients import LibrdkafkaProducer, LibrdkafkaReader
from tests.integration.interop.conftest import ALLOCATE, ALLOCATED, REJECTED, TRACE, fresh_year

SCHEMAS = Path(__file__).resolve().parents[3] / "contract" / "schemas"
Mode = Literal["binary", "structured"]


@pytest.fixture(scope="module")
def producer(system: System) -> LibrdkafkaProducer:
    return LibrdkafkaProducer(system.kafka_bootstrap)


@pytest.fixture
def answers(system: System) -> Iterator[LibrdkafkaReader]:
    reader = LibrdkafkaReader(system.kafka_bootstrap, FUNDING_EVENTS)
    yield reader
    reader.close()


def _command(data: dict[str, Any], key: str) -> CloudEvent:
    # partitionkey: the SDK's way to set the record key (and a ce_partitionkey header, which we ignore).
    attributes = {
        "type": ALLOCATE,
        "source": "/tests/cloudevents-sdk",
        "datacontenttype": "application/json",
        "partitionkey": key,
        "traceparent": TRACE,
    }
    return CloudEvent(attributes=attributes, data=data)


def _encode(event: CloudEvent, mode: Mode) -> kafka.KafkaMessage:
    if mode == "binary":
        return kafka.to_binary(event, JSONFormat())
    return kafka.to_structured(event, JSONFormat())


def _check_against_its_schema(answer: BaseCloudEvent) -> dict[str, Any]:
    """The answer's data, validated with the schema its `dataschema` names, as an integrator would."""
    schema = json.loads((SCHEMAS / f"{answer.get_type()}.json").read_text())
    assert answer.get_dataschema() == schema["$id"]
    data = answer.get_data()
    assert isinstance(data, dict), data
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(data)
    return data


@pytest.mark.parametrize("mode", ["binary", "structured"])
async def test_an_sdk_command_through_librdkafka_is_applied_and_answered_with_a_valid_cloudevent(
    funding: ServiceProcess, producer: LibrdkafkaProducer, answers: LibrdkafkaReader, mode: Mode
) -> None:
    year = fresh_year()
    key = f"budget-{year}"
    command = _command(allocate_budget(year, 2_500_000), key)
    message = _encode(command, mode)
    assert message.key == key
    await asyncio.to_thread(producer.send, FUNDING_COMMANDS, message)

    record = await asyncio.to_thread(answers.answer_to, command.get_id())
    answer = kafka.from_binary(record, JSONFormat())
    assert isinstance(answer, CloudEvent)
    assert answer.get_type() == ALLOCATED
    assert answer.get_source() == "/programme/funding"
    assert answer.get_subject() == key
    assert answer.get_extension("partitionkey") == key
    assert answer.get_extension("correlationid") == command.get_id()
    assert answer.get_extension("traceparent") == TRACE
    data = _check_against_its_schema(answer)
    assert (data["programme_year"], data["amount_nok"]) == (year, 2_500_000)


@pytest.mark.parametrize("mode", ["binary", "structured"])
async def test_an_sdk_command_a_rule_refuses_is_answered_with_a_refusal_its_schema_explains(
    funding: ServiceProcess, producer: LibrdkafkaProducer, answers: LibrdkafkaReader, mode: Mode
) -> None:
    year = fresh_year()
    command = _command(allocate_budget(year, -1), f"budget-{year}")
    await asyncio.to_thread(producer.send, FUNDING_COMMANDS, _encode(command, mode))

    answer = kafka.from_binary(await asyncio.to_thread(answers.answer_to, command.get_id()), JSONFormat())
    assert answer.get_type() == REJECTED
    data = _check_against_its_schema(answer)
    assert data["command_id"] == command.get_id()
    assert [reason["code"] for reason in data["reasons"]] == ["invalid_amount"]
