"""What the funding service reads: one route per command or event type, each to its use case."""

from __future__ import annotations

from funding.usecases import UseCases
from shared.consumer import Route, Subscription, by_type
from shared.contract.applications import ApplicationReadyForDecision, ApplicationWithdrawn
from shared.contract.funding import AllocateBudget, DecideFunding
from shared.topics import APPLICATIONS_EVENTS, FUNDING_COMMANDS


def subscriptions(cases: UseCases) -> list[Subscription]:
    return [
        Subscription(
            topic=FUNDING_COMMANDS,
            routes=by_type(Route(AllocateBudget, cases.allocate_budget), Route(DecideFunding, cases.decide)),
            commands=True,
            description="budget allocations (key budget-<year>) and funding decisions (key application_id)",
        ),
        Subscription(
            topic=APPLICATIONS_EVENTS,
            routes=by_type(
                Route(ApplicationReadyForDecision, cases.open_case), Route(ApplicationWithdrawn, cases.withdraw)
            ),
            commands=False,
            description="applications ready for decision open cases; withdrawals close them or release grants",
        ),
    ]
