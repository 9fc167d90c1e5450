"""What the funding service reads: one route per command or event type, each to its use case; one job per
time-driven use case."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from funding.settings import FundingSettings
from funding.usecases import UseCases
from shared.consumer import Route, Subscription, by_type
from shared.contract.applications import (
    ApplicationReadyForDecision,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    FinalReportAccepted,
)
from shared.contract.funding import AcceptGrant, AllocateBudget, ApprovePayment, DecideFunding
from shared.scheduler import Job
from shared.topics import APPLICATIONS_EVENTS, FUNDING_COMMANDS


def subscriptions(cases: UseCases) -> list[Subscription]:
    return [
        Subscription(
            topic=FUNDING_COMMANDS,
            routes=by_type(
                Route(AllocateBudget, cases.allocate_budget),
                Route(DecideFunding, cases.decide),
                Route(AcceptGrant, cases.accept_grant),
                Route(ApprovePayment, cases.approve_payment),
            ),
            commands=True,
            description="budget allocations (key budget-<year>); decisions, acceptances, payments (key application_id)",
        ),
        Subscription(
            topic=APPLICATIONS_EVENTS,
            routes=by_type(
                Route(ApplicationSubmitted, cases.remember_applicant),
                Route(ApplicationReadyForDecision, cases.open_case),
                Route(ApplicationWithdrawn, cases.withdraw),
                Route(FinalReportAccepted, cases.final_report_accepted),
            ),
            commands=False,
            description=(
                "submitted applications name the applicant's contact; applications ready for decision open cases; "
                "withdrawals close them or release grants; accepted final reports allow the final payment"
            ),
        ),
    ]


def jobs(cases: UseCases, settings: FundingSettings) -> list[Job[Any]]:
    lapses: Job[UUID] = Job(
        name="lapses",
        due=cases.due_lapses,
        fact=lambda application_id: f"lapse/{application_id}",
        settle=cases.lapse,
        poll_interval_s=settings.lapse_poll_interval_s,
        batch_size=settings.lapse_batch_size,
    )
    return [lapses]
