"""What the funding service reads: one route per command or event type, each calling its use case."""

from __future__ import annotations

from typing import Any

from funding import usecases
from funding.domain import Policy
from funding.upstream import ApplicationReadyForDecision, ApplicationWithdrawn
from funding.usecases import Cause
from shared.consumer import Incoming, Route, Subscription
from shared.contract.funding import AllocateBudget, DecideFunding, FundingCaseOpened
from shared.db import Connection
from shared.outbox import Recorder
from shared.topics import APPLICATIONS_EVENTS, commands_topic


def _cause(msg: Incoming[Any]) -> Cause:
    return Cause(message_id=msg.envelope.id, at=msg.envelope.time, source=msg.envelope.source)


async def on_allocate_budget(conn: Connection, msg: Incoming[AllocateBudget], out: Recorder) -> None:
    await usecases.allocate_budget(conn, out, command=msg.data, cause=_cause(msg))


async def on_application_ready_for_decision(
    conn: Connection, msg: Incoming[ApplicationReadyForDecision], out: Recorder
) -> None:
    opened = FundingCaseOpened(**msg.data.model_dump())
    await usecases.open_case(conn, out, opened=opened, cause=_cause(msg))


async def on_application_withdrawn(conn: Connection, msg: Incoming[ApplicationWithdrawn], out: Recorder) -> None:
    await usecases.withdraw(
        conn, out, application_id=msg.data.application_id, reason=msg.data.reason or "", cause=_cause(msg)
    )


def subscriptions(policy: Policy) -> list[Subscription]:
    async def on_decide_funding(conn: Connection, msg: Incoming[DecideFunding], out: Recorder) -> None:
        await usecases.decide_funding(conn, out, command=msg.data, cause=_cause(msg), policy=policy)

    return [
        Subscription(
            topic=commands_topic("funding"),
            routes={
                AllocateBudget.ce_type: Route(AllocateBudget, on_allocate_budget),
                DecideFunding.ce_type: Route(DecideFunding, on_decide_funding),
            },
            commands=True,
            description="budget allocations (key budget-<year>) and funding decisions (key application_id)",
        ),
        Subscription(
            topic=APPLICATIONS_EVENTS,
            routes={
                ApplicationReadyForDecision.ce_type: Route(
                    ApplicationReadyForDecision, on_application_ready_for_decision
                ),
                ApplicationWithdrawn.ce_type: Route(ApplicationWithdrawn, on_application_withdrawn),
            },
            commands=False,
            description="applications ready for decision open cases; withdrawals close them or release grants",
        ),
    ]
