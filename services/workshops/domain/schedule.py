"""Decisions on a workshop's place in the calendar: schedule, move, cancel, change its seats. Pure, no I/O.

Each takes the workshop as locked by its transaction (or None) and what the decision needs (what
else holds its facilitators and venue, its registrations), and returns an :class:`Outcome`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from shared.contract import workshops as contract
from shared.outcome import Outcome, refusal
from workshops.domain import reminders
from workshops.domain.calendar import (
    Clashes,
    Slot,
    Surroundings,
    Workshop,
    capacity_change_refusals,
    clashes,
    local_time,
    open_workshop_refusals,
    schedule_refusals,
    time_refusals,
)
from workshops.domain.notices import tell
from workshops.domain.policy import Policy
from workshops.domain.registrations import Registration, Seats, fill_seats


@dataclass(frozen=True, slots=True)
class Moved:
    """A workshop at its new time and place, and its reminders planned anew."""

    workshop: Workshop
    reminders: tuple[reminders.Planned, ...]


def slot_of(command: contract.ScheduleWorkshop) -> Slot:
    return Slot(command.starts_at, command.ends_at, command.location.town, command.location.venue)


def slot_after(workshop: Workshop, command: contract.RescheduleWorkshop) -> Slot:
    place = command.location
    return workshop.slot.moved(
        starts_at=command.starts_at,
        ends_at=command.ends_at,
        town=place.town if place else None,
        venue=place.venue if place else None,
    )


def schedule(
    command: contract.ScheduleWorkshop, *, exists: bool, around: Surroundings | None, now: datetime, policy: Policy
) -> Outcome[Workshop]:
    """A new workshop; its clashes are looked for (``around``) only when its times are valid."""
    slot = slot_of(command)
    timing = time_refusals(slot.starts_at, slot.ends_at, now=now)
    found = (
        clashes(slot, command.facilitators, around, travel_buffer=policy.travel_buffer)
        if around is not None and not timing
        else Clashes()
    )
    reasons = schedule_refusals(
        exists=exists,
        hosting_cluster=command.hosting_cluster,
        capacity=command.capacity,
        timing=timing,
        clashes=found.reasons,
        policy=policy,
    )
    if reasons:
        return refusal(*reasons, basis=found.basis)
    workshop = Workshop(
        workshop_id=command.workshop_id,
        kind=command.kind,
        title=command.title,
        hosting_cluster=command.hosting_cluster,
        town=slot.town,
        venue=slot.venue,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        capacity=command.capacity,
        seats_taken=0,
        facilitators=tuple(command.facilitators),
        cancelled=False,
        schedule_version=1,
    )
    scheduled = contract.WorkshopScheduled(
        workshop_id=workshop.workshop_id,
        kind=workshop.kind,
        title=workshop.title,
        hosting_cluster=workshop.hosting_cluster,
        location=contract.LocationOut(town=slot.town, venue=slot.venue),
        starts_at=local_time(slot.starts_at),
        ends_at=local_time(slot.ends_at),
        capacity=workshop.capacity,
        facilitators=command.facilitators,
    )
    return Outcome(workshop, (scheduled,))


def reschedule(
    workshop: Workshop | None,
    command: contract.RescheduleWorkshop,
    *,
    around: Surroundings | None,
    active: Sequence[Registration],
    now: datetime,
    policy: Policy,
) -> Outcome[Moved]:
    """A new time (and place) for an open workshop; its participants told, their reminders counted anew.

    A reminder counts from the later of confirmation and this move: someone told of the move
    within the reminder's lead gets no reminder as well.
    """
    reasons = open_workshop_refusals(workshop, now=now) + time_refusals(command.starts_at, command.ends_at, now=now)
    if workshop is None or reasons:
        return refusal(*reasons)
    slot = slot_after(workshop, command)
    found = clashes(slot, workshop.facilitators, around or Surroundings(), travel_buffer=policy.travel_buffer)
    if found.reasons:
        return refusal(*found.reasons, basis=found.basis)
    moved = replace(
        workshop,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        town=slot.town,
        venue=slot.venue,
        schedule_version=workshop.schedule_version + 1,
    )
    confirmed = [
        (r.registration_id, max(r.confirmed_at, now))
        for r in active
        if r.status == "confirmed" and r.confirmed_at is not None and not r.erased
    ]
    rescheduled = contract.WorkshopRescheduled(
        workshop_id=workshop.workshop_id,
        starts_at=local_time(moved.starts_at),
        ends_at=local_time(moved.ends_at),
        location=contract.LocationOut(town=moved.town, venue=moved.venue),
        previous_starts_at=local_time(workshop.starts_at),
        previous_ends_at=local_time(workshop.ends_at),
    )
    previous = {
        "previous_starts_at": local_time(workshop.starts_at).isoformat(),
        "previous_ends_at": local_time(workshop.ends_at).isoformat(),
    }
    told = tuple(notice for r in active for notice in tell(contract.RESCHEDULED, moved, r, **previous))
    planned = reminders.plan(moved, confirmed, lead=policy.reminder_lead)
    return Outcome(Moved(moved, planned), (rescheduled, *told))


def cancel(
    workshop: Workshop | None, command: contract.CancelWorkshop, *, active: Sequence[Registration], now: datetime
) -> Outcome[Workshop]:
    """An open workshop is called off; each registered and waitlisted participant is told."""
    reasons = open_workshop_refusals(workshop, now=now)
    if workshop is None or reasons:
        return refusal(*reasons)
    cancelled = contract.WorkshopCancelled(workshop_id=workshop.workshop_id, reason=command.reason)
    told = tuple(notice for r in active for notice in tell(contract.CANCELLED, workshop, r, reason=command.reason))
    return Outcome(replace(workshop, cancelled=True), (cancelled, *told))


def change_capacity(
    workshop: Workshop | None,
    command: contract.ChangeWorkshopCapacity,
    *,
    waitlist: Sequence[Registration],
    now: datetime,
    policy: Policy,
) -> Outcome[Seats]:
    """A workshop's number of seats; a rise promotes from the waitlist in order."""
    reasons = capacity_change_refusals(workshop, command.capacity, now=now)
    if workshop is None or reasons:
        return refusal(*reasons)
    changed = contract.WorkshopCapacityChanged(
        workshop_id=workshop.workshop_id, capacity=command.capacity, previous_capacity=workshop.capacity
    )
    filled = fill_seats(replace(workshop, capacity=command.capacity), waitlist, now=now, policy=policy)
    return Outcome(filled.state, (changed, *filled.messages))
