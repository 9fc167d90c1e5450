"""Queries of reminders: planning, withdrawing, and claiming due ones for the scheduler."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from shared.db import Connection
from workshops.domain.reminders import DueReminder, Planned, Settled


async def plan_reminders(conn: Connection, *, workshop_id: UUID, plan_version: int, planned: Sequence[Planned]) -> None:
    if not planned:
        return
    await conn.execute(
        """INSERT INTO reminders (registration_id, plan_version, workshop_id, due_at)
           SELECT r, $2, $1, d FROM unnest($3::uuid[], $4::timestamptz[]) AS u(r, d)
           ON CONFLICT DO NOTHING""",
        workshop_id,
        plan_version,
        [p.registration_id for p in planned],
        [p.due_at for p in planned],
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


async def due_reminders(conn: Connection, limit: int) -> list[DueReminder]:
    """Reminders due by the database's clock (one clock for every replica), earliest first."""
    rows = await conn.fetch(
        """SELECT registration_id, plan_version FROM reminders
           WHERE status = 'planned' AND due_at <= now() ORDER BY due_at LIMIT $1""",
        limit,
    )
    return [DueReminder(row["registration_id"], row["plan_version"]) for row in rows]


async def claim_reminder(conn: Connection, *, reminder: DueReminder) -> bool:
    """Lock a due, planned reminder until commit; False when another replica holds it or has settled it."""
    row = await conn.fetchrow(
        """SELECT 1 FROM reminders WHERE registration_id = $1 AND plan_version = $2
             AND status = 'planned' AND due_at <= now()
           FOR UPDATE SKIP LOCKED""",
        reminder.registration_id,
        reminder.plan_version,
    )
    return row is not None


async def settle_reminder(conn: Connection, *, reminder: DueReminder, settled: Settled) -> None:
    await conn.execute(
        "UPDATE reminders SET status = $3, settled_at = now() WHERE registration_id = $1 AND plan_version = $2",
        reminder.registration_id,
        reminder.plan_version,
        settled,
    )
