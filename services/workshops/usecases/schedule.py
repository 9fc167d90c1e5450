"""Use cases of a workshop's place in the calendar: schedule, reschedule, cancel, change capacity.

A command that changes a workshop holds its row lock (``FOR UPDATE``) to the end of the
transaction, so changes to one workshop never interleave, whichever replica runs them. A booking
rule that only the database's exclusion constraints catch (a racing command won) is refused
with the same code, inside a savepoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from shared.cause import Cause
from shared.contract.workshops import CancelWorkshop, ChangeWorkshopCapacity, RescheduleWorkshop, ScheduleWorkshop
from shared.db import Connection
from shared.logging import get_logger
from shared.outbox import Recorder
from shared.outcome import refusal
from workshops import repository as repo
from workshops.domain import calendar, schedule
from workshops.domain.policy import Policy

log = get_logger(__name__)

ACTIVE = ("confirmed", "waitlisted")


class Schedule:
    _policy: Policy

    async def schedule(self, conn: Connection, command: ScheduleWorkshop, cause: Cause, out: Recorder) -> None:
        slot = schedule.slot_of(command)
        around = await self._around(conn, slot, command.facilitators, exclude=command.workshop_id, cause=cause)
        exists = await repo.workshop_exists(conn, workshop_id=command.workshop_id)
        outcome = schedule.schedule(command, exists=exists, around=around, now=cause.at, policy=self._policy)
        workshop = outcome.state
        if workshop is not None:
            try:
                async with repo.refusing_clashes(conn):
                    await repo.insert_workshop(conn, workshop=workshop)
                    await repo.book_facilitators(conn, workshop=workshop, travel_buffer=self._policy.travel_buffer)
            except repo.Clash as clash:
                outcome = refusal(calendar.lost_race(clash.code))
        out.record(outcome)

    async def reschedule(self, conn: Connection, command: RescheduleWorkshop, cause: Cause, out: Recorder) -> None:
        workshop = await repo.get_workshop(conn, workshop_id=command.workshop_id, lock=True)
        around, active = None, []
        if workshop is not None:
            slot = schedule.slot_after(workshop, command)
            around = await self._around(conn, slot, workshop.facilitators, exclude=workshop.workshop_id, cause=cause)
            active = await repo.registrations_in(conn, workshop_id=workshop.workshop_id, statuses=ACTIVE)
        outcome = schedule.reschedule(
            workshop, command, around=around, active=active, now=cause.at, policy=self._policy
        )
        moved = outcome.state
        if moved is not None:
            try:
                async with repo.refusing_clashes(conn):
                    await repo.move_workshop(conn, workshop=moved.workshop, travel_buffer=self._policy.travel_buffer)
            except repo.Clash as clash:
                outcome = refusal(calendar.lost_race(clash.code))
            else:
                # The old plan goes; the new one is the decision's.
                await repo.withdraw_reminders(conn, workshop_id=moved.workshop.workshop_id)
                await repo.plan_reminders(
                    conn,
                    workshop_id=moved.workshop.workshop_id,
                    plan_version=moved.workshop.schedule_version,
                    planned=moved.reminders,
                )
        out.record(outcome)

    async def cancel_workshop(self, conn: Connection, command: CancelWorkshop, cause: Cause, out: Recorder) -> None:
        workshop = await repo.get_workshop(conn, workshop_id=command.workshop_id, lock=True)
        active = (
            []
            if workshop is None
            else await repo.registrations_in(conn, workshop_id=workshop.workshop_id, statuses=ACTIVE)
        )
        outcome = schedule.cancel(workshop, command, active=active, now=cause.at)
        if outcome.state is not None:
            await repo.cancel_workshop(conn, workshop_id=command.workshop_id, at=cause.at, reason=command.reason)
            await repo.withdraw_reminders(conn, workshop_id=command.workshop_id)
        out.record(outcome)

    async def change_capacity(
        self, conn: Connection, command: ChangeWorkshopCapacity, cause: Cause, out: Recorder
    ) -> None:
        workshop = await repo.get_workshop(conn, workshop_id=command.workshop_id, lock=True)
        waitlist = [] if workshop is None else await repo.waitlist(conn, workshop_id=workshop.workshop_id)
        outcome = schedule.change_capacity(workshop, command, waitlist=waitlist, now=cause.at, policy=self._policy)
        if outcome.state is not None:
            await repo.set_capacity(conn, workshop_id=command.workshop_id, capacity=command.capacity)
            await repo.seat(conn, seats=outcome.state, at=cause.at)
            log.info("workshop.capacity_changed", workshop_id=str(command.workshop_id), capacity=command.capacity)
        out.record(outcome)

    async def _around(
        self, conn: Connection, slot: calendar.Slot, facilitators: Sequence[str], *, exclude: UUID, cause: Cause
    ) -> calendar.Surroundings | None:
        """What else holds the slot's facilitators and venue; looked up only for a slot whose times are valid."""
        if not calendar.bookable(slot, now=cause.at):
            return None
        return await repo.surroundings(
            conn, slot=slot, facilitators=facilitators, travel_buffer=self._policy.travel_buffer, exclude=exclude
        )
