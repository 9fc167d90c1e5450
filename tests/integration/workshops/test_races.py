"""Races that two replicas can run: the last seat, one facilitator; and the database constraints that decide them.

Both instances read in one consumer group, each owning some partitions. Each pair of racing
commands is sent to two partitions owned by different instances (with the right key: a sender
whose partitioner differs from murmur2 does this), so the two really run at the same moment
and only the database can decide between them.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from workshops import repository as repo
from workshops.domain.calendar import Slot, Workshop
from workshops.domain.registrations import Registration

from devkit.ids import email
from devkit.payloads import morning, register_participant
from devkit.payloads import schedule_workshop as workshop_data
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.db import connect
from shared.topics import WORKSHOPS_COMMANDS
from tests.integration.workshops.conftest import Client, workshops_process

ROUNDS = 4

Write = Callable[[asyncpg.Connection], Coroutine[Any, Any, None]]


@dataclass
class Replicas:
    processes: tuple[ServiceProcess, ServiceProcess]
    partitions: tuple[int, int]  # a partition of the commands topic owned by each of two consumers

    def applied_by_each(self, ce_ids: list[str]) -> list[int]:
        """How many of these commands each instance applied (from its log)."""
        counts = []
        for proc in self.processes:
            handled = [json.loads(line) for line in proc.tail(100_000).splitlines() if '"message.handled"' in line]
            counts.append(sum(1 for h in handled if h["ce_id"] in ce_ids and h["outcome"] != "duplicate"))
        return counts


@pytest.fixture(scope="module")
async def replicas(system: System) -> AsyncIterator[Replicas]:
    processes = (workshops_process(system), workshops_process(system))
    for proc in processes:
        proc.start()
    try:
        await asyncio.gather(*(proc.wait_ready() for proc in processes))
        yield Replicas(processes, await _split_partitions(system.kafka_bootstrap))
    finally:
        for proc in processes:
            proc.stop()


async def _split_partitions(bootstrap: str, timeout: float = 60.0) -> tuple[int, int]:
    """Wait until two consumers of the group share the commands topic; one partition of each."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            (response,) = await admin.describe_consumer_groups(["workshops"])
            (_, _, state, _, _, members) = response.groups[0]
            owned = [
                partitions
                for member in members
                if state == "Stable" and member[4]  # assignments are empty while the group rebalances
                for topic, partitions in ConsumerProtocolMemberAssignment.decode(member[4]).assignment
                if topic == WORKSHOPS_COMMANDS and partitions
            ]
            if state == "Stable" and len(owned) == 2:
                return owned[0][0], owned[1][0]
            assert asyncio.get_running_loop().time() < deadline, f"group not split in time: {state}, {owned}"
            await asyncio.sleep(0.3)
    finally:
        await admin.close()


async def test_two_registrations_racing_for_the_last_seat_on_two_instances_give_it_once(
    replicas: Replicas, client: Client, admin_db: asyncpg.Pool
) -> None:
    workshops = [await client.schedule(start=morning(70 + i), capacity=1) for i in range(ROUNDS)]
    sends = []
    for workshop in workshops:
        for partition in replicas.partitions:
            data = {
                "workshop_id": workshop["workshop_id"],
                "registration_id": str(uuid.uuid4()),
                "participant": {"name": "Kari", "email": email()},
            }
            sends.append(client.send_to(partition, "RegisterParticipant", workshop["workshop_id"], data))
    command_ids = list(await asyncio.gather(*sends))
    answers = [(await client.answer(ce_id))[0] for ce_id in command_ids]
    for i, workshop in enumerate(workshops):
        pair = answers[2 * i : 2 * i + 2]
        assert sorted(a.ce_type for a in pair) == [
            "workshops.ParticipantRegistered.v1",
            "workshops.ParticipantWaitlisted.v1",
        ]
        assert [a.data["position"] for a in pair if "position" in a.data] == [1]
        row = await admin_db.fetchrow(
            """SELECT w.seats_taken, (SELECT count(*) FROM workshops.registrations r
                                      WHERE r.workshop_id = w.workshop_id AND r.status = 'confirmed')
               FROM workshops.workshops w WHERE w.workshop_id = $1""",
            uuid.UUID(workshop["workshop_id"]),
        )
        assert row is not None
        assert tuple(row) == (1, 1)
    assert replicas.applied_by_each(command_ids) == [ROUNDS, ROUNDS]


async def test_two_bookings_of_one_facilitator_racing_on_two_instances_let_exactly_one_win(
    replicas: Replicas, client: Client
) -> None:
    sends = []
    for i in range(ROUNDS):
        facilitator = email("leif")
        start = morning(80 + i)
        here = workshop_data(start=start, facilitators=[facilitator])
        # Every other round the rival is in another town, within the travel buffer rather than overlapping.
        if i % 2:
            halden = {"town": "Halden", "venue": f"Tista {uuid.uuid4().hex[:6]}"}
            rival = workshop_data(start=start + timedelta(hours=4), facilitators=[facilitator], location=halden)
        else:
            rival = workshop_data(start=start + timedelta(hours=1), facilitators=[facilitator])
        for partition, data in zip(replicas.partitions, (here, rival), strict=True):
            sends.append(client.send_to(partition, "ScheduleWorkshop", data["workshop_id"], data))
    command_ids = list(await asyncio.gather(*sends))
    answers = [(await client.answer(ce_id))[0] for ce_id in command_ids]
    for i in range(ROUNDS):
        pair = answers[2 * i : 2 * i + 2]
        assert sorted(a.ce_type for a in pair) == ["workshops.CommandRejected.v1", "workshops.WorkshopScheduled.v1"]
        (refusal,) = [a for a in pair if a.ce_type == "workshops.CommandRejected.v1"]
        assert [r["code"] for r in refusal.data["reasons"]] == ["facilitator_double_booked"]
    assert replicas.applied_by_each(command_ids) == [ROUNDS, ROUNDS]


async def _wait_for_a_statement_waiting_on_a_lock(
    admin_db: asyncpg.Pool, *fragments: str, timeout: float = 30.0
) -> None:
    """Until a session of the service waits for a lock in a statement containing one of these fragments."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await admin_db.fetchval(
        """SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                          WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND query LIKE ANY($1::text[]))""",
        [f"%{fragment}%" for fragment in fragments],
    ):
        assert asyncio.get_running_loop().time() < deadline, f"no statement waits on a lock: {fragments}"
        await asyncio.sleep(0.1)


async def test_a_registration_racing_an_erasure_of_its_email_on_another_instance_cannot_escape_it(
    replicas: Replicas, client: Client, admin_db: asyncpg.Pool
) -> None:
    person = email("racer")
    workshop = await client.schedule(start=morning(96), capacity=5)
    registration = register_participant(workshop["workshop_id"], person=person)
    async with admin_db.acquire() as gate, gate.transaction():
        # The test holds the outbox: the registration stops at its outbox write, its row inserted and
        # not committed, while the erasure runs on the other instance. Without the person's lock the
        # erasure does not see that row, and the registration commits the e-mail after it.
        await gate.execute("LOCK TABLE workshops.outbox IN SHARE MODE")
        register_id = await client.send_to(
            replicas.partitions[0], "RegisterParticipant", workshop["workshop_id"], registration
        )
        await _wait_for_a_statement_waiting_on_a_lock(admin_db, "INSERT INTO outbox")
        erase_id = await client.send_to(replicas.partitions[1], "EraseParticipantData", person, {"email": person})
        # Either on the person's lock (held by the registration) or, without it, at its first outbox statement.
        await _wait_for_a_statement_waiting_on_a_lock(
            admin_db, "pg_advisory_xact_lock", "DELETE FROM outbox WHERE lower(key)"
        )
    (registered,) = await client.answer(register_id)
    (erased,) = await client.answer(erase_id)
    assert registered.ce_type == "workshops.ParticipantRegistered.v1"
    assert erased.data["registrations"] == 1
    row = await admin_db.fetchrow(
        "SELECT name, email, erased_at FROM workshops.registrations WHERE registration_id = $1",
        uuid.UUID(registration["registration_id"]),
    )
    assert row is not None
    assert (row["name"], row["email"]) == ("erased", "erased")
    assert replicas.applied_by_each([register_id, erase_id]) == [1, 1]


# The database itself, without the service's checks in front of it.


def _at(slot: Slot, *, capacity: int = 25, facilitators: tuple[str, ...] = ()) -> Workshop:
    return Workshop(
        workshop_id=uuid.uuid4(),
        kind="clarification",
        title="t",
        hosting_cluster="nce-raufoss",
        town=slot.town,
        venue=slot.venue,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        capacity=capacity,
        seats_taken=0,
        facilitators=facilitators,
        cancelled=False,
        schedule_version=1,
    )


async def _workshop(conn: asyncpg.Connection, slot: Slot, *, capacity: int = 25) -> uuid.UUID:
    workshop = _at(slot, capacity=capacity)
    await repo.insert_workshop(conn, workshop=workshop)
    return workshop.workshop_id


async def _race(system: System, first: Write, second: Write) -> list[BaseException | None]:
    """Run two writes in two transactions that overlap in time; return what each raised."""
    connections = [await connect(system.dsn("workshops"), schema="workshops", service="test") for _ in range(2)]
    try:
        results: list[BaseException | None] = []
        transactions = [conn.transaction() for conn in connections]
        for transaction in transactions:
            await transaction.start()
        await first(connections[0])
        blocked = asyncio.create_task(second(connections[1]))
        await asyncio.sleep(0.3)
        assert not blocked.done(), "the second write should wait for the first transaction"
        await transactions[0].commit()
        results.append(None)
        try:
            await blocked
            await transactions[1].commit()
            results.append(None)
        except asyncpg.PostgresError as error:
            await transactions[1].rollback()
            results.append(error)
        return results
    finally:
        for conn in connections:
            await conn.close()


async def test_the_database_refuses_a_second_overlapping_booking_of_a_facilitator(
    replicas: Replicas, system: System
) -> None:
    facilitator = email("leif")
    start = morning(90)
    here = Slot(start, start + timedelta(hours=2), "Raufoss", f"v-{uuid.uuid4().hex}")
    overlapping = Slot(start + timedelta(hours=1), start + timedelta(hours=3), "Raufoss", f"v-{uuid.uuid4().hex}")

    def booking(slot: Slot) -> Write:
        async def write(conn: asyncpg.Connection) -> None:
            workshop = _at(slot, facilitators=(facilitator,))
            await repo.insert_workshop(conn, workshop=workshop)
            await repo.book_facilitators(conn, workshop=workshop, travel_buffer=timedelta(minutes=90))

        return write

    ok, refused = await _race(system, booking(here), booking(overlapping))
    assert ok is None
    assert isinstance(refused, asyncpg.ExclusionViolationError)
    assert refused.constraint_name == "facilitator_double_booked"
    # Another town, 60 minutes after: within the 90-minute travel buffer.
    later = start + timedelta(days=1)
    raufoss = Slot(later, later + timedelta(hours=2), "Raufoss", f"v-{uuid.uuid4().hex}")
    halden = Slot(later + timedelta(hours=3), later + timedelta(hours=4), "Halden", f"v-{uuid.uuid4().hex}")
    _, refused = await _race(system, booking(raufoss), booking(halden))
    assert isinstance(refused, asyncpg.ExclusionViolationError)
    assert refused.constraint_name == "facilitator_travel_buffer"


async def test_the_database_refuses_a_second_booking_of_a_venue_and_a_seat_beyond_capacity(
    replicas: Replicas, system: System
) -> None:
    start = morning(91)
    venue = f"v-{uuid.uuid4().hex}"
    slot = Slot(start, start + timedelta(hours=2), "Raufoss", venue)

    async def schedule(conn: asyncpg.Connection) -> None:
        await _workshop(conn, slot)

    _, refused = await _race(system, schedule, schedule)
    assert isinstance(refused, asyncpg.ExclusionViolationError)
    assert refused.constraint_name == "venue_double_booked"

    conn = await connect(system.dsn("workshops"), schema="workshops", service="test")
    try:
        workshop_id = await _workshop(
            conn, Slot(start, start + timedelta(hours=1), "Raufoss", f"v-{uuid.uuid4().hex}"), capacity=1
        )
    finally:
        await conn.close()

    def seat() -> Write:
        async def take(conn: asyncpg.Connection) -> None:
            confirmed_at = start - timedelta(days=1)
            registration = Registration(uuid.uuid4(), workshop_id, "n", email(), None, "confirmed", confirmed_at)
            await repo.add_registration(conn, registration=registration, at=confirmed_at)

        return take

    _, refused = await _race(system, seat(), seat())
    assert isinstance(refused, asyncpg.CheckViolationError)
    assert refused.constraint_name == "workshop_seats"
