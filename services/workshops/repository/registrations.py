"""Queries of registrations: seats, the waitlist, attendance, erasure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

from shared.db import Connection
from workshops import domain


@dataclass(frozen=True, slots=True)
class Registration:
    registration_id: UUID
    workshop_id: UUID
    name: str
    email: str
    organisation_number: str | None
    status: str
    confirmed_at: datetime | None
    attended_at: datetime | None
    erased: bool


_REGISTRATION_COLUMNS: Final = """registration_id, workshop_id, name, email, organisation_number, status,
    confirmed_at, attended_at, erased_at IS NOT NULL AS erased"""


async def get_registration(conn: Connection, *, registration_id: UUID) -> Registration | None:
    row = await conn.fetchrow(
        f"SELECT {_REGISTRATION_COLUMNS} FROM registrations WHERE registration_id = $1", registration_id
    )
    return None if row is None else Registration(**dict(row))


async def registrations_in(
    conn: Connection, *, workshop_id: UUID, statuses: Sequence[str], ids: Sequence[UUID] | None = None
) -> list[Registration]:
    """The workshop's registrations in these states (and among ``ids`` when given), in order of arrival."""
    rows = await conn.fetch(
        f"""SELECT {_REGISTRATION_COLUMNS} FROM registrations
            WHERE workshop_id = $1 AND status = ANY($2::text[]) AND ($3::uuid[] IS NULL OR registration_id = ANY($3))
            ORDER BY line""",
        workshop_id,
        list(statuses),
        None if ids is None else list(ids),
    )
    return [Registration(**dict(row)) for row in rows]


async def known_registration_ids(conn: Connection, *, workshop_id: UUID, ids: Sequence[UUID]) -> set[UUID]:
    rows = await conn.fetch(
        "SELECT registration_id FROM registrations WHERE workshop_id = $1 AND registration_id = ANY($2::uuid[])",
        workshop_id,
        list(ids),
    )
    return {row["registration_id"] for row in rows}


async def email_is_registered(conn: Connection, *, workshop_id: UUID, email: str) -> bool:
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM registrations
                              WHERE workshop_id = $1 AND email_key = $2 AND status <> 'cancelled')""",
            workshop_id,
            email_key(email),
        )
    )


async def registration_exists(conn: Connection, *, registration_id: UUID) -> bool:
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM registrations WHERE registration_id = $1)", registration_id)
    )


def email_key(email: str) -> str:
    return email.strip().casefold()


async def add_registration(
    conn: Connection,
    *,
    registration_id: UUID,
    workshop_id: UUID,
    name: str,
    email: str,
    organisation_number: str | None,
    status: domain.Placement,
    at: datetime,
) -> None:
    """A new registration; a confirmed one takes its seat in the same statement (the CHECK is the backstop)."""
    await conn.execute(
        """INSERT INTO registrations (registration_id, workshop_id, name, email, email_key, organisation_number,
                                      status, registered_at, confirmed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $7 = 'confirmed' THEN $8::timestamptz END)""",
        registration_id,
        workshop_id,
        name,
        email,
        email_key(email),
        organisation_number,
        status,
        at,
    )
    if status == "confirmed":
        await _take_seats(conn, workshop_id=workshop_id, count=1)


async def waitlist_position(conn: Connection, *, registration_id: UUID) -> int:
    """1-based: how many waitlisted registrations of the same workshop arrived before it, plus one."""
    position: int = await conn.fetchval(
        """SELECT count(*) FROM registrations w JOIN registrations r ON r.registration_id = $1
           WHERE w.workshop_id = r.workshop_id AND w.status = 'waitlisted' AND w.line <= r.line""",
        registration_id,
    )
    return position


async def waitlist(conn: Connection, *, workshop_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT registration_id FROM registrations WHERE workshop_id = $1 AND status = 'waitlisted' ORDER BY line",
        workshop_id,
    )
    return [row["registration_id"] for row in rows]


async def promote(conn: Connection, *, workshop_id: UUID, registration_ids: Sequence[UUID], at: datetime) -> None:
    """Waitlisted registrations take seats; the seat count moves by exactly the rows that changed."""
    if not registration_ids:
        return
    promoted = await conn.fetch(
        """UPDATE registrations SET status = 'confirmed', confirmed_at = $3
           WHERE workshop_id = $1 AND registration_id = ANY($2::uuid[]) AND status = 'waitlisted'
           RETURNING registration_id""",
        workshop_id,
        list(registration_ids),
        at,
    )
    await _take_seats(conn, workshop_id=workshop_id, count=len(promoted))


async def cancel_registration(conn: Connection, *, registration: Registration, at: datetime) -> None:
    """The registration is withdrawn; a confirmed one gives its seat back."""
    changed = await conn.fetchval(
        """UPDATE registrations SET status = 'cancelled', cancelled_at = $2
           WHERE registration_id = $1 AND status = $3 RETURNING true""",
        registration.registration_id,
        at,
        registration.status,
    )
    if changed and registration.status == "confirmed":
        await _take_seats(conn, workshop_id=registration.workshop_id, count=-1)


async def _take_seats(conn: Connection, *, workshop_id: UUID, count: int) -> None:
    await conn.execute("UPDATE workshops SET seats_taken = seats_taken + $2 WHERE workshop_id = $1", workshop_id, count)


async def record_attendance(
    conn: Connection, *, workshop_id: UUID, registration_ids: Sequence[UUID], at: datetime
) -> dict[UUID, str | None]:
    """Mark confirmed registrations as attended, once; returns those marked now, with their organisation number."""
    rows = await conn.fetch(
        """UPDATE registrations SET attended_at = $3
           WHERE workshop_id = $1 AND registration_id = ANY($2::uuid[]) AND status = 'confirmed'
             AND attended_at IS NULL
           RETURNING registration_id, organisation_number""",
        workshop_id,
        list(registration_ids),
        at,
    )
    return {row["registration_id"]: row["organisation_number"] for row in rows}


async def has_clarification_attendance(conn: Connection, *, organisation_number: str) -> bool:
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM registrations r JOIN workshops w USING (workshop_id)
                              WHERE r.organisation_number = $1 AND r.attended_at IS NOT NULL
                                AND w.kind = 'clarification')""",
            organisation_number,
        )
    )


async def erase_person(conn: Connection, *, email: str, at: datetime) -> list[UUID]:
    """Replace name and e-mail in every registration with this e-mail; returns the registrations erased."""
    rows = await conn.fetch(
        """UPDATE registrations
           SET name = 'erased', email = 'erased', email_key = 'erased:' || registration_id::text, erased_at = $2
           WHERE email_key = $1 AND erased_at IS NULL
           RETURNING registration_id""",
        email_key(email),
        at,
    )
    return [row["registration_id"] for row in rows]


async def forget_sent_messages_to(conn: Connection, *, email: str) -> None:
    """Sent outbox rows addressed to the e-mail (notifications keyed by it) go now rather than at retention."""
    await conn.execute("DELETE FROM outbox WHERE lower(key) = lower($1) AND sent_at IS NOT NULL", email)
