"""Sizes at intake: a command larger than the service takes is refused with `too_large` and the limit (issue 11 item 4).

A 1.3 MB SubmitApplication, compressed so the broker takes it, used to pass the schema and vanish
(its event could never be published). Now it gets its answer, and the partition goes on.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from devkit.driver import TopicLog, command_headers
from devkit.payloads import submit_application
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.topics import APPLICATIONS_COMMANDS, APPLICATIONS_EVENTS
from tests.integration.foundation.conftest import COMMANDS, EVENTS, RECORD, applied_count, is_recorded

LIMIT = 256 * 1024  # <SVC>_COMMAND_MAX_BYTES's default
BIG = 1_300_000


async def _send_compressed(system: System, topic: str, ce_type: str, key: str, value: bytes) -> str:
    """As a client that compresses would send it: the broker takes 1.3 MB of text in a few kB."""
    headers = command_headers(ce_type)
    producer = AIOKafkaProducer(
        bootstrap_servers=system.kafka_bootstrap, acks="all", compression_type="gzip", max_request_size=4 * BIG
    )
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, value=value, key=key.encode(), headers=[(k, v.encode()) for k, v in headers.items()]
        )
    finally:
        await producer.stop()
    return headers["ce_id"]


def _too_large(answer: Any) -> None:
    assert answer.ce_type.endswith(".CommandRejected.v1")
    [reason] = answer.data["reasons"]
    assert reason["code"] == "too_large"
    assert str(LIMIT) in reason["message"]


async def test_a_command_larger_than_the_limit_is_refused_too_large_and_the_next_is_applied(
    probe: ServiceProcess, system: System, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    item = uuid.uuid4()
    value = json.dumps({"item_id": str(item), "n": 1}).encode() + b" " * BIG  # valid JSON, only too large
    ce_id = await _send_compressed(system, COMMANDS, RECORD, str(item), value)
    after = uuid.uuid4()
    await _send_compressed(system, COMMANDS, RECORD, str(after), json.dumps({"item_id": str(after), "n": 1}).encode())

    _too_large((await topic_log.answer_to(ce_id, EVENTS))[0])
    assert await applied_count(admin_db, item) is None
    await topic_log.wait_for(is_recorded(after))
    assert await applied_count(admin_db, after) == 1


@pytest.fixture
async def applications(system: System) -> AsyncIterator[ServiceProcess]:
    proc = system.process("applications", RETRY_BACKOFF_MAX_S="0.5", HANDLER_MAX_ATTEMPTS="2")
    proc.start()
    await proc.wait_ready()
    yield proc
    proc.stop()


async def test_a_submit_application_of_1_3_mb_gets_its_answer(
    applications: ServiceProcess, system: System, topic_log: TopicLog
) -> None:
    data = submit_application(why="Our machining line loses capacity. " * (BIG // 35))
    value = json.dumps(data).encode()
    assert len(value) > BIG
    ce_id = await _send_compressed(
        system, APPLICATIONS_COMMANDS, "applications.SubmitApplication.v1", data["application_id"], value
    )
    _too_large((await topic_log.answer_to(ce_id, APPLICATIONS_EVENTS, timeout=60))[0])
