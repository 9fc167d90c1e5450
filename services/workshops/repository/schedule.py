"""Queries of workshops and their facilitators' bookings: what is where, when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final
from uuid import UUID

import asyncpg

from shared.db import Connection
from workshops.domain import calendar

_WORKSHOP_COLUMNS: Final = """workshop_id, kind, title, hosting_cluster, town, venue, starts_at, ends_at,
    capacity, seats_taken, facilitators, cancelled_at IS NOT NULL AS cancelled, schedule_version"""


def _workshop(row: asyncpg.Record) -> calendar.Workshop:
    return calendar.Workshop(**{**dict(row), "facilitators": tuple(row["facilitators"])})


async def get_workshop(conn: Connection, *, workshop_id: UUID, lock: bool = False) -> calendar.Workshop | None:
    """The workshop; with ``lock``, its row is held until commit, which serialises every seat change."""
    suffix = " FOR UPDATE" if lock else ""
    row = await conn.fetchrow(f"SELECT {_WORKSHOP_COLUMNS} FROM workshops WHERE workshop_id = $1{suffix}", workshop_id)
    return None if row is None else _workshop(row)


async def workshop_exists(conn: Connection, *, workshop_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM workshops WHERE workshop_id = $1)", workshop_id))


async def surroundings(
    conn: Connection,
    *,
    slot: calendar.Slot,
    facilitators: Sequence[str],
    travel_buffer: timedelta,
    exclude: UUID,
) -> calendar.Surroundings:
    """Active bookings of these facilitators within reach of the slot, and workshops in its venue overlapping it."""
    bookings = await conn.fetch(
        """SELECT workshop_id, facilitator, town_key, lower(during) AS starts_at, upper(during) AS ends_at,
                  upper(travel) AS travel_ends_at
           FROM facilitator_bookings
           WHERE active AND facilitator = ANY($1::text[]) AND workshop_id <> $2
             AND travel && tstzrange($3::timestamptz, $4::timestamptz + $5::interval)""",
        list(calendar.distinct_facilitators(facilitators)),
        exclude,
        slot.starts_at,
        slot.ends_at,
        travel_buffer,
    )
    venue = await conn.fetch(
        """SELECT workshop_id FROM workshops
           WHERE cancelled_at IS NULL AND town_key = $1 AND venue_key = $2 AND workshop_id <> $3
             AND tstzrange(starts_at, ends_at) && tstzrange($4::timestamptz, $5::timestamptz)""",
        slot.town_key,
        slot.venue_key,
        exclude,
        slot.starts_at,
        slot.ends_at,
    )
    return calendar.Surroundings(
        facilitator_bookings=[calendar.FacilitatorBooking(**dict(row)) for row in bookings],
        venue_workshops=[row["workshop_id"] for row in venue],
    )


async def insert_workshop(conn: Connection, *, workshop: calendar.Workshop) -> None:
    slot = workshop.slot
    await conn.execute(
        """INSERT INTO workshops (workshop_id, kind, title, hosting_cluster, town, venue, town_key, venue_key,
                                  starts_at, ends_at, capacity, facilitators, schedule_version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)""",
        workshop.workshop_id,
        workshop.kind,
        workshop.title,
        workshop.hosting_cluster,
        slot.town,
        slot.venue,
        slot.town_key,
        slot.venue_key,
        slot.starts_at,
        slot.ends_at,
        workshop.capacity,
        list(workshop.facilitators),
        workshop.schedule_version,
    )


async def book_facilitators(conn: Connection, *, workshop: calendar.Workshop, travel_buffer: timedelta) -> None:
    slot = workshop.slot
    await conn.execute(
        """INSERT INTO facilitator_bookings (workshop_id, facilitator, town_key, during, travel)
           SELECT $1, f, $3, tstzrange($4::timestamptz, $5::timestamptz),
                  tstzrange($4::timestamptz, $5::timestamptz + $6::interval)
           FROM unnest($2::text[]) AS f""",
        workshop.workshop_id,
        list(calendar.distinct_facilitators(workshop.facilitators)),
        slot.town_key,
        slot.starts_at,
        slot.ends_at,
        travel_buffer,
    )


async def move_workshop(conn: Connection, *, workshop: calendar.Workshop, travel_buffer: timedelta) -> None:
    """The workshop and its facilitators at its new time and place, under its new schedule version."""
    slot = workshop.slot
    await conn.execute(
        """UPDATE workshops SET town = $2, venue = $3, town_key = $4, venue_key = $5, starts_at = $6, ends_at = $7,
                  schedule_version = $8
           WHERE workshop_id = $1""",
        workshop.workshop_id,
        slot.town,
        slot.venue,
        slot.town_key,
        slot.venue_key,
        slot.starts_at,
        slot.ends_at,
        workshop.schedule_version,
    )
    await conn.execute(
        """UPDATE facilitator_bookings SET town_key = $2, during = tstzrange($3::timestamptz, $4::timestamptz),
                  travel = tstzrange($3::timestamptz, $4::timestamptz + $5::interval)
           WHERE workshop_id = $1""",
        workshop.workshop_id,
        slot.town_key,
        slot.starts_at,
        slot.ends_at,
        travel_buffer,
    )


async def cancel_workshop(conn: Connection, *, workshop_id: UUID, at: datetime, reason: str) -> None:
    """The workshop and its facilitator bookings stop blocking anything."""
    await conn.execute(
        "UPDATE workshops SET cancelled_at = $2, cancel_reason = $3 WHERE workshop_id = $1", workshop_id, at, reason
    )
    await conn.execute("UPDATE facilitator_bookings SET active = false WHERE workshop_id = $1", workshop_id)


async def set_capacity(conn: Connection, *, workshop_id: UUID, capacity: int) -> None:
    await conn.execute("UPDATE workshops SET capacity = $2 WHERE workshop_id = $1", workshop_id, capacity)


async def upcoming_clarification_workshops(
    conn: Connection, *, after: datetime, until: datetime, lead_cluster: str, limit: int
) -> list[calendar.Workshop]:
    """At most `limit`, the lead cluster's first: the database orders and cuts, so the cost stays flat as
    the calendar fills. Each cluster's share is read in (starts_at, workshop_id) order from an index and
    cut on its own (workshops 0003): one ORDER BY over both would read every workshop of the horizon
    before keeping `limit` of them, and an index on starts_at alone every workshop of the same hour."""
    upcoming = "kind = 'clarification' AND cancelled_at IS NULL AND starts_at > $1 AND starts_at <= $2"
    rows = await conn.fetch(
        f"""SELECT {_WORKSHOP_COLUMNS} FROM (
                (SELECT *, 0 AS rank FROM workshops WHERE {upcoming} AND hosting_cluster = $3
                 ORDER BY starts_at, workshop_id LIMIT $4)
                UNION ALL
                (SELECT *, 1 FROM workshops WHERE {upcoming} AND hosting_cluster <> $3
                 ORDER BY starts_at, workshop_id LIMIT $4)) AS upcoming
            ORDER BY rank, starts_at, workshop_id
            LIMIT $4""",
        after,
        until,
        lead_cluster,
        limit,
    )
    return [_workshop(row) for row in rows]
