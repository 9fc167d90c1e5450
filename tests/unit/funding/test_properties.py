"""Property-based tests: no sequence of allocations, grants and releases, decided by the service's own rules,
overspends a budget or passes the de minimis cap."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction

from funding.domain import budgets, cases
from funding.domain.budgets import Budget
from funding.domain.cases import Case
from funding.domain.policy import Policy
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.contract.funding import AllocateBudget, DecideFunding, FundingCaseOpened

POLICY = Policy(
    max_aid_intensity_pct={"micro": 50, "small": 50, "medium": 40, "large": 25}, de_minimis_cap_nok=3_300_000
)
YEARS = st.integers(2026, 2028)
ORGANISATIONS = st.sampled_from(["974760673", "923609016"])
SIZES = st.sampled_from(["micro", "small", "medium", "large", "unknown"])
# A grant is drawn as shares: the requested share of total cost, and the amount as a share of the
# request (past 100 % now and then), so that most draws pass the case's own rules and the budget
# and the cap are what decide. Now and then the amount is not positive or missing.
AMOUNT_SHARE = st.sampled_from(["share"] * 8 + ["not_positive", "missing"]).flatmap(
    lambda kind: {"share": st.integers(1, 110), "not_positive": st.integers(-1_000, 0), "missing": st.none()}[kind]
)
ALLOCATIONS = st.sampled_from([True] * 4 + [False]).flatmap(
    lambda positive: st.integers(1, 4_000_000) if positive else st.integers(-1_000_000, 0)
)
allocate = st.tuples(st.just("allocate"), YEARS, ALLOCATIONS)
grant = st.tuples(
    st.just("grant"), YEARS, ORGANISATIONS, SIZES, st.integers(1, 5_000_000), st.integers(1, 45), AMOUNT_SHARE
)
release = st.tuples(st.just("release"), st.integers(0, 1_000))


def open_case(organisation_number: str, size: str, requested_nok: int, total_cost_nok: int) -> Case:
    opened = FundingCaseOpened(
        application_id=uuid.uuid4(),
        organisation_number=organisation_number,
        applicant_name="Raufoss Automasjon AS",
        size=size,
        lead_cluster="nce-raufoss",
        project_type="company_project",
        title="Robot cell",
        requested_nok=requested_nok,
        total_cost_nok=total_cost_nok,
    )
    return Case(opened)


@dataclass
class Books:
    """What the repository keeps, with every change decided by the service's domain: budgets, active grants,
    thresholds crossed, and (only to check against) what was allocated."""

    budgets: dict[int, Budget] = field(default_factory=dict)
    granted: list[Case] = field(default_factory=list)
    thresholds: dict[int, list[str]] = field(default_factory=dict)
    allocated: dict[int, int] = field(default_factory=dict)

    def aid_by_year(self, organisation_number: str) -> dict[int, int]:
        aid: dict[int, int] = {}
        for case in self.granted:
            if case.organisation_number == organisation_number and case.granted_year and case.granted_nok:
                aid[case.granted_year] = aid.get(case.granted_year, 0) + case.granted_nok
        return aid

    def apply(self, op: tuple[object, ...]) -> None:
        kind = op[0]
        if kind == "allocate":
            _, year, amount = op
            assert isinstance(year, int)
            assert isinstance(amount, int)
            self._allocate(year, amount)
        elif kind == "grant":
            self._grant(*op[1:])  # type: ignore[arg-type]
        else:
            index = op[1]
            assert isinstance(index, int)
            if self.granted:
                self._release(self.granted.pop(index % len(self.granted)))

    def _allocate(self, year: int, amount: int) -> None:
        command = AllocateBudget(allocation_id=uuid.uuid4(), programme_year=year, amount_nok=amount, source="test")
        outcome = budgets.allocate(self.budgets.get(year), command)
        if outcome.state is not None:
            self.budgets[year] = outcome.state
            self.allocated[year] = self.allocated.get(year, 0) + amount

    def _grant(self, year: int, org: str, size: str, total: int, requested_pct: int, share: int | None) -> None:
        requested = max(1, total * requested_pct // 100)
        amount = share if share is None or share <= 0 else max(1, requested * share // 100)
        case = open_case(org, size, requested, total)
        command = DecideFunding(
            application_id=case.application_id, outcome="grant", amount_nok=amount, reason="r", decided_by="d"
        )
        outcome = cases.decide(
            case,
            command,
            at=datetime(year, 6, 15, 12, tzinfo=UTC),
            year=year,
            budget=self.budgets.get(year),
            aid_by_year=self.aid_by_year(org),
            crossed=frozenset(self.thresholds.get(year, [])),
            policy=POLICY,
        )
        change = outcome.state
        if change is None or change.budget is None:
            return
        self.budgets[year] = change.budget
        self.granted.append(change.case)
        self.thresholds.setdefault(year, []).extend(change.thresholds)

    def _release(self, case: Case) -> None:
        assert case.granted_year is not None
        outcome = cases.withdraw(case, self.budgets[case.granted_year])
        assert outcome.state is not None
        assert outcome.state.budget is not None
        self.budgets[case.granted_year] = outcome.state.budget

    def check(self) -> None:
        for year, budget in self.budgets.items():
            active = sum(c.granted_nok or 0 for c in self.granted if c.granted_year == year)
            assert budget.remaining_nok >= 0
            assert budget.total_nok == self.allocated[year]
            assert budget.remaining_nok == self.allocated[year] - active
        for org in {c.organisation_number for c in self.granted}:
            aid = self.aid_by_year(org)
            for end in range(2025, 2032):
                window = sum(aid.get(y, 0) for y in range(end - 2, end + 1))
                assert window <= POLICY.de_minimis_cap_nok
        for crossed in self.thresholds.values():
            assert len(crossed) == len(set(crossed))


@settings(max_examples=300, deadline=None)
@given(st.lists(allocate, max_size=3), st.lists(allocate | grant | release, max_size=60))
def test_no_sequence_of_allocations_grants_and_releases_leaves_a_negative_remaining_budget(
    first: list[tuple[object, ...]], ops: list[tuple[object, ...]]
) -> None:
    books = Books()
    for op in first:
        books.apply(op)
    for op in ops:
        books.apply(op)
        books.check()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 3_000_000), min_size=1, max_size=30), st.integers(1, 20_000_000))
def test_grants_that_fit_use_the_budget_and_never_more(amounts: list[int], allocation: int) -> None:
    budget = Budget.empty(2027).allocate(allocation)
    granted = 0
    for amount in amounts:
        if budget.covers(amount):
            budget = budget.take(amount)
            granted += amount
    assert budget.remaining_nok == allocation - granted >= 0


@given(SIZES, st.integers(1, 10**12), st.integers(1, 10**12))
def test_aid_intensity_in_whole_numbers_agrees_with_exact_fractions(size: str, total: int, amount: int) -> None:
    case = open_case("974760673", size, amount, total)
    refused = cases.aid_intensity_refusal(case, amount_nok=amount, policy=POLICY) is not None
    pct = POLICY.max_aid_intensity_pct.get(size)
    assert refused == (pct is None or Fraction(amount, total) > Fraction(pct, 100))
