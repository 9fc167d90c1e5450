"""Budget allocations through Kafka: they add up per programme year, count once, and refuse what is not money."""

from __future__ import annotations

import uuid

import asyncpg

from devkit.driver import Sender, TopicLog
from devkit.processes import ServiceProcess
from tests.integration.funding.conftest import (
    allocate,
    answer,
    assert_books_balance,
    fresh_years,
    rejection_codes,
    year_totals,
)


async def test_allocations_add_up_per_programme_year(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db, 2)
    first = await answer(topic_log, await allocate(sender, year, 30_000_000))
    second = await answer(topic_log, await allocate(sender, year, 20_000_000))
    other = await answer(topic_log, await allocate(sender, year + 1, 7_000_000))

    assert first.ce_type == "funding.BudgetAllocated.v1"
    assert first.key == f"budget-{year}"
    assert first.headers["ce_source"] == "/programme/funding"
    assert first.data | {"allocation_id": None} == {
        "programme_year": year,
        "amount_nok": 30_000_000,
        "total_nok": 30_000_000,
        "remaining_nok": 30_000_000,
        "allocation_id": None,
    }
    assert (second.data["total_nok"], second.data["remaining_nok"]) == (50_000_000, 50_000_000)
    assert (other.data["programme_year"], other.data["total_nok"]) == (year + 1, 7_000_000)
    totals = await assert_books_balance(admin_db, year)
    assert totals.total == 50_000_000
    entries = await admin_db.fetch(
        "SELECT entry, amount_nok, actor FROM funding.ledger WHERE programme_year = $1 ORDER BY id", year
    )
    assert [(e["entry"], e["amount_nok"]) for e in entries] == [("allocation", 30_000_000), ("allocation", 20_000_000)]
    assert {e["actor"] for e in entries} == {"statsbudsjettet kap. 2421 post 76"}


async def test_an_allocation_that_is_not_positive_is_refused_as_an_invalid_amount(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    for amount in (0, -5_000_000):
        ce_id = await allocate(sender, year, amount)
        assert await rejection_codes(topic_log, ce_id) == ["invalid_amount"]
        rejection = await answer(topic_log, ce_id)
        assert rejection.key == f"budget-{year}"
        assert rejection.data["command_type"] == "funding.AllocateBudget.v1"
    assert await year_totals(admin_db, year) is None


async def test_the_same_allocation_command_twice_counts_once(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    allocation_id = uuid.uuid4()
    ce_id = await allocate(sender, year, 1_000_000, allocation_id=allocation_id)
    await allocate(sender, year, 1_000_000, allocation_id=allocation_id, ce_id=ce_id)
    marker = await allocate(sender, year, 5)  # same key, same partition: once it is answered, so is the copy

    await answer(topic_log, marker)
    await topic_log.settle()
    assert len(topic_log.caused_by(ce_id)) == 1
    assert (await assert_books_balance(admin_db, year)).total == 1_000_005


async def test_an_allocation_id_used_again_by_a_new_command_is_refused(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    allocation_id = uuid.uuid4()
    await answer(topic_log, await allocate(sender, year, 1_000_000, allocation_id=allocation_id))
    again = await allocate(sender, year, 1_000_000, allocation_id=allocation_id)

    assert await rejection_codes(topic_log, again) == ["duplicate_allocation"]
    assert (await assert_books_balance(admin_db, year)).total == 1_000_000


async def test_an_unreadable_allocation_is_dead_lettered_and_refused_as_malformed(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    data = {"allocation_id": str(uuid.uuid4()), "programme_year": year, "amount_nok": 1.5, "source": "x"}
    ce_id = await sender.send("funding.commands.v1", "funding.AllocateBudget.v1", f"budget-{year}", data)

    assert await rejection_codes(topic_log, ce_id) == ["malformed"]
    letters = await topic_log.wait_for(lambda r: r.topic == "funding.dlq.v1" and r.ce_id == ce_id)
    assert letters[0].headers["x-error-code"] == "schema_violation"
    assert await year_totals(admin_db, year) is None
