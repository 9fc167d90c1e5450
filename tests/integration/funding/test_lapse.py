"""Grants lapse by themselves when their acceptance period passes: once, on two replicas, with no message arriving.

Two instances of the service run with a 4-second acceptance period and look for due lapses five
times a second, so a grant decided now lapses during the test. Decisions are made now, so their
programme year is this year: each test adds its own money to it and checks the changes it made.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from funding.domain.budgets import programme_year

from devkit.driver import Record, Sender, TopicLog
from devkit.processes import ServiceProcess
from devkit.system import System
from tests.integration.funding.conftest import (
    Application,
    accept,
    allocate,
    answer,
    application,
    assert_books_balance,
    decide,
    is_event,
    make_ready,
    notifications,
    rejection_codes,
    submit,
    withdraw,
)
from tests.integration.funding.racing import gate, wait_for_waiting_transactions

PERIOD = timedelta(seconds=4)
LAPSED = "funding.GrantLapsed.v1"
RELEASED = "funding.FundingReleased.v1"
GRANTED = "funding.FundingGranted.v1"
ACCEPTED = "funding.GrantAccepted.v1"


@pytest.fixture(scope="module")
async def replicas(system: System) -> AsyncIterator[list[ServiceProcess]]:
    """Two instances, both running the lapse job, with a short acceptance period."""
    procs = [
        system.process(
            "funding",
            RETRY_BACKOFF_MAX_S="0.5",
            GRANT_ACCEPTANCE_PERIOD_S=str(PERIOD.total_seconds()),
            LAPSE_POLL_INTERVAL_S="0.2",
        )
        for _ in range(2)
    ]
    try:
        for proc in procs:
            proc.start()
        for proc in procs:
            await proc.wait_ready()
        yield procs
    finally:
        for proc in procs:
            proc.stop()


pytestmark = pytest.mark.usefixtures("replicas")


def this_year() -> int:
    return programme_year(datetime.now(UTC))


async def grant_now(sender: Sender, topic_log: TopicLog, *, amount: int = 500_000) -> tuple[Application, datetime]:
    """A fresh application, submitted, ready and granted now; returns it and its acceptance deadline."""
    app = application()
    await submit(sender, app)
    await make_ready(sender, topic_log, app)
    at = datetime.now(UTC)
    decision = await answer(topic_log, await decide(sender, app, at=at, amount=amount))
    assert decision.ce_type == GRANTED, decision.data
    return app, at + PERIOD


def of(topic_log: TopicLog, ce_type: str, app: Application) -> list[Record]:
    return topic_log.where(is_event(ce_type, app.key))


async def budget_remaining(admin_db: asyncpg.Pool, year: int) -> int:
    remaining: int = await admin_db.fetchval(
        "SELECT remaining_nok FROM funding.budgets WHERE programme_year = $1", year
    )
    return remaining


async def until_past(deadline: datetime, topic_log: TopicLog) -> None:
    """Let the deadline pass, and the job's next looks after it."""
    wait = (deadline - datetime.now(UTC)).total_seconds() + 1.5
    await topic_log.settle(max(wait, 0.0))


async def test_an_unaccepted_grant_lapses_once_when_its_deadline_passes_with_no_message_arriving(
    sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = this_year()
    await answer(topic_log, await allocate(sender, year, 5_000_000))
    before = await budget_remaining(admin_db, year)
    app, deadline = await grant_now(sender, topic_log)
    assert of(topic_log, LAPSED, app) == []

    lapsed = (await topic_log.wait_for(is_event(LAPSED, app.key), timeout=30))[0]

    assert lapsed.data == {"application_id": app.key, "amount_nok": 500_000, "programme_year": year}
    assert datetime.fromisoformat(lapsed.headers["ce_time"]) >= deadline
    released = (await topic_log.wait_for(is_event(RELEASED, app.key)))[0]
    assert (released.data["amount_nok"], released.data["programme_year"]) == (500_000, year)
    await until_past(deadline, topic_log)
    # Once, though both replicas look: one event each, one notice to the applicant.
    assert len(of(topic_log, LAPSED, app)) == 1
    assert len(of(topic_log, RELEASED, app)) == 1
    assert len(notifications(topic_log, template="funding.grant_lapsed", about=app.key)) == 1
    status = await admin_db.fetchval(
        "SELECT status FROM funding.funding_cases WHERE application_id = $1", app.application_id
    )
    assert status == "lapsed"
    assert await budget_remaining(admin_db, year) == before
    await assert_books_balance(admin_db, year)
    late = await accept(sender, app, at=datetime.now(UTC))
    assert await rejection_codes(topic_log, late) == ["grant_not_open"]


async def test_a_grant_accepted_in_time_or_withdrawn_does_not_lapse(
    sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = this_year()
    await answer(topic_log, await allocate(sender, year, 5_000_000))
    accepted, _ = await grant_now(sender, topic_log)
    withdrawn, _ = await grant_now(sender, topic_log)
    unanswered, deadline = await grant_now(sender, topic_log)

    assert (await answer(topic_log, await accept(sender, accepted, at=datetime.now(UTC)))).ce_type == ACCEPTED
    await withdraw(sender, withdrawn)
    await topic_log.wait_for(is_event(RELEASED, withdrawn.key))
    # The third, left alone, shows the job ran past the deadlines.
    await topic_log.wait_for(is_event(LAPSED, unanswered.key), timeout=30)
    await until_past(deadline, topic_log)

    assert of(topic_log, LAPSED, accepted) == []
    assert of(topic_log, LAPSED, withdrawn) == []
    assert len(of(topic_log, RELEASED, withdrawn)) == 1
    await assert_books_balance(admin_db, year)


async def test_many_grants_lapsing_at_once_on_two_replicas_lapse_each_exactly_once(
    sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = this_year()
    await answer(topic_log, await allocate(sender, year, 10_000_000))
    before = await budget_remaining(admin_db, year)
    granted = [await grant_now(sender, topic_log, amount=100_000) for _ in range(8)]
    apps = [app for app, _ in granted]

    for app in apps:
        await topic_log.wait_for(is_event(LAPSED, app.key), timeout=30)
    await until_past(max(deadline for _, deadline in granted), topic_log)

    assert [len(of(topic_log, LAPSED, app)) for app in apps] == [1] * 8
    assert [len(of(topic_log, RELEASED, app)) for app in apps] == [1] * 8
    assert await budget_remaining(admin_db, year) == before
    await assert_books_balance(admin_db, year)


async def test_an_acceptance_sent_in_time_wins_over_the_lapse_even_when_handled_after_the_deadline(
    sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = this_year()
    await answer(topic_log, await allocate(sender, year, 5_000_000))
    app, deadline = await grant_now(sender, topic_log)

    # The test holds the case: the acceptance, sent in time, waits behind it while the deadline passes
    # and both replicas' lapse jobs find the grant due and skip the held case.
    async with gate(
        admin_db, "SELECT 1 FROM funding.funding_cases WHERE application_id = $1 FOR UPDATE", app.application_id
    ):
        ce_id = await accept(sender, app, at=datetime.now(UTC))
        await wait_for_waiting_transactions(admin_db, 1)
        while datetime.now(UTC) < deadline + timedelta(seconds=1):
            await asyncio.sleep(0.1)

    assert (await answer(topic_log, ce_id)).ce_type == ACCEPTED
    await until_past(deadline, topic_log)
    assert of(topic_log, LAPSED, app) == []
    status = await admin_db.fetchval(
        "SELECT status FROM funding.funding_cases WHERE application_id = $1", app.application_id
    )
    assert status == "accepted"
    await assert_books_balance(admin_db, year)


async def test_a_deadline_passing_while_every_replica_is_down_lapses_once_after_they_restart(
    replicas: list[ServiceProcess], sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = this_year()
    await answer(topic_log, await allocate(sender, year, 5_000_000))
    app, deadline = await grant_now(sender, topic_log)

    for proc in replicas:
        proc.kill()
    await until_past(deadline, topic_log)
    assert of(topic_log, LAPSED, app) == []  # nobody ran: the plan waits in the grants table
    for proc in replicas:
        proc.start()
    for proc in replicas:
        await proc.wait_ready()

    await topic_log.wait_for(is_event(LAPSED, app.key), timeout=60)
    await topic_log.settle(2.0)
    assert len(of(topic_log, LAPSED, app)) == 1
    assert len(of(topic_log, RELEASED, app)) == 1
    await assert_books_balance(admin_db, year)
