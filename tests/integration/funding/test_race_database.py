"""The database's guarantee on its own: concurrent transactions of the funding use cases on real Postgres.

No Kafka here: many transactions are opened at once and released together, so the race is
certain rather than likely. What holds here holds for any number of service replicas.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import funding
import pytest
from funding import repository
from funding.domain.policy import Policy
from funding.usecases import UseCases

from devkit.ids import organisation_number
from devkit.system import System
from shared.cause import Cause
from shared.contract.applications import ApplicationReadyForDecision, ConfirmedBy
from shared.contract.funding import AcceptGrant, AllocateBudget, ApprovePayment, DecideFunding
from shared.db import Connection
from shared.outbox import Recorder
from tests.integration.funding.conftest import assert_books_balance, fresh_years, in_year

MIGRATIONS = funding.SERVICE.migrations
CASES = UseCases(Policy.default())


@pytest.fixture(scope="module")
async def pool(system: System) -> AsyncIterator[asyncpg.Pool]:
    """Connections as the funding role, on its migrated schema."""
    pool = await system.migrated_pool("funding", migrations=MIGRATIONS, max_size=12)
    yield pool
    await pool.close()


def recorder(command_id: str, key: str, command_type: str = DecideFunding.ce_type) -> Recorder:
    return Recorder(
        service="funding",
        events_topic="funding.events.v1",
        seed=f"test/{command_id}",
        time=datetime.now(UTC),
        correlation_id=command_id,
        causation_id=command_id,
        subject=key,
        command_type=command_type,
    )


def outcome(out: Recorder) -> tuple[str, list[str]]:
    """The answer a use case recorded: its event type, and the refusal codes if it was refused."""
    answer = next(row for row in out.rows if row.topic == "funding.events.v1")
    codes = [r["code"] for r in json.loads(answer.payload)["reasons"]] if out.rejected else []
    return answer.ce_type, codes


async def in_transaction(pool: asyncpg.Pool, work: Callable[[Connection], Awaitable[None]]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await work(conn)


async def open_cases(pool: asyncpg.Pool, cases: list[ApplicationReadyForDecision]) -> None:
    async def work(conn: Connection) -> None:
        for case in cases:
            await CASES.open_case(conn, case, cause(), recorder(str(uuid.uuid4()), str(case.application_id)))

    await in_transaction(pool, work)


async def give_budget(pool: asyncpg.Pool, year: int, amount: int) -> None:
    command = AllocateBudget(allocation_id=uuid.uuid4(), programme_year=year, amount_nok=amount, source="test")

    async def work(conn: Connection) -> None:
        await CASES.allocate_budget(conn, command, cause(), recorder(str(uuid.uuid4()), f"budget-{year}"))

    await in_transaction(pool, work)


def cause(at: datetime | None = None) -> Cause:
    return Cause(message_id=str(uuid.uuid4()), at=at or datetime.now(UTC), source="/tests")


def case(
    organisation: str | None = None, requested: int = 5_000_000, total: int = 20_000_000
) -> ApplicationReadyForDecision:
    return ApplicationReadyForDecision(
        application_id=uuid.uuid4(),
        organisation_number=organisation or organisation_number(),
        applicant_name="Raufoss Automasjon AS",
        size="medium",
        lead_cluster="nce-raufoss",
        project_type="company_project",
        title="Robot cell",
        requested_nok=requested,
        total_cost_nok=total,
    )


async def decide_all_at_once(
    pool: asyncpg.Pool, decisions: list[tuple[ApplicationReadyForDecision, int]], year: int
) -> list[tuple[str, list[str]]]:
    """Every decision in its own transaction, all begun before any of them decides."""
    barrier = asyncio.Barrier(len(decisions))

    async def one(opened: ApplicationReadyForDecision, amount: int) -> tuple[str, list[str]]:
        command = DecideFunding(
            application_id=opened.application_id, outcome="grant", amount_nok=amount, reason="race", decided_by="t"
        )
        out = recorder(str(uuid.uuid4()), str(opened.application_id))
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT 1")  # the transaction has begun
            await barrier.wait()
            await CASES.decide(conn, command, cause(in_year(year)), out)
        return outcome(out)

    return list(await asyncio.gather(*(one(opened, amount) for opened, amount in decisions)))


async def test_eight_transactions_racing_for_a_budget_that_fits_one_grant_exactly_one(
    pool: asyncpg.Pool, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await give_budget(pool, year, 1_000_000)
    cases = [case() for _ in range(8)]
    await open_cases(pool, cases)

    results = await decide_all_at_once(pool, [(c, 1_000_000) for c in cases], year)

    assert [r[0] for r in results].count("funding.FundingGranted.v1") == 1
    assert sorted(codes for _, codes in results if codes) == [["insufficient_budget"]] * 7
    totals = await assert_books_balance(admin_db, year)
    assert (totals.remaining, totals.committed) == (0, 1_000_000)


async def test_racing_grants_of_many_sizes_spend_at_most_the_budget_and_refuse_only_what_no_longer_fits(
    pool: asyncpg.Pool, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await give_budget(pool, year, 3_000_000)
    rng = random.Random(2027)
    decisions = [(case(), rng.randint(50_000, 900_000)) for _ in range(10)]
    await open_cases(pool, [c for c, _ in decisions])

    results = await decide_all_at_once(pool, decisions, year)

    granted = [amount for (_, amount), (kind, _) in zip(decisions, results, strict=True) if kind.endswith("Granted.v1")]
    refused = [amount for (_, amount), (_, codes) in zip(decisions, results, strict=True) if codes]
    assert all(codes == ["insufficient_budget"] for _, codes in results if codes)
    totals = await assert_books_balance(admin_db, year)
    assert sum(granted) == totals.committed == 3_000_000 - totals.remaining
    # Remaining money only shrinks, so a refused grant that would fit now would have fitted then.
    assert all(amount > totals.remaining for amount in refused)


async def test_the_guarded_update_alone_never_lets_two_takers_both_succeed(
    pool: asyncpg.Pool, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await give_budget(pool, year, 1_000)
    barrier = asyncio.Barrier(8)

    async def take() -> bool:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT 1")
            await barrier.wait()
            taken = await repository.take_from_budget(conn, programme_year=year, amount_nok=600)
            if taken is not None:
                await asyncio.sleep(0.2)  # hold the row while the others queue on it
            return taken is not None

    results = await asyncio.gather(*(take() for _ in range(8)))

    assert results.count(True) == 1
    remaining = await admin_db.fetchval("SELECT remaining_nok FROM funding.budgets WHERE programme_year = $1", year)
    assert remaining == 400


async def test_two_cases_of_one_organisation_racing_never_pass_the_de_minimis_cap(
    pool: asyncpg.Pool, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await give_budget(pool, year, 50_000_000)
    org = organisation_number()
    cases = [case(org) for _ in range(6)]
    await open_cases(pool, cases)

    results = await decide_all_at_once(pool, [(c, 1_000_000) for c in cases], year)

    assert [r[0] for r in results].count("funding.FundingGranted.v1") == 3
    assert sorted(codes for _, codes in results if codes) == [["de_minimis_exceeded"]] * 3
    active = await admin_db.fetchval(
        "SELECT sum(amount_nok) FROM funding.grants WHERE organisation_number = $1 AND released_at IS NULL", org
    )
    assert active == 3_000_000


async def test_first_allocations_of_a_year_racing_all_count_and_each_reports_the_totals_after_it(
    pool: asyncpg.Pool, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    amounts = [1_000, 2_000, 4_000]
    barrier = asyncio.Barrier(len(amounts))

    async def allocate(amount: int) -> dict[str, int]:
        command = AllocateBudget(allocation_id=uuid.uuid4(), programme_year=year, amount_nok=amount, source="race")
        out = recorder(str(uuid.uuid4()), f"budget-{year}")
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT 1")  # the transaction has begun
            await barrier.wait()
            await CASES.allocate_budget(conn, command, cause(), out)
        [allocated] = [json.loads(row.payload) for row in out.rows if row.topic == "funding.events.v1"]
        return {"amount": allocated["amount_nok"], "total": allocated["total_nok"]}

    events = await asyncio.gather(*(allocate(amount) for amount in amounts))

    # The year has no budget row to lock before its first allocation: the year's own lock orders
    # them, so each reports the totals after every allocation before it, and none is lost.
    running = 0
    for event in sorted(events, key=lambda e: e["total"]):
        running += event["amount"]
        assert event["total"] == running
    totals = await assert_books_balance(admin_db, year)
    assert totals.total == sum(amounts)


async def test_the_ledger_is_append_only(pool: asyncpg.Pool, admin_db: asyncpg.Pool, system: System) -> None:
    year = await fresh_years(admin_db)
    await give_budget(pool, year, 1_000)
    rewrites = (
        "UPDATE ledger SET amount_nok = 2000 WHERE programme_year = $1",
        "DELETE FROM ledger WHERE programme_year = $1",
    )
    # The service's role may only add and read entries; the trigger stops even the schema's owner.
    async with pool.acquire() as conn:
        for rewrite in rewrites:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for table ledger"):
                await conn.execute(rewrite, year)
    owner = await asyncpg.connect(system.owner_dsn("funding"), server_settings={"search_path": "funding"})
    try:
        for rewrite in rewrites:
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await owner.execute(rewrite, year)
    finally:
        await owner.close()


# payments: the sum paid never passes the grant


async def running_grant(pool: asyncpg.Pool, year: int, *, amount: int, total: int) -> ApplicationReadyForDecision:
    """A case granted ``amount`` of a ``total`` NOK project in ``year``, and accepted."""
    opened = case(requested=amount, total=total)
    await open_cases(pool, [opened])
    command = DecideFunding(
        application_id=opened.application_id, outcome="grant", amount_nok=amount, reason="r", decided_by="t"
    )
    accepted = AcceptGrant(
        application_id=opened.application_id,
        accepted_by=ConfirmedBy(name="Ola Nordmann", role="CEO"),
        accepted_at=in_year(year, day=16),
    )

    async def work(conn: Connection) -> None:
        key = str(opened.application_id)
        await CASES.decide(conn, command, cause(in_year(year)), recorder(str(uuid.uuid4()), key))
        await CASES.accept_grant(conn, accepted, cause(in_year(year, day=16)), recorder(str(uuid.uuid4()), key))

    await in_transaction(pool, work)
    return opened


async def test_the_guarded_payment_alone_never_pays_two_payments_past_the_grant(
    pool: asyncpg.Pool, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await give_budget(pool, year, 10_000_000)
    opened = await running_grant(pool, year, amount=1_000_000, total=4_000_000)
    barrier = asyncio.Barrier(8)

    async def pay() -> bool:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT 1")
            await barrier.wait()
            paid = await repository.pay_from_grant(conn, application_id=opened.application_id, amount_nok=300_000)
            if paid is not None:
                await asyncio.sleep(0.2)  # hold the row while the others queue on it
            return paid is not None

    results = await asyncio.gather(*(pay() for _ in range(8)))

    assert results.count(True) == 3
    paid_nok = await admin_db.fetchval(
        "SELECT paid_nok FROM funding.grants WHERE application_id = $1", opened.application_id
    )
    assert paid_nok == 900_000


async def test_payments_of_one_grant_racing_pay_what_is_payable_once_and_refuse_the_rest(
    pool: asyncpg.Pool, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await give_budget(pool, year, 10_000_000)
    opened = await running_grant(pool, year, amount=1_000_000, total=4_000_000)
    barrier = asyncio.Barrier(8)

    async def pay(documented: int) -> tuple[str, list[str]]:
        command = ApprovePayment(
            payment_id=uuid.uuid4(),
            application_id=opened.application_id,
            kind="interim",
            documented_costs_nok=documented,
            approved_by="t",
        )
        out = recorder(str(uuid.uuid4()), str(opened.application_id), ApprovePayment.ce_type)
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT 1")  # the transaction has begun
            await barrier.wait()
            await CASES.approve_payment(conn, command, cause(in_year(year, day=20)), out)
        return outcome(out)

    # Each documents half the costs: the first to go pays half the grant (500 000), and every later one finds
    # nothing more payable: what it read before it waited must not count, neither the grant's paid sum nor the
    # payments' history.
    results = await asyncio.gather(*(pay(2_000_000) for _ in range(8)))

    assert [kind for kind, _ in results].count("funding.PaymentApproved.v1") == 1
    assert sorted(codes for _, codes in results if codes) == [["interim_cap_reached"]] * 7
    row = await admin_db.fetchrow(
        """SELECT g.paid_nok, (SELECT sum(amount_nok) FROM funding.payments p WHERE p.application_id = g.application_id)
           FROM funding.grants g WHERE g.application_id = $1""",
        opened.application_id,
    )
    assert row is not None
    assert tuple(row) == (500_000, 500_000)
    await assert_books_balance(admin_db, year)
