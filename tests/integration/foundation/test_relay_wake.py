"""The relay is woken by a commit that lands while it is publishing, not by its next poll (ADR 3)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from devkit.system import System
from shared import outbox
from shared.db import Liveness
from shared.metrics import ServiceMetrics
from shared.relay import Relay
from tests.integration.foundation.conftest import EVENTS

# Far longer than the wait below: a row published within it was woken for, not polled for.
POLL_INTERVAL_S = 20.0
WOKEN_WITHIN_S = 3.0


@pytest.fixture
async def producer(system: System) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=system.kafka_bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    yield producer
    await producer.stop()


async def record(conn: asyncpg.Connection) -> int:
    """One outbox row for the probe's events topic, committed; returns its id."""
    event_id = str(uuid.uuid4())
    row = outbox.OutboxRow(event_id, EVENTS, event_id, "probe.Recorded.v1", {"ce_id": event_id}, b"{}")
    await outbox.write(conn, [row])
    row_id: int = await conn.fetchval("SELECT id FROM outbox WHERE event_id = $1", event_id)
    return row_id


async def until(conn: asyncpg.Connection, query: str, *args: object, timeout: float) -> float:
    """Seconds until `query` returns true, or fails the test after `timeout`."""
    started = time.monotonic()
    while not await conn.fetchval(query, *args):
        assert time.monotonic() - started < timeout, f"not within {timeout}s: {query} {args}"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def test_a_row_committed_while_the_relay_publishes_goes_out_at_once_not_at_the_next_poll(
    system: System, producer: AIOKafkaProducer
) -> None:
    relay = Relay(
        service="probe",
        dsn=system.dsn("probe"),
        schema="probe",
        producer=producer,
        metrics=ServiceMetrics("probe"),
        poll_interval_s=POLL_INTERVAL_S,
        batch_size=500,
        retention_hours=1.0,
        on_health=lambda _: None,
        liveness=Liveness(silent_after_s=3 * POLL_INTERVAL_S, command_timeout_s=POLL_INTERVAL_S),
    )
    writer = await asyncpg.connect(system.dsn("probe"), server_settings={"search_path": "probe"})
    holder = await asyncpg.connect(system.dsn("probe"), server_settings={"search_path": "probe"})
    running = asyncio.create_task(relay.run())
    try:
        # Whatever earlier tests left unsent goes first; then the relay sleeps.
        await until(writer, "SELECT NOT EXISTS (SELECT FROM outbox WHERE sent_at IS NULL)", timeout=30)
        # The relay is held mid-publish: it sent row `first` and waits to mark it, on our row lock.
        lock = holder.transaction()
        await lock.start()
        first = await record(writer)
        await holder.execute("SELECT FROM outbox WHERE id = $1 FOR UPDATE", first)
        relay.wake()
        await until(
            writer,
            """SELECT EXISTS (SELECT FROM pg_stat_activity
                               WHERE application_name = 'probe-relay' AND wait_event_type = 'Lock')""",
            timeout=10,
        )
        # A commit lands now, and wakes the relay as the consumer does after its commit.
        second = await record(writer)
        relay.wake()
        await lock.rollback()
        waited = await until(
            writer, "SELECT sent_at IS NOT NULL FROM outbox WHERE id = $1", second, timeout=WOKEN_WITHIN_S
        )
        assert waited < WOKEN_WITHIN_S
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await holder.close()
        await writer.close()
