"""The applications service's use cases: load, decide, save, record; each runs in the transaction it is given."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from applications import repository
from applications.domain import deadlines, followup, lifecycle
from applications.domain.deadlines import DueDeadline
from applications.domain.lifecycle import Application, Clarification, Decision
from applications.domain.policy import Policy
from shared.cause import Cause
from shared.contract.applications import (
    AcceptFinalReport,
    AmendApplication,
    ConfirmManagementCommitment,
    ReturnFinalReport,
    SubmitApplication,
    SubmitFinalReport,
    SubmitProgressReport,
    WithdrawApplication,
)
from shared.contract.funding import FundingCaseClosed, FundingDeclined, FundingGranted, GrantAccepted, GrantLapsed
from shared.contract.workshops import AttendanceRecorded
from shared.db import Connection
from shared.logging import get_logger
from shared.outbox import Recorder

log = get_logger(__name__)


class UseCases:
    """Every use case of the service, with the policy a deployment configures."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy

    # commands

    async def submit(self, conn: Connection, command: SubmitApplication, cause: Cause, out: Recorder) -> None:
        # The organisation first: an attendance of the same company waits for this submission, or
        # this submission sees the attendance it waited for.
        number = command.applicant.organisation_number
        await repository.lock_organisation(conn, organisation_number=number)
        existing = await repository.lock_application(conn, application_id=command.application_id)
        remembered = None if existing else await repository.first_attendance(conn, organisation_number=number)
        outcome = lifecycle.submit(existing, command, policy=self._policy, remembered=remembered, at=cause.at)
        if outcome.state is not None:
            await repository.insert_application(
                conn, application=outcome.state, command_id=cause.message_id, at=cause.at
            )
        out.record(outcome)

    async def amend(self, conn: Connection, command: AmendApplication, cause: Cause, out: Recorder) -> None:
        await _decide(conn, out, command.application_id, cause, lambda app: lifecycle.amend(app, command, at=cause.at))

    async def confirm_commitment(
        self, conn: Connection, command: ConfirmManagementCommitment, cause: Cause, out: Recorder
    ) -> None:
        await _decide(
            conn, out, command.application_id, cause, lambda app: lifecycle.confirm(app, command, at=cause.at)
        )

    async def withdraw(self, conn: Connection, command: WithdrawApplication, cause: Cause, out: Recorder) -> None:
        await _decide(conn, out, command.application_id, cause, lambda app: lifecycle.withdraw(app, command))

    async def submit_progress_report(
        self, conn: Connection, command: SubmitProgressReport, cause: Cause, out: Recorder
    ) -> None:
        # The application's lock serialises the reports of one project; a report id reused across
        # projects races on the primary key instead, and the retry finds the first.
        application = await repository.lock_application(conn, application_id=command.application_id)
        existing = await repository.get_progress_report(conn, report_id=command.report_id)
        outcome = followup.submit_progress(application, existing, command)
        if outcome.state is not None:
            await repository.insert_progress_report(
                conn, report=outcome.state, command_id=cause.message_id, at=cause.at
            )
        out.record(outcome)

    async def submit_final_report(
        self, conn: Connection, command: SubmitFinalReport, cause: Cause, out: Recorder
    ) -> None:
        await _decide(conn, out, command.application_id, cause, lambda app: followup.submit_final(app, command))

    async def accept_final_report(
        self, conn: Connection, command: AcceptFinalReport, cause: Cause, out: Recorder
    ) -> None:
        await _decide(conn, out, command.application_id, cause, lambda app: followup.accept_final(app, command))

    async def return_final_report(
        self, conn: Connection, command: ReturnFinalReport, cause: Cause, out: Recorder
    ) -> None:
        await _decide(conn, out, command.application_id, cause, lambda app: followup.return_final(app, command))

    # reactions

    async def clarify(self, conn: Connection, attendance: AttendanceRecorded, cause: Cause, out: Recorder) -> None:
        """A clarification attendance: remembered for the company, and completes each of its open applications."""
        number = attendance.organisation_number
        if not lifecycle.counts_as_clarification(kind=attendance.kind, organisation_number=number) or number is None:
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
            outcome = lifecycle.clarify(application, clarification, at=cause.at)
            if outcome.state is not None:
                await repository.save_application(conn, application=outcome.state, at=cause.at)
            out.record(outcome)

    async def approve(self, conn: Connection, granted: FundingGranted, cause: Cause, out: Recorder) -> None:
        application_id, amount = granted.application_id, granted.amount_nok
        before, outcome = await _decide(
            conn, out, application_id, cause, lambda app: lifecycle.approve(app, amount_nok=amount)
        )
        _note_ignored(outcome, before, application_id, "granted")

    async def decline(self, conn: Connection, declined: FundingDeclined, cause: Cause, out: Recorder) -> None:
        application_id, reason = declined.application_id, declined.reason
        before, outcome = await _decide(
            conn, out, application_id, cause, lambda app: lifecycle.decline(app, reason=reason)
        )
        _note_ignored(outcome, before, application_id, "declined")

    async def start_project(self, conn: Connection, accepted: GrantAccepted, cause: Cause, out: Recorder) -> None:
        application_id = accepted.application_id
        before, outcome = await _decide(
            conn, out, application_id, cause, lambda app: followup.start(app, policy=self._policy)
        )
        _note_ignored(outcome, before, application_id, "grant_accepted")

    async def lapse(self, conn: Connection, lapsed: GrantLapsed, cause: Cause, out: Recorder) -> None:
        application_id = lapsed.application_id
        before, outcome = await _decide(conn, out, application_id, cause, followup.lapse)
        _note_ignored(outcome, before, application_id, "grant_lapsed")

    async def close(self, conn: Connection, closed: FundingCaseClosed, cause: Cause, out: Recorder) -> None:
        """A case completed by its final payment completes the project; one closed by withdrawal needs nothing here."""
        if closed.reason != "completed":
            return
        application_id = closed.application_id
        before, outcome = await _decide(conn, out, application_id, cause, followup.complete)
        _note_ignored(outcome, before, application_id, "case_completed")

    # the final report's deadline (scheduled: no message causes these)

    async def due_reminders(self, conn: Connection, limit: int) -> Sequence[DueDeadline]:
        return await repository.due_deadlines(conn, kind="reminder", limit=limit)

    async def due_overdue_notices(self, conn: Connection, limit: int) -> Sequence[DueDeadline]:
        return await repository.due_deadlines(conn, kind="overdue", limit=limit)

    async def settle_deadline(self, conn: Connection, deadline: DueDeadline, cause: Cause, out: Recorder) -> bool:
        """Send the reminder or the overdue notice if it still stands; False when another replica has it."""
        application = await repository.claim_deadline(conn, deadline=deadline)
        outcome = deadlines.settle(application, deadline.kind, at=cause.at)
        if outcome.state is None:
            return False
        await repository.save_application(conn, application=outcome.state, at=cause.at)
        out.record(outcome)
        log.info(
            "final_report_deadline.settled",
            application_id=str(deadline.application_id),
            kind=deadline.kind,
            sent=bool(outcome.notices),
        )
        return True


# load, decide, save, record


async def _decide(
    conn: Connection,
    out: Recorder,
    application_id: UUID,
    cause: Cause,
    decide: Callable[[Application | None], Decision],
) -> tuple[Application | None, Decision]:
    application = await repository.lock_application(conn, application_id=application_id)
    outcome = decide(application)
    if outcome.state is not None:
        await repository.save_application(conn, application=outcome.state, at=cause.at)
    out.record(outcome)
    return application, outcome


def _note_ignored(outcome: Decision, before: Application | None, application_id: UUID, decision: str) -> None:
    """Funding's news for an application not in the status it expects (withdrawn, unknown) changes nothing: log it."""
    if outcome.state is None:
        log.warning(
            "funding_outcome.ignored",
            decision=decision,
            application_id=str(application_id),
            status=before.status if before else None,
        )
