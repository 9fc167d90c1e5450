"""Reminders sent by the service's own scheduler: once per confirmed participant, across restarts and replicas.

The lead is an hour here (24 h in production), so a workshop an hour and some seconds ahead
has its reminders due within seconds.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from devkit.driver import Record
from devkit.ids import email
from devkit.payloads import OSLO
from devkit.system import System
from shared.topics import NOTIFICATIONS
from tests.integration.workshops.conftest import Client, iso, workshops_process

LEAD = timedelta(hours=1)
SETTINGS = {"REMINDER_LEAD_S": str(int(LEAD.total_seconds()))}


def reminders_for(client: Client, workshop_id: str) -> list[Record]:
    return client.log.where(
        lambda r: (
            r.topic == NOTIFICATIONS and r.data["template"] == "workshops.reminder" and r.data["about"] == workshop_id
        )
    )


async def sleep_until(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


async def test_each_confirmed_participant_is_reminded_once_across_a_restart_and_two_replicas(
    system: System, client: Client, admin_db: asyncpg.Pool
) -> None:
    first = workshops_process(system, **SETTINGS)
    first.start()
    await first.wait_ready()
    start = datetime.now(UTC) + LEAD + timedelta(seconds=15)
    due = start - LEAD
    workshop = await client.schedule(start=start, capacity=3)
    workshop_id = workshop["workshop_id"]
    people = [email("early"), email("early")]
    confirmed = [(await client.register(workshop_id, person=person))[0] for person in people]
    late, _, _ = await client.register(workshop_id, at=due + timedelta(seconds=1))  # confirmed after the lead
    waiting, _, (answer,) = await client.register(workshop_id)
    assert answer.ce_type == "workshops.ParticipantWaitlisted.v1"
    first.stop()
    assert datetime.now(UTC) < due, "the set-up took longer than the margin before the reminders are due"
    planned = await admin_db.fetch(
        "SELECT registration_id FROM workshops.reminders WHERE workshop_id = $1 AND status = 'planned'",
        uuid.UUID(workshop_id),
    )
    assert {str(r["registration_id"]) for r in planned} == set(confirmed)

    await sleep_until(due + timedelta(seconds=1))  # due while no instance runs
    replicas = [workshops_process(system, **SETTINGS), workshops_process(system, **SETTINGS)]
    for proc in replicas:
        proc.start()
    try:
        await asyncio.gather(*(proc.wait_ready() for proc in replicas))
        await client.log.wait_for(
            lambda r: (
                r.topic == NOTIFICATIONS
                and r.data["template"] == "workshops.reminder"
                and r.data["about"] == workshop_id
            ),
            count=2,
        )
        await client.log.settle(3.0)
    finally:
        for proc in replicas:
            proc.stop()
    sent = reminders_for(client, workshop_id)
    assert sorted(r.data["params"]["registration_id"] for r in sent) == sorted(confirmed)
    assert sorted(r.data["recipient"]["email"] for r in sent) == sorted(people)
    assert {r.data["audience"] for r in sent} == {"participant"}
    assert {r.data["params"]["starts_at"] for r in sent} == {start.astimezone(OSLO).isoformat()}
    assert late not in {r.data["params"]["registration_id"] for r in sent}
    assert waiting not in {r.data["params"]["registration_id"] for r in sent}
    settled = await admin_db.fetch(
        "SELECT status, count(*) AS n FROM workshops.reminders WHERE workshop_id = $1 GROUP BY status",
        uuid.UUID(workshop_id),
    )
    assert {r["status"]: r["n"] for r in settled} == {"sent": 2}


async def test_a_rescheduled_workshop_plans_its_reminders_anew(
    system: System, client: Client, admin_db: asyncpg.Pool
) -> None:
    proc = workshops_process(system, **SETTINGS)
    proc.start()
    try:
        await proc.wait_ready()
        start = datetime.now(UTC) + LEAD + timedelta(seconds=6)
        workshop = await client.schedule(start=start)
        workshop_id = workshop["workshop_id"]
        registration_id, _, _ = await client.register(workshop_id)
        moved_start = start + timedelta(seconds=10)
        move = {
            "workshop_id": workshop_id,
            "starts_at": iso(moved_start),
            "ends_at": iso(moved_start + timedelta(hours=1)),
        }
        (moved,) = await client.ask("RescheduleWorkshop", move)
        assert moved.ce_type == "workshops.WorkshopRescheduled.v1"

        await sleep_until(moved_start - LEAD - timedelta(seconds=1))
        assert reminders_for(client, workshop_id) == []  # the first plan's time passed without a reminder
        await client.log.wait_for(
            lambda r: (
                r.topic == NOTIFICATIONS
                and r.data["template"] == "workshops.reminder"
                and r.data["about"] == workshop_id
            ),
            count=1,
        )
        await client.log.settle(2.0)
    finally:
        proc.stop()
    (reminder,) = reminders_for(client, workshop_id)
    assert reminder.data["params"]["registration_id"] == registration_id
    assert reminder.data["params"]["starts_at"] == moved_start.astimezone(OSLO).isoformat()
    statuses = await admin_db.fetch(
        "SELECT plan_version, status FROM workshops.reminders WHERE registration_id = $1 ORDER BY plan_version",
        uuid.UUID(registration_id),
    )
    assert [(r["plan_version"], r["status"]) for r in statuses] == [(1, "withdrawn"), (2, "sent")]
