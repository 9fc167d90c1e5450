"""Registrations: seats and the first-come waitlist, attendance, and erasing a person. Pure, no I/O.

Every seat change is decided on the workshop as locked by its transaction, so the seat count and
the waitlist order it reads are exact; the database's ``seats_taken <= capacity`` is the backstop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, Literal, TypeVar, get_args
from uuid import UUID

from shared.contract import workshops as contract
from shared.contract.base import Event, Reason, organisation_number_is_valid
from shared.outcome import Notice, Outcome, refusal
from workshops.domain import reminders
from workshops.domain.calendar import UNKNOWN_WORKSHOP, WORKSHOP_CLOSED, Workshop, local_time, open_workshop_refusals
from workshops.domain.notices import tell
from workshops.domain.policy import Policy

# Refusal codes: the contract's words.
ALREADY_REGISTERED: Final = "already_registered"
INVALID_ORGANISATION_NUMBER: Final = "invalid_organisation_number"
UNKNOWN_REGISTRATION: Final = "unknown_registration"
WORKSHOP_NOT_STARTED: Final = "workshop_not_started"
# Beyond the contract's list: a RecordAttendance that would state no new fact still gets its one answer.
ATTENDANCE_ALREADY_RECORDED: Final = "attendance_already_recorded"

_REGISTERED_MEANWHILE: Final = "registered by another command at the same moment"

Placement = Literal["confirmed", "waitlisted"]
Status = Literal["confirmed", "waitlisted", "cancelled"]
STATUSES: Final[tuple[Status, ...]] = get_args(Status)
T = TypeVar("T")


def email_key(email: str) -> str:
    """How e-mails compare: one person's registrations are found, and kept to one per workshop, by this."""
    return email.strip().casefold()


@dataclass(frozen=True, slots=True)
class Registration:
    """A person's place at a workshop: a seat, a waitlist place, or one withdrawn; ``erased`` once they asked."""

    registration_id: UUID
    workshop_id: UUID
    name: str
    email: str
    organisation_number: str | None
    status: Status
    confirmed_at: datetime | None = None
    attended_at: datetime | None = None
    erased: bool = False


@dataclass(frozen=True, slots=True)
class Seats:
    """What a decision does to a workshop's seats: the workshop after it, the registration it placed or withdrew,
    the waitlisted ones it promoted, and the reminders their seats plan."""

    workshop: Workshop
    registration: Registration | None = None
    promoted: tuple[UUID, ...] = ()
    reminders: tuple[reminders.Planned, ...] = ()


@dataclass(frozen=True, slots=True)
class Attendance:
    """Registrations attending for the first time, and when: the workshop's start."""

    registration_ids: tuple[UUID, ...]
    at: datetime


# registering


def registration_refusals(
    workshop: Workshop | None,
    *,
    now: datetime,
    email_taken: bool,
    id_taken: bool,
    organisation_number: str | None,
) -> list[Reason]:
    reasons = open_workshop_refusals(workshop, now=now)
    if email_taken:
        reasons.append(
            Reason(
                code=ALREADY_REGISTERED,
                field="participant.email",
                message="this e-mail holds a registration or waitlist place for the workshop",
            )
        )
    if id_taken:
        reasons.append(
            Reason(code=ALREADY_REGISTERED, field="registration_id", message="this registration id is in use")
        )
    if organisation_number is not None and not organisation_number_is_valid(organisation_number):
        reasons.append(
            Reason(
                code=INVALID_ORGANISATION_NUMBER,
                field="participant.organisation_number",
                message="not 9 digits with a valid mod-11 check digit",
            )
        )
    return reasons


def placement(workshop: Workshop) -> Placement:
    """A free seat confirms; a full workshop waitlists (promotion keeps the waitlist empty while seats are free)."""
    return "confirmed" if workshop.has_free_seat else "waitlisted"


def register(
    workshop: Workshop | None,
    command: contract.RegisterParticipant,
    *,
    email_taken: bool,
    id_taken: bool,
    waitlisted: int,
    now: datetime,
    policy: Policy,
) -> Outcome[Seats]:
    """A seat when one is free, else the next place on the waitlist (``waitlisted`` are there already)."""
    person = command.participant
    reasons = registration_refusals(
        workshop, now=now, email_taken=email_taken, id_taken=id_taken, organisation_number=person.organisation_number
    )
    if workshop is None or reasons:
        return refusal(*reasons)
    status = placement(workshop)
    registration = Registration(
        registration_id=command.registration_id,
        workshop_id=workshop.workshop_id,
        name=person.name,
        email=person.email,
        organisation_number=person.organisation_number,
        status=status,
        confirmed_at=now if status == "confirmed" else None,
    )
    if status == "waitlisted":
        position = waitlisted + 1
        event: Event = contract.ParticipantWaitlisted(
            workshop_id=workshop.workshop_id,
            registration_id=registration.registration_id,
            position=position,
            organisation_number=person.organisation_number,
        )
        told = tell(contract.WAITLISTED, workshop, registration, position=position)
        return Outcome(Seats(workshop, registration), (event, *told))
    planned = reminders.plan(workshop, [(registration.registration_id, now)], lead=policy.reminder_lead)
    seated = replace(workshop, seats_taken=workshop.seats_taken + 1)
    event = contract.ParticipantRegistered(
        workshop_id=workshop.workshop_id,
        registration_id=registration.registration_id,
        organisation_number=person.organisation_number,
    )
    return Outcome(
        Seats(seated, registration, reminders=planned), (event, *tell(contract.REGISTERED, workshop, registration))
    )


def lost_race() -> Outcome[Seats]:
    """The database's unique key caught what the check could not: a racing command registered the e-mail first."""
    return refusal(Reason(code=ALREADY_REGISTERED, field="participant.email", message=_REGISTERED_MEANWHILE))


# the waitlist


def promotions(*, capacity: int, seats_taken: int, waitlist: Sequence[T]) -> list[T]:
    """The head of the waitlist, first come first served, as far as free seats go."""
    free = max(0, capacity - seats_taken)
    return list(waitlist[:free])


def waitlist_moves(workshop: Workshop, *, now: datetime) -> bool:
    """A freed seat goes to the waitlist only while the workshop is open."""
    return not workshop.cancelled and not workshop.is_finished(now)


def fill_seats(
    workshop: Workshop, waitlist: Sequence[Registration], *, now: datetime, policy: Policy
) -> Outcome[Seats]:
    """Promote the head of the waitlist into free seats, in order; each promoted registration is told."""
    chosen = promotions(capacity=workshop.capacity, seats_taken=workshop.seats_taken, waitlist=waitlist)
    if not chosen:
        return Outcome(Seats(workshop))
    messages: list[Event | Notice] = []
    for registration in chosen:
        messages.append(
            contract.ParticipantPromoted(
                workshop_id=workshop.workshop_id,
                registration_id=registration.registration_id,
                organisation_number=registration.organisation_number,
            )
        )
        messages += tell(contract.PROMOTED, workshop, registration)
    ids = tuple(r.registration_id for r in chosen)
    planned = reminders.plan(workshop, [(r, now) for r in ids], lead=policy.reminder_lead)
    seated = replace(workshop, seats_taken=workshop.seats_taken + len(chosen))
    return Outcome(Seats(seated, promoted=ids, reminders=planned), tuple(messages))


# cancelling


def unknown_registration() -> Reason:
    return Reason(
        code=UNKNOWN_REGISTRATION, field="registration_id", message="no active registration with this id here"
    )


def cancel(
    workshop: Workshop | None,
    registration: Registration | None,
    *,
    waitlist: Sequence[Registration],
    now: datetime,
    policy: Policy,
) -> Outcome[Seats]:
    """The registration is withdrawn; a confirmed one's seat goes to the waitlist's head while the workshop is open."""
    if (
        workshop is None
        or registration is None
        or registration.workshop_id != workshop.workshop_id
        or registration.status == "cancelled"
    ):
        return refusal(unknown_registration())
    cancelled = contract.RegistrationCancelled(
        workshop_id=workshop.workshop_id,
        registration_id=registration.registration_id,
        previous_status="confirmed" if registration.status == "confirmed" else "waitlisted",
    )
    withdrawn = replace(registration, status="cancelled")
    if registration.status != "confirmed":
        return Outcome(Seats(workshop, withdrawn), (cancelled,))
    freed = replace(workshop, seats_taken=workshop.seats_taken - 1)
    moves = waitlist_moves(workshop, now=now)
    filled = fill_seats(freed, waitlist, now=now, policy=policy) if moves else Outcome(Seats(freed))
    seats = filled.state or Seats(freed)
    return Outcome(replace(seats, registration=withdrawn), (cancelled, *filled.messages))


# attendance


def attendance_refusals(workshop: Workshop | None, *, now: datetime, unknown: Sequence[UUID]) -> list[Reason]:
    if workshop is None:
        return [Reason(code=UNKNOWN_WORKSHOP, field="workshop_id", message="no workshop with this id")]
    reasons: list[Reason] = []
    if workshop.cancelled:
        reasons.append(Reason(code=WORKSHOP_CLOSED, field="workshop_id", message="the workshop is cancelled"))
    if not workshop.has_started(now):
        reasons.append(
            Reason(code=WORKSHOP_NOT_STARTED, field="workshop_id", message="the command's time is before the start")
        )
    reasons += [
        Reason(code=UNKNOWN_REGISTRATION, field=f"attended.{i}", message=f"{registration_id} is not of this workshop")
        for i, registration_id in enumerate(unknown)
    ]
    return reasons


def nothing_new_attended() -> Reason:
    return Reason(
        code=ATTENDANCE_ALREADY_RECORDED,
        field="attended",
        message="each registration listed already has its attendance recorded or holds no confirmed seat",
    )


def attend(
    workshop: Workshop | None, command: contract.RecordAttendance, *, listed: Sequence[Registration], now: datetime
) -> Outcome[Attendance]:
    """One AttendanceRecorded per confirmed registration attending for the first time; others in the list pass.

    ``listed`` are the workshop's registrations among those the command names. Attendance is the
    workshop's start.
    """
    attended = list(dict.fromkeys(command.attended))
    known = {r.registration_id: r for r in listed}
    reasons = attendance_refusals(workshop, now=now, unknown=[r for r in attended if r not in known])
    if workshop is None or reasons:
        return refusal(*reasons)
    new = [known[r] for r in attended if known[r].status == "confirmed" and known[r].attended_at is None]
    if not new:
        # Nothing new to state: the command still gets its one answer, without repeating a fact.
        return refusal(nothing_new_attended())
    attended_at = local_time(workshop.starts_at)
    events = tuple(
        contract.AttendanceRecorded(
            workshop_id=workshop.workshop_id,
            registration_id=registration.registration_id,
            kind=workshop.kind,
            hosting_cluster=workshop.hosting_cluster,
            organisation_number=registration.organisation_number,
            attended_at=attended_at,
        )
        for registration in new
    )
    return Outcome(Attendance(tuple(r.registration_id for r in new), attended_at), events)


# erasure


def erase(found: Sequence[Registration], *, erasure_id: UUID) -> Outcome[tuple[UUID, ...]]:
    """Names and e-mails of the person's registrations go; registrations, seats and attendance facts stay.

    The event is keyed by the erasure's id and carries no e-mail: what goes on Kafka cannot be erased.
    """
    erased = tuple(r.registration_id for r in found)
    return Outcome(erased, (contract.ParticipantDataErased(erasure_id=erasure_id, registrations=len(erased)),))
