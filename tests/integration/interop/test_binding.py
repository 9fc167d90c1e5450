"""The Kafka binding as the spec has it: structured mode read like binary, extensions ignored, trace kept."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from devkit.driver import Sender, TopicLog, command_headers
from devkit.payloads import allocate_budget
from devkit.processes import ServiceProcess
from shared.contract.funding import BudgetAllocated
from shared.contract.schemas import schema_id
from shared.topics import FUNDING_COMMANDS, FUNDING_EVENTS
from tests.integration.interop.conftest import ALLOCATE, ALLOCATED, REJECTED, TRACE, fresh_year


async def test_a_structured_mode_command_is_applied_like_a_binary_one(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog
) -> None:
    year = fresh_year()
    data = allocate_budget(year, 4_000_000)
    ce_id = str(uuid.uuid4())
    event = {
        "specversion": "1.0",
        "id": ce_id,
        "source": "/tests/structured-portal",
        "type": ALLOCATE,
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }
    headers = {"content-type": "application/cloudevents+json; charset=utf-8"}
    await sender.send_raw(
        FUNDING_COMMANDS, key=f"budget-{year}".encode(), value=json.dumps(event).encode(), headers=headers
    )
    [answer] = await topic_log.answer_to(ce_id, FUNDING_EVENTS)
    assert answer.ce_type == ALLOCATED, answer.data
    allocated = BudgetAllocated.model_validate_json(answer.value)
    assert (allocated.programme_year, allocated.amount_nok) == (year, 4_000_000)
    assert answer.correlation_id == ce_id


async def test_extension_attributes_are_accepted_and_a_traceparent_is_carried_onto_the_answer(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog
) -> None:
    year = fresh_year()
    key = f"budget-{year}"
    headers = command_headers(ALLOCATE, source="/tests/traced-portal") | {
        "ce_traceparent": TRACE,
        "ce_tracestate": "vendor=1",
        "ce_partitionkey": key,
        "ce_comexampleextension": "anything",
    }
    data = allocate_budget(year, 1_000_000)
    await sender.send_raw(FUNDING_COMMANDS, key=key.encode(), value=json.dumps(data).encode(), headers=headers)
    [answer] = await topic_log.answer_to(headers["ce_id"], FUNDING_EVENTS)
    assert answer.ce_type == ALLOCATED, answer.data
    assert answer.headers["ce_traceparent"] == TRACE
    assert answer.headers["traceparent"] == TRACE
    assert answer.headers["ce_dataschema"] == schema_id(ALLOCATED)


async def test_a_refusal_names_its_schema_and_a_command_without_a_trace_starts_none(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog
) -> None:
    year = fresh_year()
    ce_id = await sender.send(FUNDING_COMMANDS, ALLOCATE, f"budget-{year}", allocate_budget(year, -5))
    [answer] = await topic_log.answer_to(ce_id, FUNDING_EVENTS)
    assert answer.ce_type == REJECTED
    assert answer.headers["ce_dataschema"] == schema_id(REJECTED)
    assert "ce_traceparent" not in answer.headers
