"""Queries of registrations: seats, the waitlist, attendance, erasure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

import asyncpg

from shared.db import Connection
from workshops.domain.registrations import Registration, Seats, email_key
from workshops.repository.reminders import plan_reminders

_REGISTRATION_COLUMNS: Final = """registration_id, workshop_id, name, email, organisation_number, status,
    confirmed_at, attended_at, erased_at IS NOT NULL AS erased"""


def _registrations(rows: Sequence[asyncpg.Record]) -> list[Registration]:
    return [Registration(**dict(row)) for row in rows]


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
    return _registrations(rows)


async def waitlist(conn: Connection, *, workshop_id: UUID) -> list[Registration]:
    """The workshop's waitlist, first come first."""
    return await registrations_in(conn, workshop_id=workshop_id, statuses=["waitlisted"])


@dataclass(frozen=True, slots=True)
class RegistrationFacts:
    """What a registration's decision reads besides the workshop: read together, in one round trip."""

    email_taken: bool  # the e-mail holds a registration in this workshop that is not cancelled
    id_taken: bool  # the registration id is in use (in any workshop)
    waitlisted: int  # the workshop's waitlist's length, when asked for (a full workshop), else 0


async def registration_facts(
    conn: Connection, *, workshop_id: UUID | None, email: str, registration_id: UUID, count_waitlist: bool
) -> RegistrationFacts:
    """Read after the workshop's row lock and the person's lock: the answers hold until commit."""
    row = await conn.fetchrow(
        """SELECT EXISTS (SELECT 1 FROM registrations
                          WHERE workshop_id = $1 AND email_key = $2 AND status <> 'cancelled') AS email_taken,
                  EXISTS (SELECT 1 FROM registrations WHERE registration_id = $3) AS id_taken,
                  CASE WHEN $4 THEN (SELECT count(*) FROM registrations
                                     WHERE workshop_id = $1 AND status = 'waitlisted') ELSE 0 END AS waitlisted""",
        workshop_id,
        email_key(email),
        registration_id,
        count_waitlist,
    )
    if row is None:  # pragma: no cover - a SELECT without FROM returns its one row
        msg = "registration facts: no row"
        raise RuntimeError(msg)
    return RegistrationFacts(bool(row["email_taken"]), bool(row["id_taken"]), int(row["waitlisted"]))


async def add_registration(conn: Connection, *, registration: Registration, at: datetime) -> None:
    """A new registration; a confirmed one takes its seat in the same statement (the CHECK is the backstop)."""
    await conn.execute(
        """WITH added AS (
               INSERT INTO registrations (registration_id, workshop_id, name, email, email_key, organisation_number,
                                          status, registered_at, confirmed_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               RETURNING workshop_id)
           UPDATE workshops SET seats_taken = seats_taken + 1
           WHERE $7 = 'confirmed' AND workshop_id = (SELECT workshop_id FROM added)""",
        registration.registration_id,
        registration.workshop_id,
        registration.name,
        registration.email,
        email_key(registration.email),
        registration.organisation_number,
        registration.status,
        at,
        registration.confirmed_at,
    )


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


async def seat(conn: Connection, *, seats: Seats, at: datetime) -> None:
    """What a seat decision promoted, and the reminders its seats plan."""
    workshop = seats.workshop
    await promote(conn, workshop_id=workshop.workshop_id, registration_ids=seats.promoted, at=at)
    await plan_reminders(
        conn, workshop_id=workshop.workshop_id, plan_version=workshop.schedule_version, planned=seats.reminders
    )


async def cancel_registration(conn: Connection, *, registration: Registration, at: datetime) -> None:
    """The registration, as it was, is withdrawn; a confirmed one gives its seat back."""
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
) -> None:
    """Mark confirmed registrations as attended, once (the conditions are the backstop of the decision's)."""
    await conn.execute(
        """UPDATE registrations SET attended_at = $3
           WHERE workshop_id = $1 AND registration_id = ANY($2::uuid[]) AND status = 'confirmed'
             AND attended_at IS NULL""",
        workshop_id,
        list(registration_ids),
        at,
    )


async def has_clarification_attendance(conn: Connection, *, organisation_number: str) -> bool:
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM registrations r JOIN workshops w USING (workshop_id)
                              WHERE r.organisation_number = $1 AND r.attended_at IS NOT NULL
                                AND w.kind = 'clarification')""",
            organisation_number,
        )
    )


async def lock_person(conn: Connection, *, email: str) -> None:
    """Hold this person's lock until commit: an erasure and a registration of one e-mail then run one at a time.

    A registration inserted by a transaction that has not committed is invisible to an erasure's
    read, so without it a registration racing an erasure would keep the e-mail that was to go.
    The two-key form keeps these locks apart from the relay's one-key advisory lock.
    """
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('workshops.person'), hashtext($1))", email_key(email))


async def lock_registrations_of(conn: Connection, *, email: str) -> list[Registration]:
    """Every registration of a person not yet erased, locked until commit."""
    rows = await conn.fetch(
        f"""SELECT {_REGISTRATION_COLUMNS} FROM registrations WHERE email_key = $1 AND erased_at IS NULL
            ORDER BY line FOR UPDATE""",
        email_key(email),
    )
    return _registrations(rows)


async def erase(conn: Connection, *, registration_ids: Sequence[UUID], at: datetime) -> None:
    """Replace name and e-mail in these registrations."""
    await conn.execute(
        """UPDATE registrations
           SET name = 'erased', email = 'erased', email_key = 'erased:' || registration_id::text, erased_at = $2
           WHERE registration_id = ANY($1::uuid[])""",
        list(registration_ids),
        at,
    )
