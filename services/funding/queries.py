"""The funding service's look-ups: a programme year's budget, and one case with its decision basis and payments.

The money figures come from the ledger, which is append-only: what was allocated, granted and
released in a year are sums of its lines; what was paid is the sum of the payments on the year's
grants. No contact of the applicant is ever part of an answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.contract.funding import DecisionBasis
from shared.db import Connection
from shared.lookups import Lookup, Param

CaseStatus = Literal["open", "granted", "declined", "closed", "released", "accepted", "lapsed", "completed"]


class Threshold(BaseModel):
    threshold: Literal["low", "exhausted"]
    remaining_nok: int = Field(description="what remained when the budget crossed it")
    crossed_at: datetime


class MonthUse(BaseModel):
    """What a month of the year did to the budget (Europe/Oslo months, by when it happened)."""

    month: int = Field(ge=1, le=12)
    granted_nok: int
    released_nok: int


class YearBudget(BaseModel):
    """A programme year's budget: allocated = granted - released + remaining, and what the grants paid so far."""

    programme_year: int
    allocated_nok: int = Field(description="the allocations' sum: the year's total")
    granted_nok: int = Field(description="the sum of the year's grants, as granted")
    released_nok: int = Field(description="what ended grants gave back to the year (lapsed, withdrawn, unpaid rest)")
    paid_nok: int = Field(description="what the year's grants have paid out")
    remaining_nok: int = Field(description="what the year can still grant")
    grants: int = Field(description="how many grants the year made")
    thresholds_crossed: list[Threshold]
    months: list[MonthUse] = Field(default=[], description="granted and released per month, months with none left out")


class Grant(BaseModel):
    programme_year: int
    amount_nok: int
    paid_nok: int
    decided_by: str
    reason: str
    granted_at: datetime
    accept_by: datetime
    accepted_at: datetime | None
    final_report_accepted_at: datetime | None
    released_at: datetime | None


class Payment(BaseModel):
    payment_id: UUID
    kind: Literal["interim", "final"]
    documented_costs_nok: int
    amount_nok: int
    paid_total_nok: int = Field(description="what the grant had paid with this payment")
    remaining_grant_nok: int = Field(description="what the grant could still pay after it")
    approved_by: str
    approved_at: datetime


class FundingCase(BaseModel):
    """A funding case: the application's figures, its status, the decision's basis, its grant and payments."""

    application_id: UUID
    organisation_number: str
    applicant_name: str
    size: str
    lead_cluster: str
    project_type: str
    title: str
    requested_nok: int
    total_cost_nok: int
    status: CaseStatus
    opened_at: datetime
    updated_at: datetime
    decision_basis: DecisionBasis | None = Field(description="the figures the decision's rules used; null while open")
    grant: Grant | None
    payments: list[Payment] = Field(description="in the order they were approved")


async def budget(conn: Connection, arguments: Mapping[str, Any]) -> YearBudget | None:
    year: int = arguments["year"]
    row = await conn.fetchrow(
        """SELECT b.programme_year, b.remaining_nok,
                  coalesce(sum(l.amount_nok) FILTER (WHERE l.entry = 'allocation'), 0) AS allocated_nok,
                  coalesce(-sum(l.amount_nok) FILTER (WHERE l.entry = 'grant'), 0) AS granted_nok,
                  coalesce(sum(l.amount_nok) FILTER (WHERE l.entry = 'release'), 0) AS released_nok,
                  count(*) FILTER (WHERE l.entry = 'grant') AS grants
           FROM budgets b LEFT JOIN ledger l ON l.programme_year = b.programme_year
           WHERE b.programme_year = $1
           GROUP BY b.programme_year, b.remaining_nok""",
        year,
    )
    if row is None:
        return None
    paid: int = await conn.fetchval(
        """SELECT coalesce(sum(p.amount_nok), 0) FROM payments p JOIN grants g USING (application_id)
           WHERE g.programme_year = $1""",
        year,
    )
    thresholds = await conn.fetch(
        """SELECT threshold, remaining_nok, crossed_at FROM budget_thresholds
           WHERE programme_year = $1 ORDER BY crossed_at, threshold DESC""",
        year,
    )
    months = await conn.fetch(
        """SELECT extract(month FROM occurred_at AT TIME ZONE 'Europe/Oslo')::int AS month,
                  coalesce(-sum(amount_nok) FILTER (WHERE entry = 'grant'), 0) AS granted_nok,
                  coalesce(sum(amount_nok) FILTER (WHERE entry = 'release'), 0) AS released_nok
           FROM ledger WHERE programme_year = $1 AND entry IN ('grant', 'release')
           GROUP BY 1 ORDER BY 1""",
        year,
    )
    return YearBudget(
        **dict(row),
        paid_nok=paid,
        thresholds_crossed=[Threshold(**dict(crossed)) for crossed in thresholds],
        months=[MonthUse(**dict(month)) for month in months],
    )


async def case(conn: Connection, arguments: Mapping[str, Any]) -> FundingCase | None:
    application_id: UUID = arguments["application_id"]
    row = await conn.fetchrow(
        """SELECT application_id, organisation_number, applicant_name, size, lead_cluster, project_type, title,
                  requested_nok, total_cost_nok, status, opened_at, updated_at, decision_basis::text AS basis
           FROM funding_cases WHERE application_id = $1""",
        application_id,
    )
    if row is None:
        return None
    grant = await conn.fetchrow(
        """SELECT programme_year, amount_nok, paid_nok, decided_by, reason, granted_at, accept_by, accepted_at,
                  final_report_accepted_at, released_at
           FROM grants WHERE application_id = $1""",
        application_id,
    )
    payments = await conn.fetch(
        """SELECT payment_id, kind, documented_costs_nok, amount_nok, paid_total_nok, remaining_grant_nok,
                  approved_by, approved_at
           FROM payments WHERE application_id = $1 ORDER BY approved_at, payment_id""",
        application_id,
    )
    fields = dict(row)
    basis = fields.pop("basis")
    return FundingCase(
        **fields,
        decision_basis=DecisionBasis.model_validate_json(basis) if basis is not None else None,
        grant=Grant(**dict(grant)) if grant is not None else None,
        payments=[Payment(**dict(payment)) for payment in payments],
    )


LOOKUPS = (
    Lookup(
        "/v1/budgets/{year}",
        "A programme year's budget: allocated, granted, paid, released, remaining, and the thresholds it crossed",
        YearBudget,
        budget,
        params=(Param("year", Annotated[int, Field(ge=2000, le=9999)], "the programme year"),),
    ),
    Lookup(
        "/v1/cases/{application_id}",
        "One funding case: its figures, status, the basis of its decision, its grant and its payments",
        FundingCase,
        case,
        params=(Param("application_id", UUID, "the application's id"),),
    ),
)
