"""A grant's follow-up through Kafka: acceptance, payments against documented costs, the final payment, withdrawal.

The service runs with the contract's defaults: 30 days to accept, interim payments up to 75 % of
the grant. Decisions are made in fresh far years, so no grant here comes near its deadline.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from devkit.driver import Record, Sender, TopicLog
from shared.topics import FUNDING_EVENTS, NOTIFICATIONS
from tests.integration.funding.conftest import (
    Application,
    accept,
    allocate,
    answer,
    application,
    approve_payment,
    assert_books_balance,
    decide,
    final_report_accepted,
    fresh_years,
    in_year,
    is_event,
    make_ready,
    notifications,
    rejection_codes,
    submit,
    withdraw,
)

pytestmark = pytest.mark.usefixtures("funding")

GRANTED = "funding.FundingGranted.v1"
ACCEPTED = "funding.GrantAccepted.v1"
PAID = "funding.PaymentApproved.v1"
CLOSED = "funding.FundingCaseClosed.v1"
RELEASED = "funding.FundingReleased.v1"
REJECTED = "funding.CommandRejected.v1"


async def granted(
    sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool, *, amount: int = 800_000
) -> tuple[Application, int, str]:
    """A fresh application of 2 MNOK total cost, submitted, ready and granted ``amount`` in a fresh year;
    returns it, the year and the applicant's e-mail."""
    year = await fresh_years(admin_db)
    await answer(topic_log, await allocate(sender, year, 10_000_000))
    app = application()
    contact = await submit(sender, app)
    await make_ready(sender, topic_log, app)
    decision = await answer(topic_log, await decide(sender, app, at=in_year(year), amount=amount))
    assert decision.ce_type == GRANTED
    return app, year, contact


async def running(sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool) -> tuple[Application, int, str]:
    """A grant of 800 000 NOK (of 2 MNOK total cost), accepted: the project runs."""
    app, year, contact = await granted(sender, topic_log, admin_db)
    assert (await answer(topic_log, await accept(sender, app, at=in_year(year, day=20)))).ce_type == ACCEPTED
    return app, year, contact


async def paid(sender: Sender, topic_log: TopicLog, app: Application, **payment: Any) -> Record:
    record = await answer(topic_log, await approve_payment(sender, app, **payment))
    assert record.ce_type == PAID, record.data
    return record


async def status(admin_db: asyncpg.Pool, app: Application) -> str:
    result: str = await admin_db.fetchval(
        "SELECT status FROM funding.funding_cases WHERE application_id = $1", app.application_id
    )
    return result


# acceptance


async def test_a_grant_awaits_acceptance_and_the_applicant_is_told_the_deadline(
    sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    app, year, contact = await granted(sender, topic_log, admin_db)

    told = await topic_log.wait_for(
        lambda r: (
            r.topic == NOTIFICATIONS
            and r.data.get("template") == "funding.grant_awaiting_acceptance"
            and r.data.get("about") == app.key
        )
    )
    assert told[0].data["recipient"] == {"email": contact, "role": None}
    assert told[0].data["audience"] == "applicant"
    params = told[0].data["params"]
    assert params["amount_nok"] == 800_000
    assert params["programme_year"] == year
    assert params["accept_by"] == (in_year(year) + timedelta(days=30)).isoformat()
    accept_by = await admin_db.fetchval(
        "SELECT accept_by FROM funding.grants WHERE application_id = $1", app.application_id
    )
    assert accept_by == in_year(year) + timedelta(days=30)
    assert await status(admin_db, app) == "granted"


async def test_accepting_within_the_period_gives_grant_accepted_once(
    sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    app, year, _ = await granted(sender, topic_log, admin_db)
    at = in_year(year) + timedelta(days=29)

    accepted = await answer(topic_log, await accept(sender, app, at=at))

    assert accepted.ce_type == ACCEPTED
    assert {k: accepted.data[k] for k in ("application_id", "amount_nok", "programme_year")} == {
        "application_id": app.key,
        "amount_nok": 800_000,
        "programme_year": year,
    }
    assert datetime.fromisoformat(accepted.data["accepted_at"]) == at
    assert await status(admin_db, app) == "accepted"
    assert await rejection_codes(topic_log, await accept(sender, app, at=at)) == ["already_accepted"]
    await assert_books_balance(admin_db, year)


async def test_acceptance_refusals(sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool) -> None:
    app, year, _ = await granted(sender, topic_log, admin_db)
    late = in_year(year) + timedelta(days=30, seconds=1)
    assert await rejection_codes(topic_log, await accept(sender, app, at=late)) == ["acceptance_period_over"]
    assert await status(admin_db, app) == "granted"

    never_granted = application()
    await make_ready(sender, topic_log, never_granted)
    assert await rejection_codes(topic_log, await accept(sender, never_granted, at=in_year(year))) == ["unknown_grant"]
    assert await rejection_codes(topic_log, await accept(sender, application(), at=in_year(year))) == ["unknown_grant"]

    await withdraw(sender, app)
    await topic_log.wait_for(is_event(RELEASED, app.key))
    assert await rejection_codes(topic_log, await accept(sender, app, at=in_year(year, day=16))) == ["grant_not_open"]


# payments


async def test_interim_payments_pay_the_grants_share_of_documented_costs_up_to_the_cap(
    sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    app, year, contact = await running(sender, topic_log, admin_db)

    # Half the 2 MNOK documented: 40 % of it, 400 000 of the 800 000 grant.
    first = await paid(sender, topic_log, app, kind="interim", documented=1_000_000)
    assert {k: first.data[k] for k in ("kind", "amount_nok", "paid_total_nok", "remaining_grant_nok")} == {
        "kind": "interim",
        "amount_nok": 400_000,
        "paid_total_nok": 400_000,
        "remaining_grant_nok": 400_000,
    }
    # All of it documented would pay 400 000 more, but interim payments stop at 75 %: 600 000.
    second = await paid(sender, topic_log, app, kind="interim", documented=2_000_000)
    assert (second.data["amount_nok"], second.data["paid_total_nok"]) == (200_000, 600_000)
    refused = await approve_payment(sender, app, kind="interim", documented=2_000_000)
    assert await rejection_codes(topic_log, refused) == ["interim_cap_reached"]

    # The finance system gets a payment order for each, with the organisation number; the applicant is told.
    orders = notifications(topic_log, template="funding.payment_order", about=app.key)
    assert [(o.data["recipient"]["role"], o.data["params"]["amount_nok"]) for o in orders] == [
        ("finance", 400_000),
        ("finance", 200_000),
    ]
    assert all(o.data["params"]["organisation_number"] == app.organisation_number for o in orders)
    told = notifications(topic_log, template="funding.payment_approved", about=app.key)
    assert [(t.data["recipient"]["email"], t.data["params"]["paid_total_nok"]) for t in told] == [
        (contact, 400_000),
        (contact, 600_000),
    ]
    assert (
        await admin_db.fetchval("SELECT paid_nok FROM funding.grants WHERE application_id = $1", app.application_id)
        == 600_000
    )
    payments = await admin_db.fetchval(
        "SELECT count(*) FROM funding.payments WHERE application_id = $1", app.application_id
    )
    assert payments == 2
    await assert_books_balance(admin_db, year)


async def test_payment_refusals(sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool) -> None:
    offered, year, _ = await granted(sender, topic_log, admin_db)
    assert await rejection_codes(
        topic_log, await approve_payment(sender, offered, kind="interim", documented=100_000)
    ) == ["grant_not_accepted"]
    assert await rejection_codes(
        topic_log, await approve_payment(sender, application(), kind="interim", documented=100_000)
    ) == ["unknown_grant"]

    app, _, _ = await running(sender, topic_log, admin_db)
    for documented in (0, -5):
        codes = await rejection_codes(
            topic_log, await approve_payment(sender, app, kind="interim", documented=documented)
        )
        assert codes == ["invalid_amount"]
    await paid(sender, topic_log, app, kind="interim", documented=500_000)
    lower = await approve_payment(sender, app, kind="interim", documented=400_000)
    assert await rejection_codes(topic_log, lower) == ["invalid_amount"]
    final = await approve_payment(sender, app, kind="final", documented=2_000_000)
    assert await rejection_codes(topic_log, final) == ["final_report_not_accepted"]
    assert (
        await admin_db.fetchval("SELECT paid_nok FROM funding.grants WHERE application_id = $1", app.application_id)
        == 200_000
    )
    await assert_books_balance(admin_db, year)


async def test_a_payment_id_sent_again_is_answered_the_same_and_with_other_content_refused(
    sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    app, _, _ = await running(sender, topic_log, admin_db)
    payment_id = uuid.uuid4()
    first = await paid(sender, topic_log, app, kind="interim", documented=1_000_000, payment_id=payment_id)

    again = await paid(sender, topic_log, app, kind="interim", documented=1_000_000, payment_id=payment_id)
    other = await approve_payment(sender, app, kind="interim", documented=1_200_000, payment_id=payment_id)

    assert again.data == first.data
    assert again.ce_id != first.ce_id
    assert await rejection_codes(topic_log, other) == ["duplicate_payment"]
    await topic_log.settle()
    # Paid once, ordered once.
    assert (
        await admin_db.fetchval("SELECT paid_nok FROM funding.grants WHERE application_id = $1", app.application_id)
        == 400_000
    )
    assert len(notifications(topic_log, template="funding.payment_order", about=app.key)) == 1
    assert len(notifications(topic_log, template="funding.payment_approved", about=app.key)) == 1


async def test_the_final_payment_after_the_accepted_report_closes_the_case_and_releases_the_unpaid_rest(
    sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    app, year, _ = await running(sender, topic_log, admin_db)
    await paid(sender, topic_log, app, kind="interim", documented=1_000_000)
    remaining_before = await admin_db.fetchval(
        "SELECT remaining_nok FROM funding.budgets WHERE programme_year = $1", year
    )
    await final_report_accepted(sender, app)
    await wait_until_report_accepted(admin_db, app)

    # 1.8 MNOK of the 2 MNOK documented in the end: 720 000 of the grant, 320 000 more; 80 000 unpaid.
    final_id = await approve_payment(sender, app, kind="final", documented=1_800_000)
    final = await answer(topic_log, final_id)

    assert final.ce_type == PAID
    assert (final.data["amount_nok"], final.data["paid_total_nok"], final.data["remaining_grant_nok"]) == (
        320_000,
        720_000,
        80_000,
    )
    caused = await topic_log.wait_for(lambda r: r.causation_id == final_id and r.topic == FUNDING_EVENTS, count=3)
    by_type = {r.ce_type: r for r in caused}
    assert set(by_type) == {PAID, CLOSED, RELEASED}
    assert by_type[CLOSED].data == {"application_id": app.key, "reason": "completed"}
    assert by_type[RELEASED].data == {
        "application_id": app.key,
        "amount_nok": 80_000,
        "programme_year": year,
        "budget_remaining_nok": remaining_before + 80_000,
    }
    assert await status(admin_db, app) == "completed"
    totals = await assert_books_balance(admin_db, year)
    assert totals.remaining == 10_000_000 - 720_000
    # The case is closed: no more payments.
    after = await approve_payment(sender, app, kind="interim", documented=2_000_000)
    assert await rejection_codes(topic_log, after) == ["grant_not_open"]


async def wait_until_report_accepted(admin_db: asyncpg.Pool, app: Application) -> None:
    """FinalReportAccepted is an event with no answer of its own: wait for its effect, with a deadline."""
    deadline = time.monotonic() + 30
    while not await admin_db.fetchval(
        "SELECT final_report_accepted_at IS NOT NULL FROM funding.grants WHERE application_id = $1",
        app.application_id,
    ):
        assert time.monotonic() < deadline, "the final report's acceptance did not reach the funding case"
        await asyncio.sleep(0.1)


# withdrawal after payments


async def test_a_withdrawal_after_payments_releases_only_the_unpaid_rest_and_tells_case_handlers(
    sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    app, year, _ = await running(sender, topic_log, admin_db)
    await paid(sender, topic_log, app, kind="interim", documented=1_000_000)

    await withdraw(sender, app)

    released = (await topic_log.wait_for(is_event(RELEASED, app.key)))[0]
    assert (released.data["amount_nok"], released.data["programme_year"]) == (400_000, year)
    told = await topic_log.wait_for(
        lambda r: (
            r.topic == NOTIFICATIONS
            and r.data.get("template") == "funding.withdrawn_after_payments"
            and r.data.get("about") == app.key
        )
    )
    assert told[0].data["recipient"] == {"email": None, "role": "case-handlers"}
    assert (told[0].data["params"]["paid_nok"], told[0].data["params"]["released_nok"]) == (400_000, 400_000)
    assert await status(admin_db, app) == "released"
    totals = await assert_books_balance(admin_db, year)
    assert totals.remaining == 10_000_000 - 400_000


async def test_a_withdrawal_before_any_payment_releases_the_whole_grant_and_tells_no_one(
    sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    app, year, _ = await running(sender, topic_log, admin_db)

    await withdraw(sender, app)

    released = (await topic_log.wait_for(is_event(RELEASED, app.key)))[0]
    assert released.data["amount_nok"] == 800_000
    await topic_log.settle()
    assert notifications(topic_log, template="funding.withdrawn_after_payments", about=app.key) == []
    totals = await assert_books_balance(admin_db, year)
    assert totals.remaining == 10_000_000


async def test_an_ended_grant_counts_toward_de_minimis_by_what_it_paid(
    sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    app, year, _ = await running(sender, topic_log, admin_db)
    await paid(sender, topic_log, app, kind="interim", documented=1_000_000)
    await withdraw(sender, app)
    await topic_log.wait_for(is_event(RELEASED, app.key))

    # The organisation keeps 400 000 of aid: 2 900 000 more fits the 3 300 000 cap, 3 000 000 does not.
    too_much = application(app.organisation_number, requested_nok=3_000_000, total_cost_nok=6_000_000)
    fits = application(app.organisation_number, requested_nok=2_900_000, total_cost_nok=6_000_000)
    for later in (too_much, fits):
        await make_ready(sender, topic_log, later)
    refused = await decide(sender, too_much, at=in_year(year, day=20), amount=3_000_000)
    assert await rejection_codes(topic_log, refused) == ["de_minimis_exceeded"]
    granted_rest = await answer(topic_log, await decide(sender, fits, at=in_year(year, day=20), amount=2_900_000))
    assert granted_rest.ce_type == GRANTED
    await assert_books_balance(admin_db, year)
