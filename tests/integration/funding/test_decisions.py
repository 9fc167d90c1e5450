"""Funding cases and decisions through Kafka: every refusal code, grants, declines, withdrawals, thresholds."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from devkit.driver import Sender, TopicLog
from devkit.ids import organisation_number
from devkit.processes import ServiceProcess
from tests.integration.funding.conftest import (
    Application,
    allocate,
    answer,
    application,
    assert_books_balance,
    decide,
    fresh_years,
    in_year,
    is_event,
    make_ready,
    notifications,
    rejection_codes,
    send_application_event,
    withdraw,
)

FUNDED = "funding.FundingGranted.v1"
THRESHOLD = "funding.BudgetThresholdCrossed.v1"


async def budget_for(sender: Sender, topic_log: TopicLog, year: int, amount: int) -> None:
    await answer(topic_log, await allocate(sender, year, amount))


async def granted(topic_log: TopicLog, ce_id: str) -> dict[str, object]:
    record = await answer(topic_log, ce_id)
    assert record.ce_type == FUNDED, f"expected a grant, got {record.ce_type}: {record.data}"
    data: dict[str, object] = record.data
    return data


# cases


async def test_an_application_ready_for_decision_opens_a_case_once(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    app = application(size="medium", requested_nok=600_000, total_cost_nok=1_500_000)
    cause = await send_application_event(sender, "applications.ApplicationReadyForDecision.v1", app.key, app.ready())
    opened = (await topic_log.wait_for(is_event("funding.FundingCaseOpened.v1", app.key)))[0]
    await send_application_event(sender, "applications.ApplicationReadyForDecision.v1", app.key, app.ready())

    assert opened.causation_id == cause
    assert opened.data == {k: v for k, v in app.ready().items() if k != "status"}
    await topic_log.settle()
    assert len(topic_log.where(is_event("funding.FundingCaseOpened.v1", app.key))) == 1
    status = await admin_db.fetchval(
        "SELECT status FROM funding.funding_cases WHERE application_id = $1", app.application_id
    )
    assert status == "open"


# grants and declines


async def test_a_grant_within_the_rules_takes_its_money_from_the_year_of_the_decision(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await budget_for(sender, topic_log, year, 10_000_000)
    app = application()
    await make_ready(sender, topic_log, app)

    data = await granted(topic_log, await decide(sender, app, at=in_year(year), amount=800_000))

    assert data == {
        "application_id": app.key,
        "organisation_number": app.organisation_number,
        "amount_nok": 800_000,
        "programme_year": year,
        "budget_remaining_nok": 9_200_000,
    }
    totals = await assert_books_balance(admin_db, year)
    assert totals.committed == 800_000
    entry = await admin_db.fetchrow(
        "SELECT entry, actor, reason, amount_nok FROM funding.ledger WHERE application_id = $1", app.application_id
    )
    assert entry is not None
    assert dict(entry) == {
        "entry": "grant",
        "actor": "case-handler-17",
        "reason": "strong restructuring case",
        "amount_nok": -800_000,
    }


async def test_the_programme_year_is_the_year_in_oslo_when_the_decision_was_taken(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await budget_for(sender, topic_log, year, 1_000_000)
    app = application()
    await make_ready(sender, topic_log, app)

    # 23:30 UTC on New Year's Eve is already half past midnight in Oslo.
    at = datetime(year - 1, 12, 31, 23, 30, tzinfo=UTC)
    data = await granted(topic_log, await decide(sender, app, at=at, amount=500_000))

    assert data["programme_year"] == year
    assert (await assert_books_balance(admin_db, year)).remaining == 500_000


async def test_a_decline_closes_the_case_with_its_reason(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    app = application()
    await make_ready(sender, topic_log, app)

    declined = await answer(topic_log, await decide(sender, app, at=in_year(year), outcome="decline"))

    assert declined.ce_type == "funding.FundingDeclined.v1"
    assert declined.data == {"application_id": app.key, "reason": "too little systems innovation"}
    entry = await admin_db.fetchrow(
        "SELECT entry, actor, amount_nok FROM funding.ledger WHERE application_id = $1", app.application_id
    )
    assert entry is not None
    assert dict(entry) == {"entry": "decline", "actor": "case-handler-17", "amount_nok": 0}
    again = await decide(sender, app, at=in_year(year), amount=100_000)
    assert await rejection_codes(topic_log, again) == ["case_not_open"]


async def test_the_same_decision_sent_twice_is_applied_once(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await budget_for(sender, topic_log, year, 2_000_000)
    app = application()
    await make_ready(sender, topic_log, app)

    ce_id = await decide(sender, app, at=in_year(year), amount=700_000)
    await decide(sender, app, at=in_year(year), amount=700_000, ce_id=ce_id)
    marker = await decide(sender, app, at=in_year(year), amount=1)  # same key: answered after the copy

    assert await rejection_codes(topic_log, marker) == ["case_not_open"]
    await topic_log.settle()
    assert [r.ce_type for r in topic_log.caused_by(ce_id)] == [FUNDED]
    totals = await assert_books_balance(admin_db, year)
    assert totals.remaining == 1_300_000


# refusals


async def test_a_decision_without_an_open_case_is_refused_as_case_not_open(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await budget_for(sender, topic_log, year, 2_000_000)
    never_ready = application()

    for outcome in ("grant", "decline"):
        ce_id = await decide(sender, never_ready, at=in_year(year), outcome=outcome, amount=100_000)
        assert await rejection_codes(topic_log, ce_id) == ["case_not_open"]
        rejection = await answer(topic_log, ce_id)
        assert rejection.key == never_ready.key
        assert rejection.data["subject"] == never_ready.key


async def test_a_grant_over_the_requested_amount_is_refused(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await budget_for(sender, topic_log, year, 5_000_000)
    app = application(requested_nok=400_000, total_cost_nok=2_000_000)
    await make_ready(sender, topic_log, app)

    ce_id = await decide(sender, app, at=in_year(year), amount=400_001)

    assert await rejection_codes(topic_log, ce_id) == ["exceeds_requested"]
    assert (await assert_books_balance(admin_db, year)).remaining == 5_000_000


async def test_a_grant_over_the_size_class_aid_intensity_is_refused(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await budget_for(sender, topic_log, year, 5_000_000)
    large = application(size="large", requested_nok=1_000_000, total_cost_nok=2_000_000)
    await make_ready(sender, topic_log, large)

    over = await decide(sender, large, at=in_year(year), amount=500_001)  # 25 % of 2 000 000 is 500 000
    assert await rejection_codes(topic_log, over) == ["aid_intensity_exceeded"]
    at_limit = await decide(sender, large, at=in_year(year), amount=500_000)
    assert (await granted(topic_log, at_limit))["amount_nok"] == 500_000


async def test_a_grant_the_budget_cannot_cover_is_refused_and_the_case_handlers_are_told(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await budget_for(sender, topic_log, year, 300_000)
    app = application()
    await make_ready(sender, topic_log, app)

    ce_id = await decide(sender, app, at=in_year(year), amount=300_001)

    assert await rejection_codes(topic_log, ce_id) == ["insufficient_budget"]
    told = await topic_log.wait_for(lambda r: r.causation_id == ce_id and r.topic == "programme.notifications.v1")
    assert told[0].key == "case-handlers"
    assert told[0].data["recipient"] == {"email": None, "role": "case-handlers"}
    assert told[0].data["template"] == "funding.decision_refused"
    assert told[0].data["params"]["codes"] == ["insufficient_budget"]
    assert (await assert_books_balance(admin_db, year)).remaining == 300_000


async def test_a_grant_in_a_year_without_a_budget_is_refused_as_insufficient_budget(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    app = application()
    await make_ready(sender, topic_log, app)

    assert await rejection_codes(topic_log, await decide(sender, app, at=in_year(year), amount=1)) == [
        "insufficient_budget"
    ]


async def test_a_grant_without_a_positive_amount_is_refused_as_an_invalid_amount(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await budget_for(sender, topic_log, year, 1_000_000)
    app = application()
    await make_ready(sender, topic_log, app)

    assert await rejection_codes(topic_log, await decide(sender, app, at=in_year(year))) == ["invalid_amount"]
    assert await rejection_codes(topic_log, await decide(sender, app, at=in_year(year), amount=0)) == ["invalid_amount"]
    assert (await assert_books_balance(admin_db, year)).remaining == 1_000_000


async def test_a_refusal_names_every_rule_the_grant_breaks(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await budget_for(sender, topic_log, year, 100_000)
    app = application(requested_nok=200_000, total_cost_nok=400_000)
    await make_ready(sender, topic_log, app)

    ce_id = await decide(sender, app, at=in_year(year), amount=3_400_000)

    assert await rejection_codes(topic_log, ce_id) == [
        "exceeds_requested",
        "aid_intensity_exceeded",
        "insufficient_budget",
        "de_minimis_exceeded",
    ]


# de minimis


async def grant_in(sender: Sender, topic_log: TopicLog, app: Application, year: int, amount: int) -> str:
    await make_ready(sender, topic_log, app)
    ce_id = await decide(sender, app, at=in_year(year), amount=amount)
    await granted(topic_log, ce_id)
    return ce_id


async def test_de_minimis_counts_this_and_the_two_previous_programme_years(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    first = await fresh_years(admin_db, 4)
    for year in range(first, first + 4):
        await budget_for(sender, topic_log, year, 10_000_000)
    org = organisation_number()
    big = {"requested_nok": 1_500_000, "total_cost_nok": 4_000_000}
    await grant_in(sender, topic_log, application(org, **big), first, 1_500_000)
    await grant_in(sender, topic_log, application(org, **big), first + 1, 1_500_000)

    # first .. first+2 would hold 3 500 000: over the cap.
    third = application(org, **big)
    await make_ready(sender, topic_log, third)
    refused = await decide(sender, third, at=in_year(first + 2), amount=500_000)
    assert await rejection_codes(topic_log, refused) == ["de_minimis_exceeded"]
    told = await topic_log.wait_for(lambda r: r.causation_id == refused and r.topic == "programme.notifications.v1")
    assert told[0].data["params"]["codes"] == ["de_minimis_exceeded"]
    # 300 000 fits exactly: 3 300 000 is the cap, not over it.
    await granted(topic_log, await decide(sender, third, at=in_year(first + 2), amount=300_000))

    # In first+3 the first year has left the window: first+1 .. first+3 holds 1 800 000.
    fourth = application(org, **big)
    await make_ready(sender, topic_log, fourth)
    assert (await granted(topic_log, await decide(sender, fourth, at=in_year(first + 3), amount=1_500_000)))[
        "programme_year"
    ] == first + 3
    # ... and now it is full: 1 500 000 + 300 000 + 1 500 000 = 3 300 000.
    fifth = application(org, **big)
    await make_ready(sender, topic_log, fifth)
    assert await rejection_codes(topic_log, await decide(sender, fifth, at=in_year(first + 3), amount=1)) == [
        "de_minimis_exceeded"
    ]


async def test_de_minimis_window_follows_the_oslo_year_across_new_year(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    first = await fresh_years(admin_db, 4)
    for year in range(first, first + 4):
        await budget_for(sender, topic_log, year, 10_000_000)
    org = organisation_number()
    big = {"requested_nok": 1_500_000, "total_cost_nok": 4_000_000}
    await grant_in(sender, topic_log, application(org, **big), first, 1_500_000)
    await grant_in(sender, topic_log, application(org, **big), first + 1, 1_500_000)

    late = application(org, **big)
    await make_ready(sender, topic_log, late)
    # 22:30 UTC on the last day of first+2 is still first+2 in Oslo: first's grant counts.
    still = datetime(first + 2, 12, 31, 22, 30, tzinfo=UTC)
    assert await rejection_codes(topic_log, await decide(sender, late, at=still, amount=1_000_000)) == [
        "de_minimis_exceeded"
    ]
    # 23:30 UTC is first+3 in Oslo: first's grant has left the window.
    after = datetime(first + 2, 12, 31, 23, 30, tzinfo=UTC)
    assert (await granted(topic_log, await decide(sender, late, at=after, amount=1_000_000)))[
        "programme_year"
    ] == first + 3


# withdrawal


async def test_withdrawing_an_open_case_closes_it(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await budget_for(sender, topic_log, year, 1_000_000)
    app = application()
    await make_ready(sender, topic_log, app)

    cause = await withdraw(sender, app)
    closed = (await topic_log.wait_for(is_event("funding.FundingCaseClosed.v1", app.key)))[0]

    assert closed.causation_id == cause
    assert closed.data == {"application_id": app.key, "reason": "application_withdrawn"}
    assert await rejection_codes(topic_log, await decide(sender, app, at=in_year(year), amount=1)) == ["case_not_open"]
    entry = await admin_db.fetchrow(
        "SELECT entry, actor FROM funding.ledger WHERE application_id = $1", app.application_id
    )
    assert entry is not None
    assert dict(entry) == {"entry": "close", "actor": "/programme/applications"}


async def test_withdrawing_a_granted_application_releases_its_money_to_its_year(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await budget_for(sender, topic_log, year, 1_000_000)
    org = organisation_number()
    app = application(org, requested_nok=1_000_000, total_cost_nok=3_000_000)
    await grant_in(sender, topic_log, app, year, 1_000_000)
    assert (await assert_books_balance(admin_db, year)).remaining == 0

    await withdraw(sender, app)
    released = (await topic_log.wait_for(is_event("funding.FundingReleased.v1", app.key)))[0]

    assert released.data == {
        "application_id": app.key,
        "amount_nok": 1_000_000,
        "programme_year": year,
        "budget_remaining_nok": 1_000_000,
    }
    totals = await assert_books_balance(admin_db, year)
    assert (totals.remaining, totals.committed) == (1_000_000, 0)
    entries = await admin_db.fetch(
        "SELECT entry, amount_nok FROM funding.ledger WHERE application_id = $1 ORDER BY id", app.application_id
    )
    assert [(e["entry"], e["amount_nok"]) for e in entries] == [("grant", -1_000_000), ("release", 1_000_000)]
    # The money can be granted again, and the released grant no longer counts towards de minimis.
    again = application(org, requested_nok=1_000_000, total_cost_nok=3_000_000)
    await grant_in(sender, topic_log, again, year, 1_000_000)
    # A second withdrawal of the same application changes nothing.
    await withdraw(sender, app)
    await topic_log.settle()
    assert len(topic_log.where(is_event("funding.FundingReleased.v1", app.key))) == 1
    await assert_books_balance(admin_db, year)


async def test_a_released_grant_no_longer_counts_towards_de_minimis(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await budget_for(sender, topic_log, year, 20_000_000)
    org = organisation_number()
    big = {"requested_nok": 3_300_000, "total_cost_nok": 7_000_000}
    first = application(org, **big)
    await grant_in(sender, topic_log, first, year, 3_300_000)
    second = application(org, **big)
    await make_ready(sender, topic_log, second)
    assert await rejection_codes(topic_log, await decide(sender, second, at=in_year(year), amount=1)) == [
        "de_minimis_exceeded"
    ]

    await withdraw(sender, first)
    await topic_log.wait_for(is_event("funding.FundingReleased.v1", first.key))

    await granted(topic_log, await decide(sender, second, at=in_year(year), amount=3_300_000))


# thresholds


def thresholds(topic_log: TopicLog, year: int) -> list[str]:
    return [r.data["threshold"] for r in topic_log.where(is_event(THRESHOLD, f"budget-{year}"))]


async def test_budget_thresholds_are_crossed_once_each_per_year(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await budget_for(sender, topic_log, year, 1_000_000)
    apps = [application(requested_nok=500_000, total_cost_nok=1_000_000) for _ in range(5)]
    for app in apps:
        await make_ready(sender, topic_log, app)

    await granted(topic_log, await decide(sender, apps[0], at=in_year(year), amount=500_000))
    await granted(topic_log, await decide(sender, apps[1], at=in_year(year), amount=400_000))  # 100 000 left: 10 %
    await topic_log.settle(0.5)
    assert thresholds(topic_log, year) == []
    low = await decide(sender, apps[2], at=in_year(year), amount=1)  # under 10 %
    await granted(topic_log, low)
    crossed = (await topic_log.wait_for(is_event(THRESHOLD, f"budget-{year}")))[0]
    assert crossed.causation_id == low
    assert crossed.data == {"programme_year": year, "remaining_nok": 99_999, "threshold": "low", "total_nok": 1_000_000}
    await granted(topic_log, await decide(sender, apps[3], at=in_year(year), amount=50_000))
    await granted(topic_log, await decide(sender, apps[4], at=in_year(year), amount=49_999))
    await topic_log.wait_for(is_event(THRESHOLD, f"budget-{year}"), count=2)

    # Money back and spent again: below 10 % and at zero again, but each threshold only once a year.
    await withdraw(sender, apps[4])
    await topic_log.wait_for(is_event("funding.FundingReleased.v1", apps[4].key))
    again = application(requested_nok=500_000, total_cost_nok=1_000_000)
    await make_ready(sender, topic_log, again)
    await granted(topic_log, await decide(sender, again, at=in_year(year), amount=49_999))
    await topic_log.settle()
    assert thresholds(topic_log, year) == ["low", "exhausted"]
    told = notifications(topic_log, template="funding.budget_threshold", about=f"budget-{year}")
    assert sorted(n.data["params"]["threshold"] for n in told) == ["exhausted", "low"]
    assert {n.key for n in told} == {"programme-office"}
    assert {n.data["audience"] for n in told} == {"staff"}
    rows = await admin_db.fetch("SELECT threshold FROM funding.budget_thresholds WHERE programme_year = $1", year)
    assert sorted(r["threshold"] for r in rows) == ["exhausted", "low"]
    assert (await assert_books_balance(admin_db, year)).remaining == 0


async def test_a_grant_that_empties_the_budget_crosses_both_thresholds(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await budget_for(sender, topic_log, year, 1_000_000)
    app = application(requested_nok=1_000_000, total_cost_nok=2_000_000)
    await make_ready(sender, topic_log, app)

    ce_id = await decide(sender, app, at=in_year(year), amount=1_000_000)

    assert (await granted(topic_log, ce_id))["budget_remaining_nok"] == 0
    crossed = await topic_log.wait_for(lambda r: r.causation_id == ce_id and r.ce_type == THRESHOLD, count=2)
    assert [e.data["threshold"] for e in crossed] == ["low", "exhausted"]  # one key, one partition: in order
    await topic_log.wait_for(lambda r: r.topic == "programme.notifications.v1" and r.causation_id == ce_id, count=2)
    await topic_log.settle()
    told = notifications(topic_log, template="funding.budget_threshold", about=f"budget-{year}")
    assert sorted(n.data["params"]["threshold"] for n in told) == ["exhausted", "low"]
