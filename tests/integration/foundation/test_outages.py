"""Ordinary outages of the database are waited out, never dead-lettered: a revoked privilege, a read-only node."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
import pytest

from devkit.driver import Sender, TopicLog
from devkit.processes import ServiceProcess
from tests.integration.foundation.conftest import DLQ, applied_count, is_recorded, send_record

# The probe's runtime role, as `programme db bootstrap` names it after its schema.
RUNTIME_ROLE = "probe"


async def revoke_writes(admin_db: asyncpg.Pool) -> None:
    await admin_db.execute(f"REVOKE INSERT, UPDATE ON probe.items FROM {RUNTIME_ROLE}")


async def grant_writes(admin_db: asyncpg.Pool) -> None:
    await admin_db.execute(f"GRANT INSERT, UPDATE ON probe.items TO {RUNTIME_ROLE}")


async def become_read_only(admin_db: asyncpg.Pool) -> None:
    # A failover to a node that only reads: every new session of the role is read-only.
    await admin_db.execute(f"ALTER ROLE {RUNTIME_ROLE} SET default_transaction_read_only = on")
    await end_sessions(admin_db)


async def become_writable(admin_db: asyncpg.Pool) -> None:
    await admin_db.execute(f"ALTER ROLE {RUNTIME_ROLE} RESET default_transaction_read_only")
    await end_sessions(admin_db)


async def rotate_password(admin_db: asyncpg.Pool) -> None:
    # The password changed before the service got the new one: its reconnections are refused.
    await admin_db.execute(f"ALTER ROLE {RUNTIME_ROLE} PASSWORD 'rotated-elsewhere'")
    await end_sessions(admin_db)


async def restore_password(admin_db: asyncpg.Pool) -> None:
    await admin_db.execute(f"ALTER ROLE {RUNTIME_ROLE} PASSWORD '{RUNTIME_ROLE}'")


async def end_sessions(admin_db: asyncpg.Pool) -> None:
    await admin_db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", RUNTIME_ROLE)


OUTAGES = {
    "privilege revoked": (revoke_writes, grant_writes, "InsufficientPrivilegeError"),
    "read-only node": (become_read_only, become_writable, "ReadOnlySQLTransactionError"),
    "password rotated": (rotate_password, restore_password, "InvalidPasswordError"),
}


async def retrying(proc: ServiceProcess) -> tuple[int, dict[str, str]]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(f"{proc.url}/health/ready")
    body = response.json()
    return response.status_code, body.get("retrying", {})


async def passing_faults(proc: ServiceProcess) -> float:
    return sum(value for key, value in (await proc.metrics()).items() if key.startswith("programme_passing_faults"))


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("outage", list(OUTAGES))
async def test_an_outage_of_the_runtime_role_is_retried_reported_and_survived(
    outage: str, probe: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    begin, end, error = OUTAGES[outage]
    items = [uuid.uuid4() for _ in range(3)]
    await begin(admin_db)
    try:
        faults_before = await passing_faults(probe)
        for item in items:
            await send_record(sender, item)

        async def reported() -> bool:
            status, why = await retrying(probe)
            return status == 503 and any(error in reason for reason in why.values())

        await eventually(reported, f"readiness names {error}")
        # More rounds than the probe's two attempts at a failing message: a dead letter would be out by now.
        await eventually(lambda: _more_than(probe, faults_before + 4), "several retry rounds")
    finally:
        await end(admin_db)

    for item in items:
        await topic_log.wait_for(is_recorded(item), timeout=60)
        assert await applied_count(admin_db, item) == 1
    await eventually(lambda: _status_is(probe, 200), "ready again")
    assert topic_log.where(lambda r: r.topic == DLQ and r.key in {str(i) for i in items}) == []


async def _more_than(proc: ServiceProcess, count: float) -> bool:
    return await passing_faults(proc) > count


async def _status_is(proc: ServiceProcess, status: int) -> bool:
    return (await retrying(proc))[0] == status
