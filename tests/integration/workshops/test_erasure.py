"""Erasure leaves a person's e-mail nowhere: in no table of the service, in no outbox row (sent or
unsent), and in no record published after it.

The module runs its own process, so that the test can hold the relay's lock while the service
records (as a replica that is the relay would): what the service records then stays unsent.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg

from devkit.driver import Record
from devkit.ids import email
from devkit.payloads import morning, register_participant
from devkit.system import System
from shared.topics import WORKSHOPS_COMMANDS
from tests.integration.workshops.conftest import Client, workshops_process

RELAY_LOCK = "outbox-relay:workshops"
SCHEMA = "workshops"
# Every column type that can hold text: where an e-mail could be.
_TEXTUAL = ("text", "character varying", "character", "json", "jsonb", "bytea", "ARRAY")


def _names(record: Record, person: str) -> bool:
    """Whether the record carries the e-mail anywhere: its key, a header, its data (in any case)."""
    text = " ".join([record.key or "", json.dumps(record.headers), record.value.decode("utf-8", "replace")])
    return person.lower() in text.lower()


async def _places_naming(admin_db: asyncpg.Pool, person: str) -> list[str]:
    """Every table.column of the service's schema holding the e-mail in some row, in any case."""
    columns = await admin_db.fetch(
        """SELECT table_name, column_name, data_type FROM information_schema.columns
           JOIN information_schema.tables USING (table_schema, table_name)
           WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND data_type = ANY($2::text[])
           ORDER BY table_name, column_name""",
        SCHEMA,
        list(_TEXTUAL),
    )
    assert {c["table_name"] for c in columns} >= {"registrations", "outbox", "workshops", "inbox"}
    found = []
    for c in columns:
        column = f'"{c["column_name"]}"'
        text = f"convert_from({column}, 'UTF8')" if c["data_type"] == "bytea" else f"{column}::text"
        hits = await admin_db.fetchval(
            f"""SELECT count(*) FROM "{SCHEMA}"."{c["table_name"]}"
                WHERE strpos(lower({text}), lower($1)) > 0""",
            person,
        )
        if hits:
            found.append(f"{c['table_name']}.{c['column_name']}")
    return found


async def _until(admin_db: asyncpg.Pool, what: str, query: str, *args: Any, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await admin_db.fetchval(query, *args):
        assert asyncio.get_running_loop().time() < deadline, f"not in time: {what}"
        await asyncio.sleep(0.1)


async def test_erasure_leaves_the_email_in_no_table_no_outbox_row_and_no_later_record(
    system: System, client: Client, admin_db: asyncpg.Pool
) -> None:
    person = email("Erase-Me")
    proc = workshops_process(system)
    proc.start()
    try:
        await proc.wait_ready()
        first, second, third = [await _schedule(client, days) for days in (121, 122, 123)]
        # Registered and told: a sent outbox row keyed by the e-mail, and records on Kafka.
        _, told, _ = await client.register(first, person=person)
        await client.wait_notifications(told, count=1)
    finally:
        proc.stop()

    # From here the test holds the relay's lock: what the service records stays unsent.
    relay = await asyncpg.connect(system.admin_dsn)
    try:
        # The stopped replica's session may take a moment to end and let its lock go.
        deadline = asyncio.get_running_loop().time() + 30.0
        while not await relay.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", RELAY_LOCK):
            assert asyncio.get_running_loop().time() < deadline, "the relay's lock was not released in time"
            await asyncio.sleep(0.1)
        # A registration applied in a batch before the erasure's (the e-mail in another case) ...
        earlier = register_participant(second, person=person.upper())
        await client.send_to(0, "RegisterParticipant", second, earlier)
        proc.start()
        try:
            await proc.wait_ready()
            await _until(
                admin_db,
                "the earlier registration",
                "SELECT EXISTS (SELECT 1 FROM workshops.registrations WHERE registration_id = $1)",
                uuid.UUID(earlier["registration_id"]),
            )
        finally:
            proc.stop()
        # ... and one in the erasure's own batch, just before it (one partition: read in this order).
        await client.send_to(0, "RegisterParticipant", third, register_participant(third, person=person))
        erase_id = await client.send_to(0, "EraseParticipantData", person, {"email": person})
        proc.start()
        await proc.wait_ready()
        await _until(
            admin_db,
            "the erasure",
            """SELECT EXISTS (SELECT 1 FROM workshops.outbox WHERE ce_type = 'workshops.ParticipantDataErased.v1'
                                                               AND headers->>'ce_causationid' = $1)""",
            erase_id,
        )
        unsent = await admin_db.fetchval("SELECT count(*) FROM workshops.outbox WHERE sent_at IS NULL")
        assert unsent >= 3  # both registrations' events and the erasure's wait for the relay
        assert await _places_naming(admin_db, person) == []
    finally:
        await relay.close()  # the service's relay takes over and publishes what waited

    try:
        (erased,) = await client.answer(erase_id)
        assert erased.data["registrations"] == 3
        await _until(admin_db, "the relay", "SELECT NOT EXISTS (SELECT 1 FROM workshops.outbox WHERE sent_at IS NULL)")
        await client.log.settle()
        assert await _places_naming(admin_db, person) == []
        # Of what the service published, only what went before the erasure names the person.
        naming = client.log.where(lambda r: r.topic != WORKSHOPS_COMMANDS and _names(r, person))
        assert naming
        assert {r.causation_id for r in naming} == {told}
    finally:
        proc.stop()


async def _schedule(client: Client, days_ahead: int) -> str:
    data = await client.schedule(start=morning(days_ahead), capacity=5)
    return str(data["workshop_id"])
