"""Queries of reminders: planning, withdrawing, and claiming due ones for the scheduler."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from shared.db import Connection
from workshops import domain
from workshops.repository.registrations import Registration, get_registration
from workshops.repository.schedule import get_workshop


async def plan_reminders(
    conn: Connection, *, workshop_id: UUID, plan_version: int, due: Sequence[tuple[UUID, datetime]]
) -> None:
    if not due:
        return
    await conn.execute(
        """INSERT INTO reminders (registration_id, plan_version, workshop_id, due_at)
           SELECT r, $2, $1, d FROM unnest($3::uuid[], $4::timestamptz[]) AS u(r, d)
           ON CONFLICT DO NOTHING""",
        workshop_id,
        plan_version,
        [registration_id for registration_id, _ in due],
        [at for _, at in due],
    )


async def withdraw_reminders(
    conn: Connection, *, workshop_id: UUID | None = None, registration_ids: Sequence[UUID] | None = None
) -> None:
    """Planned reminders of a workshop, or of some registrations, will not be sent."""
    await conn.execute(
        """UPDATE reminders SET status = 'withdrawn', settled_at = now()
           WHERE status = 'planned' AND ($1::uuid IS NULL OR workshop_id = $1)
             AND ($2::uuid[] IS NULL OR registration_id = ANY($2))""",
        workshop_id,
        None if registration_ids is None else list(registration_ids),
    )


@dataclass(frozen=True, slots=True)
class DueReminder:
    registration_id: UUID
    plan_version: int


async def due_reminders(conn: Connection, *, limit: int) -> list[DueReminder]:
    """Reminders due by the database's clock (one clock for every replica), earliest first."""
    rows = await conn.fetch(
        """SELECT registration_id, plan_version FROM reminders
           WHERE status = 'planned' AND due_at <= now() ORDER BY due_at LIMIT $1""",
        limit,
    )
    return [DueReminder(row["registration_id"], row["plan_version"]) for row in rows]


@dataclass(frozen=True, slots=True)
class ClaimedReminder:
    registration: Registration
    workshop: domain.Workshop
    sendable: bool


async def claim_reminder(conn: Connection, *, reminder: DueReminder) -> ClaimedReminder | None:
    """Lock a due, planned reminder (skipping one another replica holds) and settle it: sent, or withdrawn.

    It is sent only while it still stands: the registration confirmed and not erased, the
    workshop not cancelled and still at the version the reminder was planned for.
    """
    row = await conn.fetchrow(
        """SELECT 1 FROM reminders WHERE registration_id = $1 AND plan_version = $2
             AND status = 'planned' AND due_at <= now()
           FOR UPDATE SKIP LOCKED""",
        reminder.registration_id,
        reminder.plan_version,
    )
    if row is None:
        return None
    registration = await get_registration(conn, registration_id=reminder.registration_id)
    workshop = None if registration is None else await get_workshop(conn, workshop_id=registration.workshop_id)
    if registration is None or workshop is None:
        return None
    sendable = (
        registration.status == "confirmed"
        and not registration.erased
        and not workshop.cancelled
        and workshop.schedule_version == reminder.plan_version
    )
    await conn.execute(
        "UPDATE reminders SET status = $3, settled_at = now() WHERE registration_id = $1 AND plan_version = $2",
        reminder.registration_id,
        reminder.plan_version,
        "sent" if sendable else "withdrawn",
    )
    return ClaimedReminder(registration, workshop, sendable)
