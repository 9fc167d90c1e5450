"""The funding rules on their own: programme years, budgets, refusals, de minimis windows and thresholds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from funding.domain import budgets, cases
from funding.domain.budgets import Budget, BudgetError
from funding.domain.cases import Case, CaseStatus
from funding.domain.policy import Policy

from shared.contract.applications import ApplicationReadyForDecision
from shared.contract.base import Reason
from shared.contract.funding import (
    AllocateBudget,
    BudgetAllocated,
    FundingCaseClosed,
    FundingCaseOpened,
    FundingReleased,
)
from shared.outcome import NOTHING

POLICY = Policy.default()
domain = cases  # the rules of a decision; the budget's own are `budgets`


def case(status: CaseStatus = "open", granted_nok: int | None = None, **changes: object) -> Case:
    fields: dict[str, object] = {
        "application_id": uuid.uuid4(),
        "organisation_number": "974760673",
        "applicant_name": "Kongsberg Maritim Teknikk AS",
        "size": "small",
        "lead_cluster": "nce-systems-engineering",
        "project_type": "company_project",
        "title": "Digital twin",
        "requested_nok": 800_000,
        "total_cost_nok": 2_000_000,
    }
    fields.update(changes)
    year = 2027 if granted_nok else None
    return Case(FundingCaseOpened.model_validate(fields), status, granted_nok=granted_nok, granted_year=year)


def codes(reasons: list[Reason]) -> list[str]:
    return [r.code for r in reasons]


def refusals(
    c: Case, amount: int, *, budget: Budget | None = None, aid: dict[int, int] | None = None, year: int = 2027
) -> list[str]:
    budget = Budget(year, 10_000_000, 10_000_000) if budget is None else budget
    return codes(
        domain.grant_refusals(c, amount_nok=amount, budget=budget, aid_by_year=aid or {}, year=year, policy=POLICY)
    )


# programme year


@pytest.mark.parametrize(
    ("at", "year"),
    [
        (datetime(2027, 12, 31, 23, 30, tzinfo=UTC), 2028),
        (datetime(2027, 12, 31, 22, 59, 59, tzinfo=UTC), 2027),
        (datetime(2027, 12, 31, 23, 0, tzinfo=UTC), 2028),
        (datetime(2027, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=1))), 2027),
        (datetime(2028, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), 2028),
        (datetime(2028, 6, 30, 22, 30, tzinfo=UTC), 2028),
        (datetime(2027, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=-5))), 2027),
    ],
)
def test_the_programme_year_is_the_calendar_year_in_oslo(at: datetime, year: int) -> None:
    assert budgets.programme_year(at) == year


def test_a_time_without_an_offset_has_no_programme_year() -> None:
    with pytest.raises(ValueError, match="offset"):
        budgets.programme_year(datetime(2027, 5, 1, 12, 0))  # noqa: DTZ001 - the point of the test


# budgets


def test_allocations_add_up_per_year() -> None:
    budget = Budget.empty(2027).allocate(1_000).allocate(2_500)
    assert budget == Budget(2027, 3_500, 3_500)
    spent = budget.take(3_000)
    assert spent == Budget(2027, 3_500, 500)
    assert spent.allocate(100) == Budget(2027, 3_600, 600)


def test_a_budget_never_goes_negative_or_above_its_total() -> None:
    with pytest.raises(BudgetError):
        Budget(2027, 100, -1)
    with pytest.raises(BudgetError):
        Budget(2027, 100, 101)
    with pytest.raises(BudgetError):
        Budget(2027, 100, 100).take(101)
    with pytest.raises(BudgetError):
        Budget(2027, 100, 100).give_back(1)
    with pytest.raises(BudgetError):
        Budget(2027, 100, 100).allocate(0)


def allocation(amount: int, year: int = 2027) -> AllocateBudget:
    return AllocateBudget(allocation_id=uuid.uuid4(), programme_year=year, amount_nok=amount, source="budget office")


@pytest.mark.parametrize("amount", [0, -1, -50_000_000])
def test_an_allocation_that_is_not_positive_is_an_invalid_amount(amount: int) -> None:
    outcome = budgets.allocate(Budget(2027, 100, 100), allocation(amount))
    assert codes(list(outcome.reasons)) == ["invalid_amount"]
    assert outcome.state is None


def test_a_positive_allocation_is_accepted_and_adds_to_the_years_totals() -> None:
    outcome = budgets.allocate(Budget(2027, 1_000, 400), allocation(1))
    assert outcome.state == Budget(2027, 1_001, 401)
    [event] = outcome.events
    assert isinstance(event, BudgetAllocated)
    assert (event.total_nok, event.remaining_nok, event.record_key()) == (1_001, 401, "budget-2027")
    assert budgets.allocate(None, allocation(5, year=2031)).state == Budget(2031, 5, 5)


# cases


@pytest.mark.parametrize("status", ["granted", "declined", "closed", "released"])
def test_a_decision_on_a_case_that_is_not_open_is_refused(status: CaseStatus) -> None:
    assert codes(domain.case_refusals(case(status=status))) == ["case_not_open"]


def test_a_decision_without_a_case_is_refused() -> None:
    assert codes(domain.case_refusals(None)) == ["case_not_open"]
    assert domain.case_refusals(case()) == []


@pytest.mark.parametrize("amount", [None, 0, -1])
def test_a_grant_needs_a_positive_amount(amount: int | None) -> None:
    assert codes(domain.amount_refusals(amount)) == ["invalid_amount"]


# grants


def test_a_grant_within_every_rule_is_accepted() -> None:
    assert refusals(case(), 800_000) == []


def test_grant_refused_when_it_exceeds_the_requested_amount() -> None:
    assert refusals(case(requested_nok=500_000), 500_001) == ["exceeds_requested"]


@pytest.mark.parametrize(
    ("size", "total", "limit"),
    [
        ("micro", 1_000_000, 500_000),
        ("small", 1_000_000, 500_000),
        ("medium", 1_000_000, 400_000),
        ("large", 1_000_000, 250_000),
    ],
)
def test_grant_refused_over_the_size_class_maximum_aid_intensity(size: str, total: int, limit: int) -> None:
    c = case(size=size, total_cost_nok=total, requested_nok=total)
    assert refusals(c, limit) == []
    assert refusals(c, limit + 1) == ["aid_intensity_exceeded"]


def test_aid_intensity_is_compared_in_whole_numbers_without_rounding() -> None:
    # 40 % of 333 333 is 133 333.2: 133 333 fits, 133 334 does not.
    c = case(size="medium", total_cost_nok=333_333, requested_nok=333_333)
    assert refusals(c, 133_333) == []
    assert refusals(c, 133_334) == ["aid_intensity_exceeded"]


def test_an_unknown_size_class_allows_no_aid() -> None:
    assert refusals(case(size="giant"), 1) == ["aid_intensity_exceeded"]


def test_intensities_come_from_the_policy() -> None:
    generous = Policy(max_aid_intensity_pct={"small": 80})
    reasons = domain.grant_refusals(
        case(requested_nok=2_000_000),
        amount_nok=1_600_000,
        budget=Budget(2027, 9_000_000, 9_000_000),
        aid_by_year={},
        year=2027,
        policy=generous,
    )
    assert reasons == []


def test_grant_refused_when_the_budget_cannot_cover_it() -> None:
    assert refusals(case(), 800_000, budget=Budget(2027, 1_000_000, 799_999)) == ["insufficient_budget"]
    assert refusals(case(), 800_000, budget=Budget(2027, 1_000_000, 800_000)) == []


def test_grant_refused_when_no_budget_exists_for_the_year() -> None:
    reasons = domain.grant_refusals(case(), amount_nok=1, budget=None, aid_by_year={}, year=2027, policy=POLICY)
    assert codes(reasons) == ["insufficient_budget"]


def test_grant_refused_when_it_would_pass_the_de_minimis_cap() -> None:
    aid = {2025: 1_000_000, 2026: 1_000_000, 2027: 500_000}
    c = case(requested_nok=900_000)
    assert refusals(c, 800_000, aid=aid) == []
    assert refusals(c, 800_001, aid=aid) == ["de_minimis_exceeded"]


def test_aid_older_than_two_programme_years_does_not_count() -> None:
    assert refusals(case(), 800_000, aid={2024: 3_300_000}) == []


def test_a_back_dated_grant_may_not_push_a_later_window_over_the_cap() -> None:
    # 2029's window (2027-2029) already holds 3 000 000: a 2027 grant of 800 000 would break it.
    assert refusals(case(), 800_000, aid={2029: 3_000_000}) == ["de_minimis_exceeded"]


def test_every_broken_rule_is_reported_not_only_the_first() -> None:
    c = case(requested_nok=100_000, total_cost_nok=200_000)
    found = refusals(c, 150_000, budget=Budget(2027, 100_000, 10_000), aid={2027: 3_200_000})
    assert found == ["exceeds_requested", "aid_intensity_exceeded", "insufficient_budget", "de_minimis_exceeded"]


# thresholds


def test_low_is_crossed_below_the_threshold_share_of_the_total() -> None:
    assert budgets.thresholds_crossed(Budget(2027, 1_000, 100), policy=POLICY, already=frozenset()) == ()
    assert budgets.thresholds_crossed(Budget(2027, 1_000, 99), policy=POLICY, already=frozenset()) == ("low",)


def test_a_grant_to_zero_crosses_both_thresholds_in_order() -> None:
    assert budgets.thresholds_crossed(Budget(2027, 1_000, 0), policy=POLICY, already=frozenset()) == (
        "low",
        "exhausted",
    )


def test_a_threshold_is_crossed_once_per_year() -> None:
    assert budgets.thresholds_crossed(Budget(2027, 1_000, 50), policy=POLICY, already=frozenset({"low"})) == ()
    assert budgets.thresholds_crossed(Budget(2027, 1_000, 0), policy=POLICY, already=frozenset({"low"})) == (
        "exhausted",
    )


# withdrawal


@pytest.mark.parametrize(
    ("status", "effect"),
    [("open", "close"), ("granted", "release"), ("declined", "none"), ("closed", "none"), ("released", "none")],
)
def test_what_a_withdrawal_does_to_a_case(status: CaseStatus, effect: str) -> None:
    granted = 500_000 if status == "granted" else None
    outcome = cases.withdraw(case(status, granted), Budget(2027, 1_000_000, 100_000))
    found = {FundingCaseClosed: "close", FundingReleased: "release"}
    assert ([found[type(e)] for e in outcome.events] or ["none"]) == [effect]
    if effect == "release":
        assert outcome.state is not None
        assert outcome.state.budget == Budget(2027, 1_000_000, 600_000)
        [released] = outcome.events
        assert isinstance(released, FundingReleased)
        assert released.budget_remaining_nok == 600_000


def test_a_case_opens_once_with_the_fields_of_the_application_ready_for_decision() -> None:
    ready = ApplicationReadyForDecision(
        application_id=uuid.uuid4(),
        organisation_number="974760673",
        applicant_name="Kongsberg Maritim Teknikk AS",
        size="medium",
        lead_cluster="nce-raufoss",
        project_type="cluster_project",
        title="Robot cell",
        requested_nok=600_000,
        total_cost_nok=1_500_000,
    )
    outcome = cases.open_case(None, ready)
    [opened] = outcome.events
    assert isinstance(opened, FundingCaseOpened)
    assert opened.model_dump() == ready.model_dump()
    assert outcome.state is not None
    assert outcome.state.case == Case(opened)
    assert cases.open_case(outcome.state.case, ready) == NOTHING


def test_a_withdrawal_without_a_case_does_nothing() -> None:
    assert cases.withdraw(None, None) == NOTHING
