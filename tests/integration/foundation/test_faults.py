"""Passing faults: Postgres stopped mid-stream makes the service retry and report not-ready, then resume by itself."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import pytest

from devkit.driver import Sender, TopicLog
from devkit.infra import CANNOT_STOP_GIVEN_DATABASE, Infrastructure
from devkit.processes import ServiceProcess
from tests.integration.foundation.conftest import DLQ, applied_count, is_recorded, send_record


async def wait_status(proc: ServiceProcess, status: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while (seen := await proc.ready_status()) != status:
        assert time.monotonic() < deadline, f"readiness stayed {seen}, wanted {status}"
        await asyncio.sleep(0.2)


async def test_postgres_stopped_mid_stream_is_retried_reported_and_survived(
    infrastructure: Infrastructure,
    probe: ServiceProcess,
    sender: Sender,
    topic_log: TopicLog,
    admin_db: asyncpg.Pool,
) -> None:
    database = infrastructure.database
    if database is None:
        # Reported with its reason in the run's summary (pytest -rs, set in pyproject.toml).
        pytest.skip(f"cannot run a Postgres outage: {CANNOT_STOP_GIVEN_DATABASE}")
    before = [uuid.uuid4() for _ in range(10)]
    during = [uuid.uuid4() for _ in range(10)]
    for item in before:
        await send_record(sender, item)
    await topic_log.wait_for(is_recorded(before[-1]))

    await admin_db.expire_connections()
    database.stop()
    try:
        for item in during:
            await send_record(sender, item)
        await wait_status(probe, 503)
        await asyncio.sleep(2)  # several retry rounds pass while the database is away
    finally:
        database.start()

    await wait_status(probe, 200, timeout=60)
    for item in during:
        await topic_log.wait_for(is_recorded(item), timeout=60)
    for item in [*before, *during]:
        assert await applied_count(admin_db, item) == 1
    assert topic_log.where(lambda r: r.topic == DLQ and r.key in {str(i) for i in during}) == []
