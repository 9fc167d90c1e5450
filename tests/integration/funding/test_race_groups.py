"""Two instances that each read every record (two consumer groups): the inbox and the database still hold.

In one consumer group each record goes to one instance; here both instances get all of them, as
a zombie consumer after a rebalance would, so the same decisions race against themselves too.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from devkit.driver import Sender, TopicLog
from devkit.ids import organisation_number
from devkit.system import System
from tests.integration.funding.conftest import (
    Application,
    allocate,
    answer,
    assert_books_balance,
    decide,
    fresh_years,
    funding_process,
    in_year,
    is_event,
    make_ready,
)
from tests.integration.funding.racing import (
    PARTITIONS,
    gate,
    handled,
    id_on_partition,
    start_group_at_end,
    wait_for_waiting_transactions,
)

FUNDED = "funding.FundingGranted.v1"
REJECTED = "funding.CommandRejected.v1"


async def test_eight_decisions_read_by_two_consumer_groups_grant_exactly_one_and_answer_each_once(
    system: System, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    run = uuid.uuid4().hex[:8]
    groups = [f"funding-race-{run}-a", f"funding-race-{run}-b"]
    for group in groups:
        await start_group_at_end(system.kafka_bootstrap, group)
    procs = [funding_process(system, KAFKA_GROUP_ID=group, CONSUMER_MAX_RECORDS="2") for group in groups]
    try:
        for proc in procs:
            proc.start()
        for proc in procs:
            await proc.wait_ready()
        year = await fresh_years(admin_db)
        await answer(topic_log, await allocate(sender, year, 1_000_000))
        apps = [
            Application(id_on_partition(i % PARTITIONS), organisation_number(), "small", 1_000_000, 2_000_000)
            for i in range(8)
        ]
        await asyncio.gather(*(make_ready(sender, topic_log, app) for app in apps))

        async with gate(admin_db, "SELECT 1 FROM funding.budgets WHERE programme_year = $1 FOR UPDATE", year):
            ce_ids = list(
                await asyncio.gather(*(decide(sender, app, at=in_year(year), amount=1_000_000) for app in apps))
            )
            await wait_for_waiting_transactions(admin_db, 2)
        results = [await answer(topic_log, ce_id) for ce_id in ce_ids]

        assert [r.ce_type for r in results].count(FUNDED) == 1
        assert [r.data["reasons"][0]["code"] for r in results if r.ce_type == REJECTED] == ["insufficient_budget"] * 7
        totals = await assert_books_balance(admin_db, year)
        assert (totals.remaining, totals.committed) == (0, 1_000_000)
        await topic_log.settle()
        for ce_id in ce_ids:
            assert len([r for r in topic_log.caused_by(ce_id) if r.topic == "funding.events.v1"]) in {1, 3}
        for app in apps:
            assert len(topic_log.where(is_event("funding.FundingCaseOpened.v1", app.key))) == 1
        # Every decision was applied by exactly one of the two instances.
        by_a, by_b = (set(handled(proc, ce_ids)) for proc in procs)
        assert by_a | by_b == set(ce_ids)
        assert not by_a & by_b
    finally:
        for proc in procs:
            proc.stop()
