"""The foundation's tests drive the probe service: each test gets its own probe process."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest

from devkit.driver import Record, Sender, TopicLog
from devkit.processes import ServiceProcess
from devkit.system import System

COMMANDS = "probe.commands.v1"
EVENTS = "probe.events.v1"
DLQ = "probe.dlq.v1"
RECORD = "probe.Record.v1"


def new_probe(system: System, **env: str) -> ServiceProcess:
    # Few attempts and short backoff keep the failure paths quick to observe.
    return system.process("probe", module="tests.probe", HANDLER_MAX_ATTEMPTS="2", RETRY_BACKOFF_MAX_S="0.5", **env)


@pytest.fixture
async def probe(system: System) -> AsyncIterator[ServiceProcess]:
    proc = new_probe(system)
    proc.start()
    await proc.wait_ready()
    yield proc
    proc.stop()


async def send_record(sender: Sender, item_id: uuid.UUID, *, ce_id: str | None = None, **fields: Any) -> str:
    data = {"item_id": str(item_id), "n": fields.pop("n", 1), **fields}
    return await sender.send(COMMANDS, RECORD, str(item_id), data, ce_id=ce_id)


def is_recorded(item_id: uuid.UUID) -> Callable[[Record], bool]:
    return lambda r: r.topic == EVENTS and r.ce_type == "probe.Recorded.v1" and r.key == str(item_id)


def recorded(topic_log: TopicLog, item_id: uuid.UUID) -> list[Record]:
    return topic_log.where(is_recorded(item_id))


async def applied_count(admin_db: asyncpg.Pool, item_id: uuid.UUID) -> int | None:
    value: int | None = await admin_db.fetchval("SELECT applied FROM probe.items WHERE item_id = $1", item_id)
    return value
