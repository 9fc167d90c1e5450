"""asyncpg queries of the funding service: plain functions (conn, *, ...) that never commit.

Lock order, the same in every transaction, so that two of them never wait on each other in a
circle: funding case, then organisation, then budget (the year's lock, then its row).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import astuple
from datetime import datetime
from typing import Final
from uuid import UUID

import asyncpg

from funding.domain import ledger
from funding.domain.budgets import Budget, Threshold
from funding.domain.cases import Case, CaseStatus
from shared.contract.funding import AllocateBudget, FundingCaseOpened
from shared.db import Connection

_YEAR_LOCK = "funding/budget/"


# budgets


def _budget(row: asyncpg.Record | None) -> Budget | None:
    return None if row is None else Budget(**dict(row))


async def lock_year(conn: Connection, *, programme_year: int) -> None:
    """Serialise, until commit, allocations to one year, also before the year has a budget row to lock."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{_YEAR_LOCK}{programme_year}")


async def lock_budget(conn: Connection, *, programme_year: int) -> Budget | None:
    row = await conn.fetchrow(
        "SELECT programme_year, total_nok, remaining_nok FROM budgets WHERE programme_year = $1 FOR UPDATE",
        programme_year,
    )
    return _budget(row)


async def record_allocation(conn: Connection, *, command: AllocateBudget, command_id: str, at: datetime) -> bool:
    """Record the allocation; False when its id was used before (the unique key decides, racing commands too)."""
    inserted = await conn.fetchval(
        """INSERT INTO allocations (allocation_id, programme_year, amount_nok, source, command_id, allocated_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (allocation_id) DO NOTHING RETURNING true""",
        command.allocation_id,
        command.programme_year,
        command.amount_nok,
        command.source,
        command_id,
        at,
    )
    return bool(inserted)


async def save_budget(conn: Connection, *, budget: Budget) -> None:
    """The year's budget as decided, under its year's lock; the CHECKs are the backstop."""
    await conn.execute(
        """INSERT INTO budgets (programme_year, total_nok, remaining_nok) VALUES ($1, $2, $3)
           ON CONFLICT (programme_year) DO UPDATE
             SET total_nok = excluded.total_nok, remaining_nok = excluded.remaining_nok""",
        budget.programme_year,
        budget.total_nok,
        budget.remaining_nok,
    )


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


async def record_thresholds(conn: Connection, *, budget: Budget, thresholds: Sequence[Threshold], at: datetime) -> None:
    """Thresholds the year's budget crossed; the primary key keeps each one to once a year."""
    await conn.execute(
        """INSERT INTO budget_thresholds (programme_year, threshold, remaining_nok, crossed_at)
           SELECT $1, t, $3, $4 FROM unnest($2::text[]) AS t ON CONFLICT DO NOTHING""",
        budget.programme_year,
        list(thresholds),
        budget.remaining_nok,
        at,
    )


# cases


# A case row holds what FundingCaseOpened carries, in columns of the same names.
_OPENED: Final = tuple(FundingCaseOpened.model_fields)


async def insert_case(conn: Connection, *, case: Case, at: datetime) -> bool:
    """Open the case; False if a racing copy opened it first."""
    count = len(_OPENED)
    inserted = await conn.fetchval(
        f"""INSERT INTO funding_cases ({", ".join(_OPENED)}, status, opened_at, updated_at)
            VALUES ({", ".join(f"${i}" for i in range(1, count + 1))}, ${count + 1}, ${count + 2}, ${count + 2})
            ON CONFLICT (application_id) DO NOTHING RETURNING true""",
        *(getattr(case.opened, name) for name in _OPENED),
        case.status,
        at,
    )
    return bool(inserted)


async def lock_case(conn: Connection, *, application_id: UUID) -> Case | None:
    """The case and its active grant, with the case row locked until the transaction ends."""
    row = await conn.fetchrow(
        f"""SELECT {", ".join(f"c.{name}" for name in _OPENED)}, c.status,
                   g.amount_nok AS granted_nok, g.programme_year AS granted_year
            FROM funding_cases c
            LEFT JOIN grants g ON g.application_id = c.application_id AND g.released_at IS NULL
            WHERE c.application_id = $1
            FOR UPDATE OF c""",
        application_id,
    )
    if row is None:
        return None
    opened = FundingCaseOpened(**{name: row[name] for name in _OPENED})
    return Case(opened, status=row["status"], granted_nok=row["granted_nok"], granted_year=row["granted_year"])


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
    conn: Connection, *, case: Case, decided_by: str, reason: str, command_id: str, at: datetime
) -> None:
    """The case's grant, as decided."""
    await conn.execute(
        """INSERT INTO grants (application_id, organisation_number, programme_year, amount_nok, decided_by, reason,
                               command_id, granted_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        case.application_id,
        case.organisation_number,
        case.granted_year,
        case.granted_nok,
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


async def append_ledger(conn: Connection, *, line: ledger.Line, command_id: str, at: datetime) -> None:
    await conn.execute(
        """INSERT INTO ledger (entry, actor, reason, programme_year, application_id, organisation_number, amount_nok,
                               command_id, occurred_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        *astuple(line),
        command_id,
        at,
    )
