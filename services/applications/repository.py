"""asyncpg queries of the applications service: plain functions (conn, *, ...) that never commit.

Lock order, the same in every transaction: the organisation (a transaction-level advisory lock),
then its application rows. The organisation's lock is what keeps an attendance and a submission
of the same company from missing each other: whichever comes second sees the first.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from applications.domain.lifecycle import Application, Clarification, Commitment
from shared.contract.applications import ApplicationContent, ConfirmedBy
from shared.db import Connection

_COLUMNS = """application_id, status, version, content, submitted_content, plan_completed_at,
              commitment, commitment_confirmed_at, clarification_workshop_id, clarification_attended_at,
              ready_at, approved_nok, decline_reason, withdrawal_reason"""
_ORGANISATION_LOCK = "applications/organisation/"


async def lock_organisation(conn: Connection, *, organisation_number: str) -> None:
    """Serialise, until commit, every transaction that touches this organisation's applications or attendances."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1 || $2, 0))", _ORGANISATION_LOCK, organisation_number
    )


async def lock_application(conn: Connection, *, application_id: UUID) -> Application | None:
    """The application, locked for update after its organisation; None if it was never submitted."""
    # The organisation number never changes, so reading it before taking the lock is safe.
    await conn.execute(
        """SELECT pg_advisory_xact_lock(hashtextextended($2 || organisation_number, 0))
           FROM applications WHERE application_id = $1""",
        application_id,
        _ORGANISATION_LOCK,
    )
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM applications WHERE application_id = $1 FOR UPDATE", application_id
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
        """INSERT INTO applications (application_id, status, version, content, plan_completed_at,
                                     commitment, commitment_confirmed_at, clarification_workshop_id,
                                     clarification_attended_at, ready_at, approved_nok, decline_reason,
                                     withdrawal_reason, updated_at,
                                     organisation_number, submitted_content, submit_command_id, submitted_at)
           VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13, $14,
                   $15, $16::jsonb, $17, $14)""",
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
             approved_nok = $11, decline_reason = $12, withdrawal_reason = $13, updated_at = $14
           WHERE application_id = $1""",
        *_state(application, at),
    )


def _state(application: Application, at: datetime) -> tuple[object, ...]:
    """The id and the columns that can change, in the order both statements above number them."""
    commitment = application.commitment
    clarification = application.clarification
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
    )
