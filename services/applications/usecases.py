"""The applications service's use cases: load, decide, save, record; each runs in the consumer's transaction."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from applications import domain, repository
from applications.domain import Application, Clarification, Outcome
from applications.upstream import AttendanceRecorded
from shared.contract.applications import (
    AmendApplication,
    ConfirmManagementCommitment,
    SubmitApplication,
    WithdrawApplication,
)
from shared.db import Connection
from shared.logging import get_logger
from shared.outbox import Recorder

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Cause:
    """The message a change came from: its id and its time."""

    message_id: str
    at: datetime


# commands


async def submit(
    conn: Connection, out: Recorder, *, command: SubmitApplication, cause: Cause, clusters: Collection[str]
) -> None:
    # The organisation first: an attendance of the same company waits for this submission, or
    # this submission sees the attendance it waited for.
    await repository.lock_organisation(conn, organisation_number=command.applicant.organisation_number)
    existing = await repository.lock_application(conn, application_id=command.application_id)
    remembered = None
    if existing is None:
        remembered = await repository.first_attendance(conn, organisation_number=command.applicant.organisation_number)
    outcome = domain.submit(existing, command, clusters=clusters, remembered=remembered, at=cause.at)
    if outcome.application is not None:
        await repository.insert_application(
            conn, application=outcome.application, command_id=cause.message_id, at=cause.at
        )
    _record(out, outcome, command.application_id)


async def amend(conn: Connection, out: Recorder, *, command: AmendApplication, cause: Cause) -> None:
    await _decide(conn, out, command.application_id, cause, lambda app: domain.amend(app, command, at=cause.at))


async def confirm_commitment(
    conn: Connection, out: Recorder, *, command: ConfirmManagementCommitment, cause: Cause
) -> None:
    await _decide(conn, out, command.application_id, cause, lambda app: domain.confirm(app, command, at=cause.at))


async def withdraw(conn: Connection, out: Recorder, *, command: WithdrawApplication, cause: Cause) -> None:
    await _decide(conn, out, command.application_id, cause, lambda app: domain.withdraw(app, command))


# reactions


async def record_attendance(conn: Connection, out: Recorder, *, attendance: AttendanceRecorded, cause: Cause) -> None:
    """A clarification attendance: remembered for the company, and completes each of its open applications."""
    number = attendance.organisation_number
    if not domain.counts_as_clarification(kind=attendance.kind, organisation_number=number) or number is None:
        return
    await repository.lock_organisation(conn, organisation_number=number)
    await repository.remember_attendance(
        conn,
        organisation_number=number,
        workshop_id=attendance.workshop_id,
        registration_id=attendance.registration_id,
        attended_at=attendance.attended_at,
        message_id=cause.message_id,
    )
    clarification = Clarification(workshop_id=attendance.workshop_id, attended_at=attendance.attended_at)
    for application in await repository.lock_open_applications(conn, organisation_number=number):
        outcome = domain.clarify(application, clarification, at=cause.at)
        if outcome.application is not None:
            await repository.save_application(conn, application=outcome.application, at=cause.at)
        _record(out, outcome, application.application_id)


async def funding_granted(
    conn: Connection, out: Recorder, *, application_id: UUID, amount_nok: int, cause: Cause
) -> None:
    before, outcome = await _decide(
        conn, out, application_id, cause, lambda app: domain.approve(app, amount_nok=amount_nok)
    )
    _note_ignored(outcome, before, application_id, "granted")


async def funding_declined(conn: Connection, out: Recorder, *, application_id: UUID, reason: str, cause: Cause) -> None:
    before, outcome = await _decide(conn, out, application_id, cause, lambda app: domain.decline(app, reason=reason))
    _note_ignored(outcome, before, application_id, "declined")


# load, decide, save, record


async def _decide(
    conn: Connection,
    out: Recorder,
    application_id: UUID,
    cause: Cause,
    decide: Callable[[Application | None], Outcome],
) -> tuple[Application | None, Outcome]:
    application = await repository.lock_application(conn, application_id=application_id)
    outcome = decide(application)
    if outcome.application is not None:
        await repository.save_application(conn, application=outcome.application, at=cause.at)
    _record(out, outcome, application_id)
    return application, outcome


def _record(out: Recorder, outcome: Outcome, application_id: UUID) -> None:
    if outcome.refused:
        out.reject(outcome.reasons)
        return
    key = str(application_id)
    out.emit_all([(event, key) for event in outcome.events])
    for notice in outcome.notices:
        out.notify(
            audience=notice.audience,
            template=notice.template,
            about=key,
            params=notice.params,
            email=notice.email,
            role=notice.role,
            fact=notice.fact,
        )


def _note_ignored(outcome: Outcome, before: Application | None, application_id: UUID, decision: str) -> None:
    """A decision on an application not waiting for one (withdrawn meanwhile, unknown) changes nothing: log it."""
    if outcome.application is None:
        log.warning(
            "funding_outcome.ignored",
            decision=decision,
            application_id=str(application_id),
            status=before.status if before else None,
        )
