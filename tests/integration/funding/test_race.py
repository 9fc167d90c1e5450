"""Decisions racing on two instances of the funding service in one consumer group: never an overspend."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from devkit.driver import Record, Sender, TopicLog
from devkit.ids import organisation_number
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.topics import FUNDING_COMMANDS
from tests.integration.funding.conftest import (
    APPROVE_PAYMENT,
    Application,
    accept,
    allocate,
    answer,
    assert_books_balance,
    decide,
    fresh_years,
    funding_process,
    in_year,
    make_ready,
)
from tests.integration.funding.racing import (
    PARTITIONS,
    consuming_partitions,
    gate,
    handled,
    id_on_partition,
    wait_for_waiting_transactions,
)

FUNDED = "funding.FundingGranted.v1"
REJECTED = "funding.CommandRejected.v1"
ACCEPTED = "funding.GrantAccepted.v1"
PAID = "funding.PaymentApproved.v1"


class Pair:
    def __init__(self, a: ServiceProcess, b: ServiceProcess, owned: list[set[int]]) -> None:
        self.procs = (a, b)
        self.owned = owned


@pytest.fixture(scope="module")
async def pair(system: System, sender: Sender, topic_log: TopicLog) -> AsyncIterator[Pair]:
    """Two instances in the funding consumer group, each consuming commands from its own partitions."""
    procs = [funding_process(system), funding_process(system)]
    try:
        for proc in procs:
            proc.start()
        for proc in procs:
            await proc.wait_ready()
        owned = await consuming_partitions(procs, sender, topic_log)
        yield Pair(procs[0], procs[1], owned)
    finally:
        for proc in procs:
            proc.stop()


async def answers(topic_log: TopicLog, ce_ids: list[str]) -> list[Record]:
    return list(await asyncio.gather(*(answer(topic_log, ce_id) for ce_id in ce_ids)))


async def test_eight_decisions_racing_for_a_budget_that_fits_one_grant_exactly_one(
    pair: Pair, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await answer(topic_log, await allocate(sender, year, 1_000_000))
    # Eight applications of eight organisations, on every partition, each asking for the whole budget.
    apps = [
        Application(id_on_partition(i % PARTITIONS), organisation_number(), "small", 1_000_000, 2_000_000)
        for i in range(8)
    ]
    await asyncio.gather(*(make_ready(sender, topic_log, app) for app in apps))

    # The test holds the year's budget row: both instances' transactions queue behind it, then race.
    async with gate(admin_db, "SELECT 1 FROM funding.budgets WHERE programme_year = $1 FOR UPDATE", year):
        ce_ids = list(await asyncio.gather(*(decide(sender, app, at=in_year(year), amount=1_000_000) for app in apps)))
        await wait_for_waiting_transactions(admin_db, 2)
    results = await answers(topic_log, ce_ids)

    assert [r.ce_type for r in results].count(FUNDED) == 1
    refused = [r for r in results if r.ce_type == REJECTED]
    assert len(refused) == 7
    assert all([reason["code"] for reason in r.data["reasons"]] == ["insufficient_budget"] for r in refused)
    totals = await assert_books_balance(admin_db, year)
    assert (totals.total, totals.committed, totals.remaining) == (1_000_000, 1_000_000, 0)
    grants = await admin_db.fetchval("SELECT count(*) FROM funding.grants WHERE programme_year = $1", year)
    assert grants == 1
    # Both instances took part in the race.
    assert all(handled(proc, ce_ids) for proc in pair.procs)
    await topic_log.settle()
    assert all(len([r for r in topic_log.caused_by(c) if r.topic == "funding.events.v1"]) <= 3 for c in ce_ids)


async def test_two_cases_of_one_organisation_decided_at_once_never_pass_the_de_minimis_cap(
    pair: Pair, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await answer(topic_log, await allocate(sender, year, 50_000_000))
    on_a, on_b = min(pair.owned[0]), min(pair.owned[1])
    for _ in range(3):  # a few rounds, each a fresh organisation whose two cases go to different instances
        org = organisation_number()
        apps = [Application(id_on_partition(p), org, "small", 2_000_000, 5_000_000) for p in (on_a, on_b)]
        await asyncio.gather(*(make_ready(sender, topic_log, app) for app in apps))

        # The test holds the organisation's row: both decisions queue behind it, then race.
        await admin_db.execute("INSERT INTO funding.organisations VALUES ($1)", org)
        async with gate(admin_db, "SELECT 1 FROM funding.organisations WHERE organisation_number = $1 FOR UPDATE", org):
            ce_ids = list(
                await asyncio.gather(*(decide(sender, app, at=in_year(year), amount=2_000_000) for app in apps))
            )
            await wait_for_waiting_transactions(admin_db, 2)
        results = await answers(topic_log, ce_ids)

        assert sorted(r.ce_type for r in results) == [REJECTED, FUNDED]
        refused = next(r for r in results if r.ce_type == REJECTED)
        assert [reason["code"] for reason in refused.data["reasons"]] == ["de_minimis_exceeded"]
        active = await admin_db.fetchval(
            "SELECT sum(amount_nok) FROM funding.grants WHERE organisation_number = $1 AND released_at IS NULL", org
        )
        assert active == 2_000_000
        assert handled(pair.procs[0], ce_ids)
        assert handled(pair.procs[1], ce_ids)
    await assert_books_balance(admin_db, year)


async def test_two_payments_of_one_grant_on_two_instances_never_pay_past_what_is_payable(
    pair: Pair, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await answer(topic_log, await allocate(sender, year, 10_000_000))
    on_a, on_b = min(pair.owned[0]), min(pair.owned[1])
    app = Application(id_on_partition(on_a), organisation_number(), "small", 800_000, 2_000_000)
    await make_ready(sender, topic_log, app)
    assert (await answer(topic_log, await decide(sender, app, at=in_year(year), amount=800_000))).ce_type == FUNDED
    assert (await answer(topic_log, await accept(sender, app, at=in_year(year, day=20)))).ce_type == ACCEPTED

    # The same grant's payments normally share a partition, and so an instance; one sent under a key of
    # another partition (a stray producer, a zombie instance) reaches the other. The test holds the case:
    # both queue behind it, then race. Each documents half the costs: 400 000 is payable once.
    def payment() -> dict[str, object]:
        return {
            "payment_id": str(uuid.uuid4()),
            "application_id": app.key,
            "kind": "interim",
            "documented_costs_nok": 1_000_000,
            "approved_by": "case-handler-17",
        }

    keys = (app.key, str(id_on_partition(on_b)))
    async with gate(
        admin_db, "SELECT 1 FROM funding.funding_cases WHERE application_id = $1 FOR UPDATE", app.application_id
    ):
        ce_ids = list(
            await asyncio.gather(*(sender.send(FUNDING_COMMANDS, APPROVE_PAYMENT, key, payment()) for key in keys))
        )
        await wait_for_waiting_transactions(admin_db, 2)
    results = await answers(topic_log, ce_ids)

    assert sorted(r.ce_type for r in results) == [REJECTED, PAID]
    paid = next(r for r in results if r.ce_type == PAID)
    assert (paid.data["amount_nok"], paid.data["paid_total_nok"]) == (400_000, 400_000)
    refused = next(r for r in results if r.ce_type == REJECTED)
    assert [reason["code"] for reason in refused.data["reasons"]] == ["interim_cap_reached"]
    paid_nok = await admin_db.fetchval(
        "SELECT paid_nok FROM funding.grants WHERE application_id = $1", app.application_id
    )
    assert paid_nok == 400_000
    assert handled(pair.procs[0], ce_ids)
    assert handled(pair.procs[1], ce_ids)
    await assert_books_balance(admin_db, year)
