"""asyncpg queries of the applications service: plain functions (conn, *, ...) that never commit.

Lock order, the same in every transaction: the organisation (a transaction-level advisory lock),
then its application rows. The organisation's lock is what keeps an attendance and a submission
of the same company from missing each other: whichever comes second sees the first.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict, TypeAdapter

from applications.domain.deadlines import DueDeadline, Kind
from applications.domain.lifecycle import Application, Clarification, Commitment
from applications.domain.project import FinalReport, ProgressReport, Project
from shared.contract.applications import ApplicationContent, ConfirmedBy, IndicatorValue, Result
from shared.db import Connection

_COLUMNS = """application_id, status, version, content, submitted_content, plan_completed_at,
              commitment, commitment_confirmed_at, clarification_workshop_id, clarification_attended_at,
              ready_at, approved_nok, decline_reason, withdrawal_reason,
              final_report_due_at, final_report_reminder_at, final_report_reminder_settled_at,
              final_report_overdue_settled_at, final_report, final_report_status, final_report_submissions"""
_PROJECT_COLUMNS = """final_report_due_at, final_report_reminder_at, final_report_reminder_settled_at,
                      final_report_overdue_settled_at, final_report, final_report_status, final_report_submissions"""
_ORGANISATION_LOCK = "applications/organisation/"


async def lock_organisation(conn: Connection, *, organisation_number: str) -> None:
    """Serialise, until commit, every transaction that touches this organisation's applications or attendances."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1 || $2, 0))", _ORGANISATION_LOCK, organisation_number
    )


async def lock_application(conn: Connection, *, application_id: UUID) -> Application | None:
    """The application, locked for update after its organisation; None if it was never submitted."""
    # One round trip: the organisation's lock is taken in the scan's projection, below the row lock
    # (EXPLAIN VERBOSE shows it under LockRows), so the order is the organisation's, then the row's.
    # A row changed while this waited is read again, newest version, once its lock is held (the
    # organisation number never changes, so the lock taken was the right one).
    row = await conn.fetchrow(
        f"""SELECT pg_advisory_xact_lock(hashtextextended($2 || organisation_number, 0)) AS organisation_locked,
                   {_COLUMNS}
            FROM applications WHERE application_id = $1 FOR UPDATE""",
        application_id,
        _ORGANISATION_LOCK,
    )
    return _application(row)


async def lock_open_applications(conn: Connection, *, organisation_number: str) -> list[Application]:
    """The organisation's applications still waiting for a clarification, locked, in a stable order."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM applications
            WHERE organisation_number = $1 AND status = 'submitted' AND clarification_workshop_id IS NULL
            ORDER BY application_id FOR UPDATE""",
        organisation_number,
    )
    return [app for app in map(_application, rows) if app is not None]


async def insert_application(conn: Connection, *, application: Application, command_id: str, at: datetime) -> None:
    """A new application; a racing insert of the same id fails on the primary key and the consumer retries it."""
    await conn.execute(
        f"""INSERT INTO applications (application_id, status, version, content, plan_completed_at,
                                     commitment, commitment_confirmed_at, clarification_workshop_id,
                                     clarification_attended_at, ready_at, approved_nok, decline_reason,
                                     withdrawal_reason, updated_at, {_PROJECT_COLUMNS},
                                     organisation_number, submitted_content, submit_command_id, submitted_at)
           VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13, $14,
                   $15, $16, $17, $18, $19::jsonb, $20, $21,
                   $22, $23::jsonb, $24, $14)""",
        *_state(application, at),
        application.organisation_number,
        application.submitted.model_dump_json(),
        command_id,
    )


async def save_application(conn: Connection, *, application: Application, at: datetime) -> None:
    """Write what can change: status, version, content, preconditions and outcome."""
    await conn.execute(
        """UPDATE applications SET
             status = $2, version = $3, content = $4::jsonb, plan_completed_at = $5,
             commitment = $6::jsonb, commitment_confirmed_at = $7,
             clarification_workshop_id = $8, clarification_attended_at = $9, ready_at = $10,
             approved_nok = $11, decline_reason = $12, withdrawal_reason = $13, updated_at = $14,
             final_report_due_at = $15, final_report_reminder_at = $16, final_report_reminder_settled_at = $17,
             final_report_overdue_settled_at = $18, final_report = $19::jsonb, final_report_status = $20,
             final_report_submissions = $21
           WHERE application_id = $1""",
        *_state(application, at),
    )


def _state(application: Application, at: datetime) -> tuple[object, ...]:
    """The id and the columns that can change, in the order both statements above number them."""
    commitment = application.commitment
    clarification = application.clarification
    project = application.project
    report = project.final_report if project else None
    return (
        application.application_id,
        application.status,
        application.version,
        application.content.model_dump_json(),
        application.plan_completed_at,
        commitment.confirmed_by.model_dump_json() if commitment else None,
        commitment.confirmed_at if commitment else None,
        clarification.workshop_id if clarification else None,
        clarification.attended_at if clarification else None,
        application.ready_at,
        application.approved_nok,
        application.decline_reason,
        application.withdrawal_reason,
        at,
        project.final_report_due if project else None,
        project.reminder_at if project else None,
        project.reminded_at if project else None,
        project.overdue_at if project else None,
        _report_json(report) if report else None,
        report.status if report else None,
        report.submissions if report else 0,
    )


class _StoredReport(BaseModel):
    """The final report's text as the `final_report` column holds it; status and submissions are columns."""

    model_config = ConfigDict(frozen=True)

    summary: str
    results: list[Result]
    effects: str
    accepted_by: str | None = None


def _report_json(report: FinalReport) -> str:
    stored = _StoredReport(
        summary=report.summary, results=list(report.results), effects=report.effects, accepted_by=report.accepted_by
    )
    return stored.model_dump_json()


def _project(row: asyncpg.Record) -> Project | None:
    if row["final_report_due_at"] is None:
        return None
    report = None
    if row["final_report"] is not None:
        stored = _StoredReport.model_validate_json(row["final_report"])
        report = FinalReport(
            summary=stored.summary,
            results=tuple(stored.results),
            effects=stored.effects,
            status=row["final_report_status"],
            submissions=row["final_report_submissions"],
            accepted_by=stored.accepted_by,
        )
    return Project(
        final_report_due=row["final_report_due_at"],
        reminder_at=row["final_report_reminder_at"],
        reminded_at=row["final_report_reminder_settled_at"],
        overdue_at=row["final_report_overdue_settled_at"],
        final_report=report,
    )


async def remember_attendance(
    conn: Connection,
    *,
    organisation_number: str,
    workshop_id: UUID,
    registration_id: UUID | None,
    attended_at: datetime,
    message_id: str,
) -> None:
    await conn.execute(
        """INSERT INTO clarification_attendances
             (organisation_number, workshop_id, registration_id, attended_at, message_id)
           VALUES ($1, $2, $3, $4, $5)""",
        organisation_number,
        workshop_id,
        registration_id,
        attended_at,
        message_id,
    )


async def first_attendance(conn: Connection, *, organisation_number: str) -> Clarification | None:
    """The organisation's earliest remembered clarification attendance, if any."""
    row = await conn.fetchrow(
        """SELECT workshop_id, attended_at FROM clarification_attendances
           WHERE organisation_number = $1 ORDER BY attended_at, id LIMIT 1""",
        organisation_number,
    )
    if row is None:
        return None
    return Clarification(workshop_id=row["workshop_id"], attended_at=row["attended_at"])


def _application(row: asyncpg.Record | None) -> Application | None:
    if row is None:
        return None
    commitment = (
        Commitment(
            confirmed_by=ConfirmedBy.model_validate_json(row["commitment"]),
            confirmed_at=row["commitment_confirmed_at"],
        )
        if row["commitment"] is not None
        else None
    )
    clarification = (
        Clarification(workshop_id=row["clarification_workshop_id"], attended_at=row["clarification_attended_at"])
        if row["clarification_workshop_id"] is not None
        else None
    )
    return Application(
        application_id=row["application_id"],
        content=ApplicationContent.model_validate_json(row["content"]),
        submitted=ApplicationContent.model_validate_json(row["submitted_content"]),
        status=row["status"],
        version=row["version"],
        plan_completed_at=row["plan_completed_at"],
        commitment=commitment,
        clarification=clarification,
        ready_at=row["ready_at"],
        approved_nok=row["approved_nok"],
        decline_reason=row["decline_reason"],
        withdrawal_reason=row["withdrawal_reason"],
        project=_project(row),
    )


# progress reports

_INDICATORS = TypeAdapter(list[IndicatorValue])


async def get_progress_report(conn: Connection, *, report_id: UUID) -> ProgressReport | None:
    row = await conn.fetchrow(
        "SELECT report_id, application_id, period_to, summary, indicators FROM progress_reports WHERE report_id = $1",
        report_id,
    )
    if row is None:
        return None
    return ProgressReport(
        report_id=row["report_id"],
        application_id=row["application_id"],
        period_to=row["period_to"],
        summary=row["summary"],
        indicators=tuple(_INDICATORS.validate_json(row["indicators"])),
    )


async def insert_progress_report(conn: Connection, *, report: ProgressReport, command_id: str, at: datetime) -> None:
    await conn.execute(
        """INSERT INTO progress_reports (report_id, application_id, period_to, summary, indicators, command_id,
                                         submitted_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)""",
        report.report_id,
        report.application_id,
        report.period_to,
        report.summary,
        _INDICATORS.dump_json(list(report.indicators)).decode(),
        command_id,
        at,
    )


# the final report's deadline, for the scheduler

# The planned time and settled mark of each kind of deadline message (fixed names, never input).
_DEADLINE_COLUMNS: dict[Kind, tuple[str, str]] = {
    "reminder": ("final_report_reminder_at", "final_report_reminder_settled_at"),
    "overdue": ("final_report_due_at", "final_report_overdue_settled_at"),
}


async def due_deadlines(conn: Connection, *, kind: Kind, limit: int) -> list[DueDeadline]:
    """Running projects whose message of this kind is due by the database's clock (one clock for every replica)."""
    planned, settled = _DEADLINE_COLUMNS[kind]
    rows = await conn.fetch(
        f"""SELECT application_id FROM applications
            WHERE status = 'running' AND {settled} IS NULL AND {planned} <= now()
            ORDER BY {planned} LIMIT $1""",
        limit,
    )
    return [DueDeadline(row["application_id"], kind) for row in rows]


async def claim_deadline(conn: Connection, *, deadline: DueDeadline) -> Application | None:
    """The application, locked until commit, while its message is still due; None if another replica holds it.

    ``SKIP LOCKED``: a replica never waits, and a command on the application in flight delays the
    message to the next poll. The organisation's lock is not needed: only this row changes.
    """
    planned, settled = _DEADLINE_COLUMNS[deadline.kind]
    row = await conn.fetchrow(
        f"""SELECT {_COLUMNS} FROM applications
            WHERE application_id = $1 AND status = 'running' AND {settled} IS NULL AND {planned} <= now()
            FOR UPDATE SKIP LOCKED""",
        deadline.application_id,
    )
    return _application(row)
