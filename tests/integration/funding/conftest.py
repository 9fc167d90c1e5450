"""The funding service on real Kafka and Postgres: helpers that speak its contract, and fresh years and ids.

Isolation is by fresh random ids: each test takes programme years no other test has touched
(DecideFunding's year comes from its ce_time, so a test decides in its own years) and new
organisation numbers, so tests never share a budget or a de minimis history.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from devkit.driver import Record, Sender, TopicLog
from devkit.ids import email, organisation_number
from devkit.payloads import allocate_budget, decide_funding, submit_application
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.envelope import build_headers
from shared.topics import APPLICATIONS_EVENTS, FUNDING_COMMANDS, FUNDING_EVENTS, NOTIFICATIONS

ALLOCATE = "funding.AllocateBudget.v1"
DECIDE = "funding.DecideFunding.v1"
READY = "applications.ApplicationReadyForDecision.v1"
WITHDRAWN = "applications.ApplicationWithdrawn.v1"
SUBMITTED = "applications.ApplicationSubmitted.v1"
REPORT_ACCEPTED = "applications.FinalReportAccepted.v1"
ACCEPT = "funding.AcceptGrant.v1"
APPROVE_PAYMENT = "funding.ApprovePayment.v1"
APPLICATIONS_SOURCE = "/programme/applications"
FUNDING_DLQ = "funding.dlq.v1"
THRESHOLD = "funding.BudgetThresholdCrossed.v1"


def funding_process(system: System, **env: str) -> ServiceProcess:
    return system.process("funding", RETRY_BACKOFF_MAX_S="0.5", HANDLER_MAX_ATTEMPTS="2", **env)


@pytest.fixture(scope="module")
async def funding(system: System) -> AsyncIterator[ServiceProcess]:
    proc = funding_process(system)
    proc.start()
    await proc.wait_ready()
    yield proc
    proc.stop()


_taken_years: set[int] = set()


async def fresh_years(admin_db: asyncpg.Pool, count: int = 1) -> int:
    """The first of ``count`` consecutive programme years that no test has used (no budget, no grant)."""
    while True:
        first = random.randint(3000, 9000)
        years = list(range(first - 2, first + count + 2))
        if _taken_years.intersection(years):
            continue
        used = await admin_db.fetchval(
            """SELECT EXISTS (SELECT 1 FROM funding.budgets WHERE programme_year = ANY($1::int[]))
                   OR EXISTS (SELECT 1 FROM funding.grants WHERE programme_year = ANY($1::int[]))""",
            years,
        )
        if not used:
            _taken_years.update(years)
            return first


def in_year(year: int, month: int = 6, day: int = 15) -> datetime:
    return datetime(year, month, day, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Application:
    application_id: uuid.UUID
    organisation_number: str
    size: str = "small"
    requested_nok: int = 800_000
    total_cost_nok: int = 2_000_000

    @property
    def key(self) -> str:
        return str(self.application_id)

    def ready(self) -> dict[str, Any]:
        return {
            "application_id": self.key,
            "organisation_number": self.organisation_number,
            "applicant_name": "Kongsberg Maritim Teknikk AS",
            "size": self.size,
            "lead_cluster": "nce-systems-engineering",
            "project_type": "company_project",
            "title": "Digital twin for the machining line",
            "requested_nok": self.requested_nok,
            "total_cost_nok": self.total_cost_nok,
            "status": "ready_for_decision",  # a field funding does not know: a tolerant reader ignores it
        }


def application(organisation: str | None = None, **fields: Any) -> Application:
    return Application(uuid.uuid4(), organisation or organisation_number(), **fields)


async def send_application_event(sender: Sender, ce_type: str, key: str, data: dict[str, Any]) -> str:
    """An event as the applications service would publish it."""
    ce_id = str(uuid.uuid4())
    headers = build_headers(
        ce_id=ce_id,
        source=APPLICATIONS_SOURCE,
        ce_type=ce_type,
        time=datetime.now(UTC),
        subject=key,
        correlation_id=ce_id,
        causation_id=str(uuid.uuid4()),
    )
    await sender.send_raw(APPLICATIONS_EVENTS, key=key.encode(), value=json.dumps(data).encode(), headers=headers)
    return ce_id


async def make_ready(sender: Sender, topic_log: TopicLog, app: Application) -> Record:
    """The application is ready for decision; returns funding's FundingCaseOpened."""
    await send_application_event(sender, READY, app.key, app.ready())
    opened = await topic_log.wait_for(is_event("funding.FundingCaseOpened.v1", app.key))
    return opened[0]


async def withdraw(sender: Sender, app: Application, reason: str = "the project was cancelled") -> str:
    return await send_application_event(
        sender,
        WITHDRAWN,
        app.key,
        # As the applications service writes it, and a field funding does not know: a tolerant reader ignores it.
        {"application_id": app.key, "reason": reason, "status_before": "ready_for_decision", "status": "withdrawn"},
    )


async def allocate(
    sender: Sender, year: int, amount: int, *, allocation_id: uuid.UUID | None = None, ce_id: str | None = None
) -> str:
    data = allocate_budget(year, amount, allocation_id=str(allocation_id) if allocation_id else None)
    return await sender.send(FUNDING_COMMANDS, ALLOCATE, f"budget-{year}", data, ce_id=ce_id)


async def decide(
    sender: Sender,
    app: Application,
    *,
    at: datetime,
    outcome: str = "grant",
    amount: int | None = None,
    ce_id: str | None = None,
    **extra: Any,
) -> str:
    data = decide_funding(app.key, outcome=outcome, amount_nok=amount, **extra)
    return await sender.send(FUNDING_COMMANDS, DECIDE, app.key, data, ce_id=ce_id, time_=at)


def is_event(ce_type: str, key: str) -> Callable[[Record], bool]:
    return lambda r: r.topic == FUNDING_EVENTS and r.ce_type == ce_type and r.key == key


async def answer(topic_log: TopicLog, ce_id: str) -> Record:
    """A command's answer on funding's events topic: its event or refusal, keyed by its subject.

    Threshold events a grant causes are keyed by the budget, so they may arrive before or after it.
    """
    found = await topic_log.wait_for(
        lambda r: r.causation_id == ce_id and r.topic == FUNDING_EVENTS and r.ce_type != THRESHOLD
    )
    return found[0]


async def rejection_codes(topic_log: TopicLog, ce_id: str) -> list[str]:
    record = await answer(topic_log, ce_id)
    assert record.ce_type == "funding.CommandRejected.v1", f"expected a rejection, got {record.ce_type}"
    return [r["code"] for r in record.data["reasons"]]


def notifications(topic_log: TopicLog, *, template: str, about: str) -> list[Record]:
    return topic_log.where(
        lambda r: r.topic == NOTIFICATIONS and r.data.get("template") == template and r.data.get("about") == about
    )


# a grant's follow-up


async def submit(sender: Sender, app: Application) -> str:
    """The application as the applications service announces it on submission: funding keeps its contact's
    e-mail (a fresh one per application) for the applicant's notices; returns that e-mail."""
    contact = email("applicant")
    data = submit_application(app.organisation_number, application_id=app.key)
    data["applicant"]["contact"] = {"name": "Kari Nordmann", "email": contact}
    data["budget"] = {
        "total_cost_nok": app.total_cost_nok,
        "requested_nok": app.requested_nok,
        "own_contribution_nok": app.total_cost_nok - app.requested_nok,
    }
    await send_application_event(sender, SUBMITTED, app.key, {**data, "status": "submitted", "version": 1})
    return contact


async def accept(sender: Sender, app: Application, *, at: datetime, ce_id: str | None = None) -> str:
    data = {
        "application_id": app.key,
        "accepted_by": {"name": "Ola Nordmann", "role": "CEO"},
        "accepted_at": at.isoformat(),
    }
    return await sender.send(FUNDING_COMMANDS, ACCEPT, app.key, data, ce_id=ce_id, time_=at)


async def approve_payment(
    sender: Sender,
    app: Application,
    *,
    kind: str,
    documented: int,
    payment_id: uuid.UUID | None = None,
    approved_by: str = "case-handler-17",
    at: datetime | None = None,
) -> str:
    data = {
        "payment_id": str(payment_id or uuid.uuid4()),
        "application_id": app.key,
        "kind": kind,
        "documented_costs_nok": documented,
        "approved_by": approved_by,
    }
    return await sender.send(FUNDING_COMMANDS, APPROVE_PAYMENT, app.key, data, time_=at)


async def final_report_accepted(sender: Sender, app: Application) -> str:
    results = [{"indicator": "unplanned stops per month", "target": "-50 %", "achieved": "-55 %"}]
    return await send_application_event(
        sender, REPORT_ACCEPTED, app.key, {"application_id": app.key, "results": results}
    )


@dataclass(frozen=True)
class YearTotals:
    total: int
    remaining: int
    allocated: int
    committed: int
    ledger: int


async def year_totals(admin_db: asyncpg.Pool, year: int) -> YearTotals | None:
    """A year's books: what active grants hold whole and ended grants hold by what they paid is committed."""
    row = await admin_db.fetchrow(
        """SELECT b.total_nok, b.remaining_nok,
                  (SELECT coalesce(sum(amount_nok), 0) FROM funding.allocations a
                    WHERE a.programme_year = b.programme_year)::bigint AS allocated,
                  (SELECT coalesce(sum(CASE WHEN g.released_at IS NULL THEN g.amount_nok ELSE g.paid_nok END), 0)
                     FROM funding.grants g WHERE g.programme_year = b.programme_year)::bigint AS committed,
                  (SELECT coalesce(sum(amount_nok), 0) FROM funding.ledger l
                    WHERE l.programme_year = b.programme_year)::bigint AS ledger
           FROM funding.budgets b WHERE b.programme_year = $1""",
        year,
    )
    if row is None:
        return None
    return YearTotals(row["total_nok"], row["remaining_nok"], row["allocated"], row["committed"], row["ledger"])


async def assert_books_balance(admin_db: asyncpg.Pool, year: int) -> YearTotals:
    """What was allocated, less what grants hold, is what remains; the ledger says the same; nothing negative."""
    totals = await year_totals(admin_db, year)
    assert totals is not None, f"no budget for {year}"
    assert totals.remaining >= 0
    assert totals.allocated == totals.total
    assert totals.allocated - totals.committed == totals.remaining
    assert totals.ledger == totals.remaining
    return totals
