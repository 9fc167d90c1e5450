"""Use cases of participants: register, cancel a registration, record attendance, erase personal data.

Every seat change holds the workshop's row lock first, so the seat count and the waitlist order
are read and written by one transaction at a time; ``seats_taken <= capacity`` is the backstop.
"""

from __future__ import annotations

from datetime import datetime

from shared.consumer import Incoming
from shared.contract.workshops import (
    AttendanceRecorded,
    CancelRegistration,
    EraseParticipantData,
    ParticipantDataErased,
    ParticipantPromoted,
    ParticipantRegistered,
    ParticipantWaitlisted,
    RecordAttendance,
    RegisterParticipant,
    RegistrationCancelled,
)
from shared.db import Connection
from shared.logging import get_logger
from shared.outbox import Recorder
from workshops import domain, notices, reminders
from workshops import repository as repo

log = get_logger(__name__)


async def fill_free_seats(
    conn: Connection, out: Recorder, *, workshop: domain.Workshop, now: datetime, policy: domain.Policy
) -> None:
    """Promote the head of the waitlist into free seats, in order; the caller holds the workshop's lock."""
    chosen = domain.promotions(
        capacity=workshop.capacity,
        seats_taken=workshop.seats_taken,
        waitlist=await repo.waitlist(conn, workshop_id=workshop.workshop_id),
    )
    if not chosen:
        return
    await repo.promote(conn, workshop_id=workshop.workshop_id, registration_ids=chosen, at=now)
    await reminders.plan(conn, workshop=workshop, confirmed=[(r, now) for r in chosen], lead=policy.reminder_lead)
    for registration in await repo.registrations_in(
        conn, workshop_id=workshop.workshop_id, statuses=["confirmed"], ids=chosen
    ):
        out.emit(
            ParticipantPromoted(
                workshop_id=workshop.workshop_id,
                registration_id=registration.registration_id,
                organisation_number=registration.organisation_number,
            ),
            key=str(workshop.workshop_id),
        )
        notices.tell_registration(out, "promoted", workshop=workshop, registration=registration)


async def register_participant(
    conn: Connection, msg: Incoming[RegisterParticipant], out: Recorder, *, policy: domain.Policy
) -> None:
    command = msg.data
    now = msg.envelope.time
    person = command.participant
    workshop = await repo.get_workshop(conn, workshop_id=command.workshop_id, lock=True)
    reasons = domain.registration_refusals(
        workshop,
        now=now,
        email_taken=workshop is not None
        and await repo.email_is_registered(conn, workshop_id=workshop.workshop_id, email=person.email),
        id_taken=await repo.registration_exists(conn, registration_id=command.registration_id),
        organisation_number=person.organisation_number,
    )
    if workshop is None or reasons:
        out.reject(reasons)
        return
    placement = domain.placement(workshop)
    try:
        async with repo.refusing_clashes(conn):
            await repo.add_registration(
                conn,
                registration_id=command.registration_id,
                workshop_id=workshop.workshop_id,
                name=person.name,
                email=person.email,
                organisation_number=person.organisation_number,
                status=placement,
                at=now,
            )
    except repo.Clash as clash:
        out.reject([domain.lost_race(clash.code)])
        return
    key = str(workshop.workshop_id)
    if placement == "confirmed":
        await reminders.plan(
            conn, workshop=workshop, confirmed=[(command.registration_id, now)], lead=policy.reminder_lead
        )
        out.emit(
            ParticipantRegistered(
                workshop_id=workshop.workshop_id,
                registration_id=command.registration_id,
                organisation_number=person.organisation_number,
            ),
            key=key,
        )
        notices.tell_participant(
            out, "registered", workshop=workshop, registration_id=command.registration_id, email=person.email
        )
        return
    position = await repo.waitlist_position(conn, registration_id=command.registration_id)
    out.emit(
        ParticipantWaitlisted(
            workshop_id=workshop.workshop_id,
            registration_id=command.registration_id,
            position=position,
            organisation_number=person.organisation_number,
        ),
        key=key,
    )
    notices.tell_participant(
        out,
        "waitlisted",
        workshop=workshop,
        registration_id=command.registration_id,
        email=person.email,
        position=position,
    )


async def cancel_registration(
    conn: Connection, msg: Incoming[CancelRegistration], out: Recorder, *, policy: domain.Policy
) -> None:
    command = msg.data
    now = msg.envelope.time
    workshop = await repo.get_workshop(conn, workshop_id=command.workshop_id, lock=True)
    registration = await repo.get_registration(conn, registration_id=command.registration_id)
    if (
        workshop is None
        or registration is None
        or registration.workshop_id != workshop.workshop_id
        or registration.status == "cancelled"
    ):
        out.reject([domain.unknown_registration()])
        return
    await repo.cancel_registration(conn, registration=registration, at=now)
    await repo.withdraw_reminders(conn, registration_ids=[registration.registration_id])
    out.emit(
        RegistrationCancelled(
            workshop_id=workshop.workshop_id,
            registration_id=registration.registration_id,
            previous_status="confirmed" if registration.status == "confirmed" else "waitlisted",
        ),
        key=str(workshop.workshop_id),
    )
    if registration.status == "confirmed" and domain.waitlist_moves(workshop, now=now):
        freed = await repo.get_workshop(conn, workshop_id=workshop.workshop_id)
        if freed is not None:
            await fill_free_seats(conn, out, workshop=freed, now=now, policy=policy)


async def record_attendance(
    conn: Connection,
    msg: Incoming[RecordAttendance],
    out: Recorder,
    *,
    policy: domain.Policy,  # noqa: ARG001 - every use case takes the policy
) -> None:
    """One AttendanceRecorded per confirmed registration attending for the first time; others in the list pass."""
    command = msg.data
    attended = list(dict.fromkeys(command.attended))
    workshop = await repo.get_workshop(conn, workshop_id=command.workshop_id, lock=True)
    known = (
        set()
        if workshop is None
        else await repo.known_registration_ids(conn, workshop_id=workshop.workshop_id, ids=attended)
    )
    reasons = domain.attendance_refusals(
        workshop, now=msg.envelope.time, unknown=[r for r in attended if r not in known]
    )
    if workshop is None or reasons:
        out.reject(reasons)
        return
    attended_at = domain.local_time(workshop.starts_at)
    marked = await repo.record_attendance(
        conn, workshop_id=workshop.workshop_id, registration_ids=attended, at=attended_at
    )
    if not marked:
        # Nothing new to state: the command still gets its one answer, without repeating a fact.
        out.reject([domain.nothing_new_attended()])
        return
    for registration_id in attended:
        if registration_id in marked:
            out.emit(
                AttendanceRecorded(
                    workshop_id=workshop.workshop_id,
                    registration_id=registration_id,
                    kind=workshop.kind,
                    hosting_cluster=workshop.hosting_cluster,
                    organisation_number=marked[registration_id],
                    attended_at=attended_at,
                ),
                key=str(workshop.workshop_id),
            )
    log.info("attendance.recorded", workshop_id=str(workshop.workshop_id), count=len(marked))


async def erase_participant_data(
    conn: Connection,
    msg: Incoming[EraseParticipantData],
    out: Recorder,
    *,
    policy: domain.Policy,  # noqa: ARG001 - every use case takes the policy
) -> None:
    """Names and e-mails go; registrations, seats and attendance facts stay. The event carries no e-mail."""
    email = msg.data.email
    erased = await repo.erase_person(conn, email=email, at=msg.envelope.time)
    if erased:
        await repo.withdraw_reminders(conn, registration_ids=erased)
    await repo.forget_sent_messages_to(conn, email=email)
    erasure_id = out.derived_id("erasure")
    out.emit(ParticipantDataErased(erasure_id=erasure_id, registrations=len(erased)), key=str(erasure_id))
    log.info("participant.erased", erasure_id=str(erasure_id), registrations=len(erased))
