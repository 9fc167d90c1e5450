"""The funding look-ups over HTTP on the running service: a year's budget and one case, after commands via Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from devkit.driver import Sender, TopicLog
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.lookups import token_hash
from tests.integration.funding.conftest import (
    accept,
    allocate,
    answer,
    application,
    approve_payment,
    decide,
    fresh_years,
    funding_process,
    in_year,
    is_event,
    make_ready,
    submit,
    withdraw,
)

TOKEN = "a-token-for-the-funding-look-ups"  # noqa: S105 - a test token
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GRANTED = "funding.FundingGranted.v1"
DECLINED = "funding.FundingDeclined.v1"
PAID = "funding.PaymentApproved.v1"
RELEASED = "funding.FundingReleased.v1"


@pytest.fixture(scope="module")
async def funding(system: System) -> AsyncIterator[ServiceProcess]:
    proc = funding_process(system, LOOKUP_TOKEN_SHA256=token_hash(TOKEN))
    proc.start()
    await proc.wait_ready()
    yield proc
    proc.stop()


@pytest.fixture
async def http(funding: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=funding.url, timeout=10.0) as client:
        yield client


async def get(http: httpx.AsyncClient, path: str) -> dict[str, Any]:
    response = await http.get(path, headers=AUTH)
    assert response.status_code == httpx.codes.OK, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_years_budget_adds_up_what_was_allocated_granted_paid_and_released(
    http: httpx.AsyncClient, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await answer(topic_log, await allocate(sender, year, 1_500_000))
    await answer(topic_log, await allocate(sender, year, 500_000))
    withdrawn, kept = application(), application(requested_nok=1_000_000)
    for app in (withdrawn, kept):
        await submit(sender, app)
        await make_ready(sender, topic_log, app)
    assert (
        await answer(topic_log, await decide(sender, withdrawn, at=in_year(year), amount=800_000))
    ).ce_type == GRANTED
    await answer(topic_log, await accept(sender, withdrawn, at=in_year(year, day=20)))
    payment = await answer(topic_log, await approve_payment(sender, withdrawn, kind="interim", documented=1_000_000))
    assert (payment.ce_type, payment.data["amount_nok"]) == (PAID, 400_000)
    await withdraw(sender, withdrawn)
    await topic_log.wait_for(is_event(RELEASED, withdrawn.key))  # the unpaid 400 000 back to the year
    # 2 000 000 - 800 000 + 400 000 = 1 600 000 left; this grant leaves 600 000, above the low threshold
    grant = await answer(topic_log, await decide(sender, kept, at=in_year(year), amount=1_000_000))
    assert grant.ce_type == GRANTED, grant.data
    await answer(topic_log, await decide(sender, kept, at=in_year(year), amount=1_000_000))  # refused: decided

    answer_ = await get(http, f"/v1/budgets/{year}")

    assert {k: v for k, v in answer_.items() if k not in {"thresholds_crossed", "months"}} == {
        "programme_year": year,
        "allocated_nok": 2_000_000,
        "granted_nok": 1_800_000,
        "released_nok": 400_000,
        "paid_nok": 400_000,
        "remaining_nok": 600_000,
        "grants": 2,
    }
    assert answer_["allocated_nok"] - answer_["granted_nok"] + answer_["released_nok"] == answer_["remaining_nok"]
    assert [(t["threshold"], t["remaining_nok"]) for t in answer_["thresholds_crossed"]] == []
    # Both grants were decided in June; the release came when the withdrawal did.
    months = answer_["months"]
    assert [(m["month"], m["granted_nok"]) for m in months if m["granted_nok"]] == [(6, 1_800_000)]
    assert sum(m["released_nok"] for m in months) == 400_000


async def test_a_low_budget_shows_the_threshold_it_crossed(
    http: httpx.AsyncClient, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await answer(topic_log, await allocate(sender, year, 1_000_000))
    app = application(requested_nok=950_000)
    await make_ready(sender, topic_log, app)
    assert (await answer(topic_log, await decide(sender, app, at=in_year(year), amount=950_000))).ce_type == GRANTED

    crossed = (await get(http, f"/v1/budgets/{year}"))["thresholds_crossed"]

    assert [(t["threshold"], t["remaining_nok"]) for t in crossed] == [("low", 50_000)]


async def test_a_case_shows_its_decision_basis_grant_and_payments_and_no_contact(
    http: httpx.AsyncClient, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = await fresh_years(admin_db)
    await answer(topic_log, await allocate(sender, year, 5_000_000))
    app, declined = application(), application()
    contact = await submit(sender, app)
    for each in (app, declined):
        await make_ready(sender, topic_log, each)
    granted = await answer(topic_log, await decide(sender, app, at=in_year(year), amount=600_000))
    await answer(topic_log, await accept(sender, app, at=in_year(year, day=20)))
    first = await answer(topic_log, await approve_payment(sender, app, kind="interim", documented=500_000))
    second = await answer(topic_log, await approve_payment(sender, app, kind="interim", documented=750_000))
    refusal = await answer(topic_log, await decide(sender, declined, at=in_year(year), outcome="decline"))
    assert refusal.ce_type == DECLINED

    case = await get(http, f"/v1/cases/{app.key}")

    assert case["status"] == "accepted"
    assert (case["requested_nok"], case["total_cost_nok"]) == (800_000, 2_000_000)
    assert case["decision_basis"] == granted.data["basis"]
    assert case["grant"]["programme_year"] == year
    assert (first.ce_type, second.ce_type) == (PAID, PAID), second.data
    # the grant's share of the documented costs so far (cumulative): 600 000 / 2 000 000 = 30 %
    assert (first.data["amount_nok"], second.data["amount_nok"]) == (150_000, 75_000)
    assert (case["grant"]["amount_nok"], case["grant"]["paid_nok"]) == (600_000, 225_000)
    assert [(p["payment_id"], p["amount_nok"], p["paid_total_nok"]) for p in case["payments"]] == [
        (first.data["payment_id"], 150_000, 150_000),
        (second.data["payment_id"], 75_000, 225_000),
    ]
    assert contact not in (await http.get(f"/v1/cases/{app.key}", headers=AUTH)).text
    declined_case = await get(http, f"/v1/cases/{declined.key}")
    assert declined_case["status"] == "declined"
    assert declined_case["decision_basis"] == refusal.data["basis"]
    assert (declined_case["grant"], declined_case["payments"]) == (None, [])


async def test_unknown_years_and_cases_are_not_found_and_tokens_are_required(http: httpx.AsyncClient) -> None:
    assert (await http.get("/v1/budgets/2001", headers=AUTH)).status_code == httpx.codes.NOT_FOUND
    assert (await http.get("/v1/budgets/twenty", headers=AUTH)).status_code == httpx.codes.BAD_REQUEST
    missing = await http.get("/v1/cases/00000000-0000-4000-8000-000000000000", headers=AUTH)
    assert missing.status_code == httpx.codes.NOT_FOUND
    for path in ("/v1/budgets/2027", "/v1/cases/00000000-0000-4000-8000-000000000000"):
        refused = await http.get(path, headers={"Authorization": "Bearer not-the-token"})
        assert (refused.status_code, refused.json()["error"]) == (401, "unauthorized")
    assert (await http.get("/health/ready")).status_code == httpx.codes.OK
    document = (await http.get("/docs/openapi.json")).json()
    assert set(document["paths"]) == {"/v1/budgets/{year}", "/v1/cases/{application_id}"}
    assert "DecisionBasis" in document["components"]["schemas"]
