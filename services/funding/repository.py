"""asyncpg queries of the funding service: plain functions (conn, *, ...) that never commit.

Lock order, the same in every transaction, so that two of them never wait on each other in a
circle: funding case, then organisation, then budget.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

from funding.domain import Budget, Case, CaseStatus, Threshold
from shared.db import Connection

LedgerEntry = Literal["allocation", "grant", "decline", "release", "close"]


@dataclass(frozen=True, slots=True)
class NewCase:
    application_id: UUID
    organisation_number: str
    applicant_name: str
    size: str
    lead_cluster: str
    project_type: str
    title: str
    requested_nok: int
    total_cost_nok: int


# budgets


def _budget(row: asyncpg.Record | None) -> Budget | None:
    if row is None:
        return None
    return Budget(row["programme_year"], row["total_nok"], row["remaining_nok"])


async def add_allocation(
    conn: Connection,
    *,
    allocation_id: UUID,
    programme_year: int,
    amount_nok: int,
    source: str,
    command_id: str,
    at: datetime,
) -> Budget | None:
    """Record the allocation and add it to the year; None when the allocation id was used before."""
    inserted = await conn.fetchval(
        """INSERT INTO allocations (allocation_id, programme_year, amount_nok, source, command_id, allocated_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (allocation_id) DO NOTHING RETURNING true""",
        allocation_id,
        programme_year,
        amount_nok,
        source,
        command_id,
        at,
    )
    if not inserted:
        return None
    row = await conn.fetchrow(
        """INSERT INTO budgets AS b (programme_year, total_nok, remaining_nok) VALUES ($1, $2, $2)
           ON CONFLICT (programme_year) DO UPDATE
             SET total_nok = b.total_nok + excluded.total_nok, remaining_nok = b.remaining_nok + excluded.remaining_nok
           RETURNING programme_year, total_nok, remaining_nok""",
        programme_year,
        amount_nok,
    )
    return _budget(row)


async def lock_budget(conn: Connection, *, programme_year: int) -> Budget | None:
    row = await conn.fetchrow(
        "SELECT programme_year, total_nok, remaining_nok FROM budgets WHERE programme_year = $1 FOR UPDATE",
        programme_year,
    )
    return _budget(row)


async def take_from_budget(conn: Connection, *, programme_year: int, amount_nok: int) -> Budget | None:
    """Take the money if it is there, in one guarded statement; None if it is not.

    Under READ COMMITTED a second writer waits for the row lock and then re-checks the WHERE
    against the committed row, so two racing grants can never both pass.
    """
    row = await conn.fetchrow(
        """UPDATE budgets SET remaining_nok = remaining_nok - $1
           WHERE programme_year = $2 AND remaining_nok >= $1
           RETURNING programme_year, total_nok, remaining_nok""",
        amount_nok,
        programme_year,
    )
    return _budget(row)


async def return_to_budget(conn: Connection, *, programme_year: int, amount_nok: int) -> Budget | None:
    row = await conn.fetchrow(
        """UPDATE budgets SET remaining_nok = remaining_nok + $1
           WHERE programme_year = $2 AND remaining_nok + $1 <= total_nok
           RETURNING programme_year, total_nok, remaining_nok""",
        amount_nok,
        programme_year,
    )
    return _budget(row)


async def crossed_thresholds(conn: Connection, *, programme_year: int) -> frozenset[str]:
    rows = await conn.fetch("SELECT threshold FROM budget_thresholds WHERE programme_year = $1", programme_year)
    return frozenset(row["threshold"] for row in rows)


async def record_threshold(
    conn: Connection, *, programme_year: int, threshold: Threshold, remaining_nok: int, at: datetime
) -> bool:
    """True if this threshold was crossed for the first time in the year (the primary key decides)."""
    inserted = await conn.fetchval(
        """INSERT INTO budget_thresholds (programme_year, threshold, remaining_nok, crossed_at)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true""",
        programme_year,
        threshold,
        remaining_nok,
        at,
    )
    return bool(inserted)


# cases


async def open_case(conn: Connection, *, case: NewCase, at: datetime) -> bool:
    """Open the case; False if it was opened before."""
    inserted = await conn.fetchval(
        """INSERT INTO funding_cases (application_id, organisation_number, applicant_name, size, lead_cluster,
                                      project_type, title, requested_nok, total_cost_nok, opened_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
           ON CONFLICT (application_id) DO NOTHING RETURNING true""",
        case.application_id,
        case.organisation_number,
        case.applicant_name,
        case.size,
        case.lead_cluster,
        case.project_type,
        case.title,
        case.requested_nok,
        case.total_cost_nok,
        at,
    )
    return bool(inserted)


async def lock_case(conn: Connection, *, application_id: UUID) -> Case | None:
    """The case and its active grant, with the case row locked until the transaction ends."""
    row = await conn.fetchrow(
        """SELECT c.application_id, c.organisation_number, c.size, c.requested_nok, c.total_cost_nok, c.status,
                  g.amount_nok AS granted_nok, g.programme_year AS granted_year
           FROM funding_cases c
           LEFT JOIN grants g ON g.application_id = c.application_id AND g.released_at IS NULL
           WHERE c.application_id = $1
           FOR UPDATE OF c""",
        application_id,
    )
    if row is None:
        return None
    return Case(
        application_id=row["application_id"],
        organisation_number=row["organisation_number"],
        size=row["size"],
        requested_nok=row["requested_nok"],
        total_cost_nok=row["total_cost_nok"],
        status=row["status"],
        granted_nok=row["granted_nok"],
        granted_year=row["granted_year"],
    )


async def set_case_status(conn: Connection, *, application_id: UUID, status: CaseStatus, at: datetime) -> None:
    await conn.execute(
        "UPDATE funding_cases SET status = $2, updated_at = $3 WHERE application_id = $1", application_id, status, at
    )


# organisations and grants


async def lock_organisation(conn: Connection, *, organisation_number: str) -> None:
    """Serialise de minimis decisions for one organisation: the row exists, then it is ours until commit."""
    await conn.execute(
        "INSERT INTO organisations (organisation_number) VALUES ($1) ON CONFLICT DO NOTHING", organisation_number
    )
    await conn.execute("SELECT 1 FROM organisations WHERE organisation_number = $1 FOR UPDATE", organisation_number)


async def active_aid_by_year(conn: Connection, *, organisation_number: str, years: Iterable[int]) -> dict[int, int]:
    """The organisation's granted, not released, aid per programme year, for the given years."""
    rows = await conn.fetch(
        """SELECT programme_year, sum(amount_nok)::bigint AS total FROM grants
           WHERE organisation_number = $1 AND released_at IS NULL AND programme_year = ANY($2::integer[])
           GROUP BY programme_year""",
        organisation_number,
        list(years),
    )
    return {row["programme_year"]: row["total"] for row in rows}


async def insert_grant(
    conn: Connection,
    *,
    application_id: UUID,
    organisation_number: str,
    programme_year: int,
    amount_nok: int,
    decided_by: str,
    reason: str,
    command_id: str,
    at: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO grants (application_id, organisation_number, programme_year, amount_nok, decided_by, reason,
                               command_id, granted_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        application_id,
        organisation_number,
        programme_year,
        amount_nok,
        decided_by,
        reason,
        command_id,
        at,
    )


async def release_grant(conn: Connection, *, application_id: UUID, at: datetime) -> None:
    await conn.execute(
        """UPDATE grants SET released_at = greatest($2, granted_at)
           WHERE application_id = $1 AND released_at IS NULL""",
        application_id,
        at,
    )


# the audit history


async def append_ledger(
    conn: Connection,
    *,
    entry: LedgerEntry,
    actor: str,
    reason: str,
    command_id: str,
    at: datetime,
    programme_year: int | None = None,
    application_id: UUID | None = None,
    organisation_number: str | None = None,
    amount_nok: int = 0,
) -> None:
    await conn.execute(
        """INSERT INTO ledger (entry, programme_year, application_id, organisation_number, amount_nok, actor, reason,
                               command_id, occurred_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        entry,
        programme_year,
        application_id,
        organisation_number,
        amount_nok,
        actor,
        reason,
        command_id,
        at,
    )
