"""Reminders: planned in the transaction that confirms a seat, sent by a scheduler inside the service.

The plan is rows in the database, so it survives restarts. Each due reminder is sent in its own
transaction that locks its row (``SKIP LOCKED``: a replica never waits for another), marks it
sent and records the notification in the outbox; the notification's id derives from the
reminder, so even a second recording would be refused by the outbox's unique event id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from shared.db import Connection, is_transient
from shared.logging import get_logger
from shared.retry import Backoff
from shared.runtime import Runtime
from shared.service import BackgroundTask
from workshops import domain, notices
from workshops import repository as repo

log = get_logger(__name__)


async def plan(
    conn: Connection, *, workshop: domain.Workshop, confirmed: Sequence[tuple[UUID, datetime]], lead: timedelta
) -> None:
    """Plan a reminder for each (registration, confirmed at) that was confirmed before it would be due."""
    due = [
        (registration_id, at)
        for registration_id, confirmed_at in confirmed
        if (at := domain.reminder_due(starts_at=workshop.starts_at, confirmed_at=confirmed_at, lead=lead)) is not None
    ]
    await repo.plan_reminders(conn, workshop_id=workshop.workshop_id, plan_version=workshop.schedule_version, due=due)


def scheduler(*, poll_interval_s: float, batch_size: int) -> BackgroundTask:
    """The background task that sends due reminders, on every replica, each reminder once."""

    async def send_reminders(runtime: Runtime) -> None:
        backoff = Backoff(max_s=runtime.settings.retry_backoff_max_s)
        while not runtime.is_stopping():
            try:
                claimed = await send_due(runtime, limit=batch_size)
            except Exception as error:
                if runtime.is_stopping():
                    return
                if not is_transient(error):
                    log.exception("reminders.failed")
                await backoff.wait(log, "reminders.retry_after_fault", error)
                continue
            backoff.reset()
            if claimed < batch_size:
                await asyncio.sleep(poll_interval_s)

    return send_reminders


async def send_due(runtime: Runtime, *, limit: int) -> int:
    """Send what is due now; returns how many reminders this replica settled."""
    async with runtime.pool.acquire() as conn:
        due = await repo.due_reminders(conn, limit=limit)
    settled = 0
    for reminder in due:
        seed = f"reminder/{reminder.registration_id}/{reminder.plan_version}"
        async with runtime.unit_of_work(seed=seed) as (conn, out):
            claimed = await repo.claim_reminder(conn, reminder=reminder)
            if claimed is None:
                continue  # another replica has it, or had it
            settled += 1
            if claimed.sendable:
                notices.tell_registration(out, "reminder", workshop=claimed.workshop, registration=claimed.registration)
        log.info(
            "reminder.settled",
            registration_id=str(reminder.registration_id),
            plan_version=reminder.plan_version,
            sent=claimed.sendable,
        )
    return settled
