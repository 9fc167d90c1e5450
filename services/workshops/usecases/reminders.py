"""The reminder a participant gets before a workshop: a time-driven use case, run by the shared scheduler.

Reminders are planned as rows in the transaction that confirms a seat or moves the workshop, so
the plan survives restarts. Each due reminder is settled in its own transaction that claims its
row (``SKIP LOCKED``: a replica never waits for another), marks it, and records the notification
in the outbox; the notification's id derives from the reminder, so a second recording is refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.cause import Cause
from shared.db import Connection
from shared.logging import get_logger
from shared.outbox import Recorder
from workshops import repository as repo
from workshops.domain import reminders
from workshops.domain.policy import Policy
from workshops.domain.reminders import DueReminder

log = get_logger(__name__)


class Reminders:
    _policy: Policy

    async def due_reminders(self, conn: Connection, limit: int) -> Sequence[DueReminder]:
        return await repo.due_reminders(conn, limit)

    async def send_reminder(self, conn: Connection, reminder: DueReminder, cause: Cause, out: Recorder) -> bool:
        """Send a due reminder while it still stands, else withdraw it; False when another replica has it."""
        if not await repo.claim_reminder(conn, reminder=reminder):
            return False
        registration = await repo.get_registration(conn, registration_id=reminder.registration_id)
        workshop = None if registration is None else await repo.get_workshop(conn, workshop_id=registration.workshop_id)
        outcome = reminders.settle(reminder, registration, workshop)
        if outcome.state is None:
            return False
        await repo.settle_reminder(conn, reminder=reminder, settled=outcome.state)
        out.record(outcome)
        log.info(
            "reminder.settled",
            registration_id=str(reminder.registration_id),
            plan_version=reminder.plan_version,
            sent=outcome.state == "sent",
            fact=cause.message_id,
        )
        return True
