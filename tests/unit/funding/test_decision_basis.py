"""A funding decision's basis: the figures each rule used, on a grant, a decline and a refusal."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from funding.domain import cases
from funding.domain.budgets import Budget
from funding.domain.cases import Case
from funding.domain.policy import Policy

from shared.contract.funding import (
    AidInYear,
    DecideFunding,
    DecisionBasis,
    FundingCaseOpened,
    FundingDeclined,
    FundingGranted,
)

POLICY = Policy.default()
AT = datetime(2027, 3, 1, 10, tzinfo=UTC)
YEAR = 2027


def case(*, size: str = "small", requested_nok: int = 800_000, total_cost_nok: int = 2_000_000) -> Case:
    opened = FundingCaseOpened(
        application_id=uuid.uuid4(),
        organisation_number="974760673",
        applicant_name="Kongsberg Maritim Teknikk AS",
        size=size,
        lead_cluster="nce-systems-engineering",
        project_type="company_project",
        title="Digital twin",
        requested_nok=requested_nok,
        total_cost_nok=total_cost_nok,
    )
    return Case(opened)


def decide(
    c: Case, outcome: str = "grant", amount: int | None = 600_000, *, remaining: int = 5_000_000, aid: dict[int, int]
) -> cases.Decision:
    command = DecideFunding.model_validate(
        {
            "application_id": str(c.application_id),
            "outcome": outcome,
            "amount_nok": amount,
            "reason": "scored 5",
            "decided_by": "case handler",
        }
    )
    return cases.decide(
        c,
        command,
        at=AT,
        year=YEAR,
        budget=Budget(YEAR, 10_000_000, remaining),
        aid_by_year=aid,
        crossed=frozenset(),
        policy=POLICY,
    )


def aid(by_year: dict[int, int]) -> list[AidInYear]:
    return [AidInYear(programme_year=y, aid_nok=by_year.get(y, 0)) for y in range(2025, 2030)]


def test_a_grant_carries_every_figure_its_rules_used() -> None:
    prior = {2025: 1_000_000, 2026: 500_000, 2028: 200_000}
    decision = decide(case(), amount=600_000, remaining=5_000_000, aid=prior)

    (granted,) = [e for e in decision.events if isinstance(e, FundingGranted)]
    assert granted.basis == DecisionBasis(
        programme_year=2027,
        requested_nok=800_000,
        amount_nok=600_000,
        total_cost_nok=2_000_000,
        size="small",
        aid_intensity_pct=30.0,
        max_aid_intensity_pct=50,
        de_minimis_aid=aid(prior),
        de_minimis_window_nok=2_100_000,  # 2025-2027: 1 000 000 + 500 000 + 600 000
        de_minimis_cap_nok=3_300_000,
        budget_remaining_before_nok=5_000_000,
        budget_remaining_after_nok=4_400_000,
    )
    assert granted.basis.budget_remaining_after_nok == granted.budget_remaining_nok


def test_a_refused_grant_carries_the_figures_that_refused_it_and_takes_nothing() -> None:
    prior = {2026: 3_000_000}
    decision = decide(case(size="medium"), amount=900_000, remaining=700_000, aid=prior)

    assert decision.refused
    assert sorted(r.code for r in decision.reasons) == [
        "aid_intensity_exceeded",
        "de_minimis_exceeded",
        "exceeds_requested",
        "insufficient_budget",
    ]
    basis = decision.basis
    assert isinstance(basis, DecisionBasis)
    assert (basis.amount_nok, basis.requested_nok) == (900_000, 800_000)
    assert (basis.aid_intensity_pct, basis.max_aid_intensity_pct) == (45.0, 40)
    assert (basis.de_minimis_window_nok, basis.de_minimis_cap_nok) == (3_900_000, 3_300_000)
    assert basis.de_minimis_aid == aid(prior)
    assert (basis.budget_remaining_before_nok, basis.budget_remaining_after_nok) == (700_000, 700_000)


def test_an_unknown_size_class_has_no_cap_but_its_intensity_is_recorded() -> None:
    decision = decide(case(size="giant"), amount=500_000, aid={})
    assert isinstance(decision.basis, DecisionBasis)
    assert (decision.basis.aid_intensity_pct, decision.basis.max_aid_intensity_pct) == (25.0, None)


def test_an_intensity_is_rounded_for_reading_while_the_rule_compares_whole_amounts() -> None:
    # 1 000 001 of 2 000 000 is 50.00005 %: over 50 % by the rule, and 50.0 when rounded for the record.
    exact = decide(case(requested_nok=1_000_001, total_cost_nok=2_000_000), amount=1_000_000, aid={})
    assert exact.reasons == ()
    over = decide(case(requested_nok=1_000_001, total_cost_nok=2_000_000), amount=1_000_001, aid={})
    assert [r.code for r in over.reasons] == ["aid_intensity_exceeded"]
    assert isinstance(over.basis, DecisionBasis)
    assert over.basis.aid_intensity_pct == 50.0


def test_a_decline_carries_the_cases_figures_and_the_caps_and_no_money_rule() -> None:
    decision = decide(case(), "decline", None, aid={})

    (declined,) = decision.events
    assert isinstance(declined, FundingDeclined)
    assert declined.basis == DecisionBasis(
        programme_year=2027,
        requested_nok=800_000,
        amount_nok=None,
        total_cost_nok=2_000_000,
        size="small",
        aid_intensity_pct=None,
        max_aid_intensity_pct=50,
        de_minimis_aid=[],
        de_minimis_window_nok=None,
        de_minimis_cap_nok=3_300_000,
        budget_remaining_before_nok=None,
        budget_remaining_after_nok=None,
    )


def test_a_refusal_before_the_money_rules_has_no_basis() -> None:
    c = case()
    decided = Case(c.opened, status="declined")
    assert decide(decided, aid={}).basis is None
    assert decide(c, amount=0, aid={}).basis is None


def test_a_grant_that_lost_the_race_for_the_budget_carries_what_it_saw_with_nothing_taken() -> None:
    c = case()
    granted = next(e for e in decide(c, aid={}).events if isinstance(e, FundingGranted))
    lost = cases.grant_lost_race(c, amount_nok=600_000, year=YEAR, seen=granted.basis)
    assert [r.code for r in lost.reasons] == ["insufficient_budget"]
    assert isinstance(lost.basis, DecisionBasis)
    assert (lost.basis.budget_remaining_before_nok, lost.basis.budget_remaining_after_nok) == (5_000_000, 5_000_000)


def test_the_de_minimis_window_judged_is_the_first_over_the_cap() -> None:
    # The window ending in 2029 is fullest, but 2027-2029 is checked after 2025-2027 and 2026-2028.
    found = cases.de_minimis_check(
        amount_nok=100_000, aid_by_year={2025: 3_250_000, 2029: 3_000_000}, year=YEAR, policy=POLICY
    )
    assert found.refusal is not None
    assert found.window_nok == 3_350_000
    fine = cases.de_minimis_check(
        amount_nok=100_000, aid_by_year={2026: 1_000_000, 2029: 2_000_000}, year=YEAR, policy=POLICY
    )
    assert (fine.refusal, fine.window_nok) == (None, 2_100_000)
