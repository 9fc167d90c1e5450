"""Use cases of a workshop's life: schedule, reschedule, cancel, change capacity. Each: load, decide, save.

A command that changes a workshop holds its row lock (``FOR UPDATE``) to the end of the
transaction, so changes to one workshop never interleave, whichever replica runs them.
"""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from shared.consumer import Incoming
from shared.contract.base import Reason
from shared.contract.workshops import (
    CancelWorkshop,
    ChangeWorkshopCapacity,
    LocationOut,
    RescheduleWorkshop,
    ScheduleWorkshop,
    WorkshopCancelled,
    WorkshopCapacityChanged,
    WorkshopRescheduled,
    WorkshopScheduled,
)
from shared.db import Connection
from shared.logging import get_logger
from shared.outbox import Recorder
from workshops import domain, notices, reminders
from workshops import repository as repo
from workshops.participants import fill_free_seats

log = get_logger(__name__)

ACTIVE = ("confirmed", "waitlisted")


async def _clash_refusals(
    conn: Connection, *, slot: domain.Slot, facilitators: list[str], workshop_id: UUID, policy: domain.Policy
) -> list[Reason]:
    around = await repo.surroundings(
        conn, slot=slot, facilitators=facilitators, travel_buffer=policy.travel_buffer, exclude=workshop_id
    )
    return domain.clash_refusals(slot, facilitators, around, travel_buffer=policy.travel_buffer)


async def schedule_workshop(
    conn: Connection, msg: Incoming[ScheduleWorkshop], out: Recorder, *, policy: domain.Policy
) -> None:
    command = msg.data
    slot = domain.Slot(command.starts_at, command.ends_at, command.location.town, command.location.venue)
    timing = domain.time_refusals(slot.starts_at, slot.ends_at, now=msg.envelope.time)
    clashes = (
        []
        if timing
        else await _clash_refusals(
            conn, slot=slot, facilitators=command.facilitators, workshop_id=command.workshop_id, policy=policy
        )
    )
    reasons = domain.schedule_refusals(
        exists=await repo.workshop_exists(conn, workshop_id=command.workshop_id),
        hosting_cluster=command.hosting_cluster,
        capacity=command.capacity,
        timing=timing,
        clashes=clashes,
        policy=policy,
    )
    if reasons:
        out.reject(reasons)
        return
    try:
        async with repo.refusing_clashes(conn):
            await repo.insert_workshop(
                conn,
                workshop_id=command.workshop_id,
                kind=command.kind,
                title=command.title,
                hosting_cluster=command.hosting_cluster,
                slot=slot,
                capacity=command.capacity,
                facilitators=command.facilitators,
            )
            await repo.book_facilitators(
                conn,
                workshop_id=command.workshop_id,
                facilitators=command.facilitators,
                slot=slot,
                travel_buffer=policy.travel_buffer,
            )
    except repo.Clash as clash:
        out.reject([domain.lost_race(clash.code)])
        return
    out.emit(
        WorkshopScheduled(
            workshop_id=command.workshop_id,
            kind=command.kind,
            title=command.title,
            hosting_cluster=command.hosting_cluster,
            location=LocationOut(town=slot.town, venue=slot.venue),
            starts_at=domain.local_time(slot.starts_at),
            ends_at=domain.local_time(slot.ends_at),
            capacity=command.capacity,
            facilitators=command.facilitators,
        ),
        key=str(command.workshop_id),
    )


async def reschedule_workshop(
    conn: Connection, msg: Incoming[RescheduleWorkshop], out: Recorder, *, policy: domain.Policy
) -> None:
    command = msg.data
    now = msg.envelope.time
    workshop = await repo.get_workshop(conn, workshop_id=command.workshop_id, lock=True)
    reasons = domain.open_workshop_refusals(workshop, now=now)
    timing = domain.time_refusals(command.starts_at, command.ends_at, now=now)
    reasons += timing
    if workshop is None or reasons:
        out.reject(reasons)
        return
    place = command.location
    slot = domain.Slot(
        command.starts_at,
        command.ends_at,
        place.town if place else workshop.town,
        place.venue if place else workshop.venue,
    )
    facilitators = list(workshop.facilitators)
    reasons = await _clash_refusals(
        conn, slot=slot, facilitators=facilitators, workshop_id=workshop.workshop_id, policy=policy
    )
    if reasons:
        out.reject(reasons)
        return
    try:
        async with repo.refusing_clashes(conn):
            version = await repo.move_workshop(
                conn, workshop_id=workshop.workshop_id, slot=slot, travel_buffer=policy.travel_buffer
            )
    except repo.Clash as clash:
        out.reject([domain.lost_race(clash.code)])
        return
    moved = replace(
        workshop,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        town=slot.town,
        venue=slot.venue,
        schedule_version=version,
    )
    active = await repo.registrations_in(conn, workshop_id=workshop.workshop_id, statuses=ACTIVE)
    # The old plan goes; the new one counts from the later of confirmation and this move (whose
    # notification tells a participant confirmed within the lead).
    await repo.withdraw_reminders(conn, workshop_id=workshop.workshop_id)
    await reminders.plan(
        conn,
        workshop=moved,
        confirmed=[
            (r.registration_id, max(r.confirmed_at, now))
            for r in active
            if r.status == "confirmed" and r.confirmed_at is not None and not r.erased
        ],
        lead=policy.reminder_lead,
    )
    out.emit(
        WorkshopRescheduled(
            workshop_id=workshop.workshop_id,
            starts_at=domain.local_time(moved.starts_at),
            ends_at=domain.local_time(moved.ends_at),
            location=LocationOut(town=moved.town, venue=moved.venue),
            previous_starts_at=domain.local_time(workshop.starts_at),
            previous_ends_at=domain.local_time(workshop.ends_at),
        ),
        key=str(workshop.workshop_id),
    )
    previous = {
        "previous_starts_at": domain.local_time(workshop.starts_at).isoformat(),
        "previous_ends_at": domain.local_time(workshop.ends_at).isoformat(),
    }
    for registration in active:
        notices.tell_registration(out, "rescheduled", workshop=moved, registration=registration, **previous)


async def cancel_workshop(
    conn: Connection,
    msg: Incoming[CancelWorkshop],
    out: Recorder,
    *,
    policy: domain.Policy,  # noqa: ARG001 - every use case takes the policy
) -> None:
    command = msg.data
    now = msg.envelope.time
    workshop = await repo.get_workshop(conn, workshop_id=command.workshop_id, lock=True)
    reasons = domain.open_workshop_refusals(workshop, now=now)
    if workshop is None or reasons:
        out.reject(reasons)
        return
    await repo.cancel_workshop(conn, workshop_id=workshop.workshop_id, at=now, reason=command.reason)
    await repo.withdraw_reminders(conn, workshop_id=workshop.workshop_id)
    out.emit(WorkshopCancelled(workshop_id=workshop.workshop_id, reason=command.reason), key=str(workshop.workshop_id))
    for registration in await repo.registrations_in(conn, workshop_id=workshop.workshop_id, statuses=ACTIVE):
        notices.tell_registration(out, "cancelled", workshop=workshop, registration=registration, reason=command.reason)


async def change_capacity(
    conn: Connection, msg: Incoming[ChangeWorkshopCapacity], out: Recorder, *, policy: domain.Policy
) -> None:
    command = msg.data
    now = msg.envelope.time
    workshop = await repo.get_workshop(conn, workshop_id=command.workshop_id, lock=True)
    reasons = domain.capacity_change_refusals(workshop, command.capacity, now=now)
    if workshop is None or reasons:
        out.reject(reasons)
        return
    await repo.set_capacity(conn, workshop_id=workshop.workshop_id, capacity=command.capacity)
    out.emit(
        WorkshopCapacityChanged(
            workshop_id=workshop.workshop_id, capacity=command.capacity, previous_capacity=workshop.capacity
        ),
        key=str(workshop.workshop_id),
    )
    await fill_free_seats(conn, out, workshop=replace(workshop, capacity=command.capacity), now=now, policy=policy)
    log.info("workshop.capacity_changed", workshop_id=str(workshop.workshop_id), capacity=command.capacity)
