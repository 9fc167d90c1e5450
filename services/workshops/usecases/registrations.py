"""Use cases of participants: register, cancel a registration, record attendance, erase a person's data.

Every seat change holds the workshop's row lock first, so the seat count and the waitlist order
are read and written by one transaction at a time; ``seats_taken <= capacity`` is the backstop.
A registration then holds its person's lock, which an erasure takes first: a registration racing
an erasure of the same e-mail either commits before the erasure reads (and is erased) or after it.
"""

from __future__ import annotations

from shared import outbox
from shared.cause import Cause
from shared.contract.workshops import CancelRegistration, EraseParticipantData, RecordAttendance, RegisterParticipant
from shared.db import Connection
from shared.logging import get_logger
from shared.outbox import Recorder
from workshops import repository as repo
from workshops.domain import registrations
from workshops.domain.policy import Policy

log = get_logger(__name__)


class Registrations:
    _policy: Policy

    async def register(self, conn: Connection, command: RegisterParticipant, cause: Cause, out: Recorder) -> None:
        workshop = await repo.get_workshop(conn, workshop_id=command.workshop_id, lock=True)
        await repo.lock_person(conn, email=command.participant.email)
        facts = await repo.registration_facts(
            conn,
            workshop_id=None if workshop is None else workshop.workshop_id,
            email=command.participant.email,
            registration_id=command.registration_id,
            count_waitlist=workshop is not None and not workshop.has_free_seat,
        )
        outcome = registrations.register(
            workshop,
            command,
            email_taken=facts.email_taken,
            id_taken=facts.id_taken,
            waitlisted=facts.waitlisted,
            now=cause.at,
            policy=self._policy,
        )
        seats = outcome.state
        if seats is not None and seats.registration is not None:
            try:
                async with repo.refusing_clashes(conn):
                    await repo.add_registration(conn, registration=seats.registration, at=cause.at)
            except repo.Clash:
                outcome = registrations.lost_race()
            else:
                await repo.seat(conn, seats=seats, at=cause.at)
        out.record(outcome)

    async def cancel_registration(
        self, conn: Connection, command: CancelRegistration, cause: Cause, out: Recorder
    ) -> None:
        workshop = await repo.get_workshop(conn, workshop_id=command.workshop_id, lock=True)
        registration = await repo.get_registration(conn, registration_id=command.registration_id)
        waitlist = [] if workshop is None else await repo.waitlist(conn, workshop_id=workshop.workshop_id)
        outcome = registrations.cancel(workshop, registration, waitlist=waitlist, now=cause.at, policy=self._policy)
        if outcome.state is not None and registration is not None:
            await repo.cancel_registration(conn, registration=registration, at=cause.at)
            await repo.withdraw_reminders(conn, registration_ids=[registration.registration_id])
            await repo.seat(conn, seats=outcome.state, at=cause.at)
        out.record(outcome)

    async def record_attendance(self, conn: Connection, command: RecordAttendance, cause: Cause, out: Recorder) -> None:
        workshop = await repo.get_workshop(conn, workshop_id=command.workshop_id, lock=True)
        listed = (
            []
            if workshop is None
            else await repo.registrations_in(
                conn, workshop_id=workshop.workshop_id, statuses=registrations.STATUSES, ids=command.attended
            )
        )
        outcome = registrations.attend(workshop, command, listed=listed, now=cause.at)
        attended = outcome.state
        if attended is not None:
            await repo.record_attendance(
                conn, workshop_id=command.workshop_id, registration_ids=attended.registration_ids, at=attended.at
            )
            log.info("attendance.recorded", workshop_id=str(command.workshop_id), count=len(attended.registration_ids))
        out.record(outcome)

    async def erase(self, conn: Connection, command: EraseParticipantData, cause: Cause, out: Recorder) -> None:
        """Names and e-mails go; registrations, seats and attendance facts stay. The event carries no e-mail."""
        await repo.lock_person(conn, email=command.email)
        found = await repo.lock_registrations_of(conn, email=command.email)
        erasure_id = out.derived_id("erasure")
        outcome = registrations.erase(found, erasure_id=erasure_id)
        erased = outcome.state or ()
        if erased:
            await repo.erase(conn, registration_ids=erased, at=cause.at)
            await repo.withdraw_reminders(conn, registration_ids=erased)
        # Sent notifications keyed by the e-mail go now rather than at the outbox's retention; unsent
        # ones (a confirmation not yet published) go before they reach Kafka, where nothing is erased.
        await outbox.forget_sent_to(conn, key=command.email)
        unsent = await outbox.erase_unsent(conn, email=command.email)
        out.record(outcome)
        log.info("participant.erased", erasure_id=str(erasure_id), registrations=len(erased), unsent_messages=unsent)
