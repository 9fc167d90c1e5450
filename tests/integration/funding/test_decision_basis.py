"""A decision's basis through Kafka: a grant, a refused grant and a decline carry the figures their rules used,
and a decided case keeps them in funding's schema."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from devkit.driver import Sender, TopicLog
from devkit.ids import organisation_number
from devkit.processes import ServiceProcess
from tests.integration.funding.conftest import (
    allocate,
    answer,
    application,
    decide,
    fresh_years,
    in_year,
    make_ready,
)


def aid(first: int, by_year: dict[int, int]) -> list[dict[str, int]]:
    """The organisation's aid in each year from two before the decision's year to two after it."""
    return [{"programme_year": y, "aid_nok": by_year.get(y, 0)} for y in range(first - 2, first + 3)]


async def kept_basis(admin_db: asyncpg.Pool, application_id: str) -> Any:
    """The basis the case keeps in funding's schema, as JSON."""
    kept = await admin_db.fetchval(
        "SELECT decision_basis::text FROM funding.funding_cases WHERE application_id = $1::uuid", application_id
    )
    return None if kept is None else json.loads(kept)


async def test_a_grant_a_refusal_and_a_decline_carry_the_figures_their_rules_used(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    org = organisation_number()
    await answer(topic_log, await allocate(sender, year - 1, 2_000_000))
    await answer(topic_log, await allocate(sender, year, 5_000_000))
    earlier, app, medium, declined = (
        application(org, requested_nok=1_000_000, total_cost_nok=2_000_000),
        application(org),  # small: 800 000 of a 2 000 000 project requested
        application(org, size="medium"),
        application(org),
    )
    for each in (earlier, app, medium, declined):
        await make_ready(sender, topic_log, each)
    last_year = await answer(topic_log, await decide(sender, earlier, at=in_year(year - 1), amount=1_000_000))
    assert last_year.ce_type == "funding.FundingGranted.v1", last_year.data

    grant = await answer(topic_log, await decide(sender, app, at=in_year(year), amount=600_000))

    assert grant.ce_type == "funding.FundingGranted.v1", grant.data
    assert grant.data["basis"] == {
        "programme_year": year,
        "requested_nok": 800_000,
        "amount_nok": 600_000,
        "total_cost_nok": 2_000_000,
        "size": "small",
        "aid_intensity_pct": 30.0,
        "max_aid_intensity_pct": 50,
        "de_minimis_aid": aid(year, {year - 1: 1_000_000}),
        "de_minimis_window_nok": 1_600_000,
        "de_minimis_cap_nok": 3_300_000,
        "budget_remaining_before_nok": 5_000_000,
        "budget_remaining_after_nok": 4_400_000,
    }

    assert await kept_basis(admin_db, app.key) == grant.data["basis"]

    refused = await answer(topic_log, await decide(sender, medium, at=in_year(year), amount=900_000))

    assert refused.ce_type == "funding.CommandRejected.v1", refused.data
    assert [r["code"] for r in refused.data["reasons"]] == ["exceeds_requested", "aid_intensity_exceeded"]
    basis: dict[str, Any] = refused.data["basis"]
    assert (basis["amount_nok"], basis["requested_nok"]) == (900_000, 800_000)
    assert (basis["size"], basis["aid_intensity_pct"], basis["max_aid_intensity_pct"]) == ("medium", 45.0, 40)
    assert basis["de_minimis_aid"] == aid(year, {year - 1: 1_000_000, year: 600_000})
    assert basis["de_minimis_window_nok"] == 2_500_000
    assert (basis["budget_remaining_before_nok"], basis["budget_remaining_after_nok"]) == (4_400_000, 4_400_000)
    assert await kept_basis(admin_db, medium.key) is None  # a refusal decides nothing: the case stays open

    decline = await answer(topic_log, await decide(sender, declined, at=in_year(year), outcome="decline"))

    assert decline.ce_type == "funding.FundingDeclined.v1", decline.data
    assert decline.data["basis"] == {
        "programme_year": year,
        "requested_nok": 800_000,
        "amount_nok": None,
        "total_cost_nok": 2_000_000,
        "size": "small",
        "aid_intensity_pct": None,
        "max_aid_intensity_pct": 50,
        "de_minimis_aid": [],
        "de_minimis_window_nok": None,
        "de_minimis_cap_nok": 3_300_000,
        "budget_remaining_before_nok": None,
        "budget_remaining_after_nok": None,
    }
    assert await kept_basis(admin_db, declined.key) == decline.data["basis"]


async def test_a_refusal_for_the_de_minimis_cap_shows_the_window_over_it(
    funding: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    org = organisation_number()
    await answer(topic_log, await allocate(sender, year, 10_000_000))
    first, second = (
        application(org, requested_nok=3_000_000, total_cost_nok=6_000_000),
        application(org, requested_nok=500_000, total_cost_nok=1_000_000),
    )
    for each in (first, second):
        await make_ready(sender, topic_log, each)
    assert (await answer(topic_log, await decide(sender, first, at=in_year(year), amount=3_000_000))).ce_type == (
        "funding.FundingGranted.v1"
    )

    refused = await answer(topic_log, await decide(sender, second, at=in_year(year), amount=400_000))

    assert [r["code"] for r in refused.data["reasons"]] == ["de_minimis_exceeded"]
    basis = refused.data["basis"]
    assert (basis["de_minimis_window_nok"], basis["de_minimis_cap_nok"]) == (3_400_000, 3_300_000)
    assert basis["de_minimis_aid"] == aid(year, {year: 3_000_000})
    assert (basis["budget_remaining_before_nok"], basis["budget_remaining_after_nok"]) == (7_000_000, 7_000_000)
