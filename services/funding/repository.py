"""asyncpg queries of the funding service: plain functions (conn, *, ...) that never commit.

Lock order, the same in every transaction, so that two of them never wait on each other in a
circle: funding case, then organisation (a grant) or payment id (a payment), then budget (the
year's lock, then its row).
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
from funding.domain.cases import Case, CaseStatus, Contact
from funding.domain.grants import Payment, PaymentHistory
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
    """The case with its active grant and the applicant's contact, the case row locked until the transaction ends.

    The lock is taken first and the case read after it, in a statement of its own: under READ
    COMMITTED that read sees what a transaction that held the lock before us committed, in the
    grant's row too (a read in the locking statement would see the grant as it was before the wait).
    """
    locked = await conn.fetchval("SELECT true FROM funding_cases WHERE application_id = $1 FOR UPDATE", application_id)
    return await _read_case(conn, application_id=application_id) if locked else None


async def _read_case(conn: Connection, *, application_id: UUID) -> Case | None:
    row = await conn.fetchrow(
        f"""SELECT {", ".join(f"c.{name}" for name in _OPENED)}, c.status,
                   g.amount_nok AS granted_nok, g.programme_year AS granted_year, g.accept_by, g.accepted_at,
                   coalesce(g.paid_nok, 0) AS paid_nok, g.final_report_accepted_at IS NOT NULL AS report_accepted,
                   a.contact_name, a.email
            FROM funding_cases c
            LEFT JOIN grants g ON g.application_id = c.application_id AND g.released_at IS NULL
            LEFT JOIN applicant_contacts a ON a.application_id = c.application_id
            WHERE c.application_id = $1""",
        application_id,
    )
    if row is None:
        return None
    opened = FundingCaseOpened(**{name: row[name] for name in _OPENED})
    return Case(
        opened,
        status=row["status"],
        granted_nok=row["granted_nok"],
        granted_year=row["granted_year"],
        accept_by=row["accept_by"],
        accepted_at=row["accepted_at"],
        paid_nok=row["paid_nok"],
        final_report_accepted=row["report_accepted"],
        contact=None if row["email"] is None else Contact(row["contact_name"], row["email"]),
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
    """The organisation's aid per programme year, for the given years: an active grant counts whole, an ended
    one (lapsed, withdrawn, completed) by what it paid."""
    rows = await conn.fetch(
        """SELECT programme_year,
                  sum(CASE WHEN released_at IS NULL THEN amount_nok ELSE paid_nok END)::bigint AS total
           FROM grants
           WHERE organisation_number = $1 AND programme_year = ANY($2::integer[])
           GROUP BY programme_year""",
        organisation_number,
        list(years),
    )
    return {row["programme_year"]: row["total"] for row in rows}


async def insert_grant(
    conn: Connection, *, case: Case, decided_by: str, reason: str, command_id: str, at: datetime
) -> None:
    """The case's grant, as decided, waiting for acceptance until its deadline."""
    await conn.execute(
        """INSERT INTO grants (application_id, organisation_number, programme_year, amount_nok, decided_by, reason,
                               command_id, granted_at, accept_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        case.application_id,
        case.organisation_number,
        case.granted_year,
        case.granted_nok,
        decided_by,
        reason,
        command_id,
        at,
        case.accept_by,
    )


async def release_grant(conn: Connection, *, application_id: UUID, at: datetime) -> None:
    await conn.execute(
        """UPDATE grants SET released_at = greatest($2, granted_at)
           WHERE application_id = $1 AND released_at IS NULL""",
        application_id,
        at,
    )


async def accept_grant(conn: Connection, *, application_id: UUID, accepted_at: datetime) -> None:
    await conn.execute(
        "UPDATE grants SET accepted_at = $2 WHERE application_id = $1 AND released_at IS NULL",
        application_id,
        accepted_at,
    )


async def accept_final_report(conn: Connection, *, application_id: UUID, at: datetime) -> None:
    await conn.execute(
        """UPDATE grants SET final_report_accepted_at = $2
           WHERE application_id = $1 AND released_at IS NULL AND final_report_accepted_at IS NULL""",
        application_id,
        at,
    )


# lapses: grants waiting for acceptance past their deadline, for the scheduler


async def due_lapses(conn: Connection, limit: int) -> list[UUID]:
    """Grants unaccepted past their deadline, by the database's clock (one clock for every replica), earliest first."""
    rows = await conn.fetch(
        """SELECT application_id FROM grants
           WHERE accepted_at IS NULL AND released_at IS NULL AND accept_by <= now()
           ORDER BY accept_by LIMIT $1""",
        limit,
    )
    return [row["application_id"] for row in rows]


async def claim_lapse(conn: Connection, *, application_id: UUID) -> Case | None:
    """Lock a case whose grant is due to lapse, until commit; None when another replica holds it or it is no
    longer due (accepted, withdrawn or lapsed meanwhile). The case is read after the lock, as in `lock_case`."""
    locked = await conn.fetchval(
        """SELECT true FROM funding_cases c JOIN grants g USING (application_id)
           WHERE c.application_id = $1 AND c.status = 'granted'
             AND g.accepted_at IS NULL AND g.released_at IS NULL AND g.accept_by <= now()
           FOR UPDATE OF c SKIP LOCKED""",
        application_id,
    )
    return await _read_case(conn, application_id=application_id) if locked else None


# payments


async def lock_payment_id(conn: Connection, *, payment_id: UUID) -> None:
    """Serialise, until commit, payments that share an id: they may be of different grants, whose locks differ."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"funding/payment/{payment_id}")


async def find_payment(conn: Connection, *, payment_id: UUID) -> Payment | None:
    row = await conn.fetchrow(
        """SELECT payment_id, application_id, kind, documented_costs_nok, approved_by, amount_nok, paid_total_nok,
                  remaining_grant_nok
           FROM payments WHERE payment_id = $1""",
        payment_id,
    )
    return None if row is None else Payment(**dict(row))


async def payment_history(conn: Connection, *, application_id: UUID) -> PaymentHistory:
    row = await conn.fetchrow(
        """SELECT coalesce(max(documented_costs_nok), 0)::bigint AS documented,
                  coalesce(sum(amount_nok) FILTER (WHERE kind = 'interim'), 0)::bigint AS interim
           FROM payments WHERE application_id = $1""",
        application_id,
    )
    return PaymentHistory(row["documented"], row["interim"]) if row else PaymentHistory()


async def pay_from_grant(conn: Connection, *, application_id: UUID, amount_nok: int) -> int | None:
    """Add a payment to what the grant has paid, in one guarded statement; None if it would pay past the grant.

    Under READ COMMITTED a second writer waits for the row lock and then re-checks the WHERE
    against the committed row, so two racing payments can never together pass the grant.
    """
    paid: int | None = await conn.fetchval(
        """UPDATE grants SET paid_nok = paid_nok + $2
           WHERE application_id = $1 AND released_at IS NULL AND paid_nok + $2 <= amount_nok
           RETURNING paid_nok""",
        application_id,
        amount_nok,
    )
    return paid


async def insert_payment(conn: Connection, *, payment: Payment, command_id: str, at: datetime) -> None:
    await conn.execute(
        """INSERT INTO payments (payment_id, application_id, kind, documented_costs_nok, approved_by, amount_nok,
                                 paid_total_nok, remaining_grant_nok, command_id, approved_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        *astuple(payment),
        command_id,
        at,
    )


# the applicant's contact


async def remember_contact(conn: Connection, *, application_id: UUID, contact: Contact) -> None:
    """The contact an application named; the first one stays (a resent submission changes nothing)."""
    await conn.execute(
        """INSERT INTO applicant_contacts (application_id, contact_name, email) VALUES ($1, $2, $3)
           ON CONFLICT (application_id) DO NOTHING""",
        application_id,
        contact.name,
        contact.email,
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
