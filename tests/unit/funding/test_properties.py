"""Property-based tests: no sequence of allocations, grants and releases breaks a budget or the de minimis cap."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from fractions import Fraction

from funding import domain
from funding.domain import Budget, Case, Policy
from hypothesis import given, settings
from hypothesis import strategies as st

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


@dataclass
class ActiveGrant:
    organisation_number: str
    programme_year: int
    amount_nok: int


@dataclass
class Ledger:
    """The rules applied in order, as the service applies them, with what was allocated kept aside."""

    budgets: dict[int, Budget] = field(default_factory=dict)
    allocated: dict[int, int] = field(default_factory=dict)
    grants: list[ActiveGrant] = field(default_factory=list)
    thresholds: dict[int, list[str]] = field(default_factory=dict)

    def aid_by_year(self, organisation_number: str) -> dict[int, int]:
        aid: dict[int, int] = {}
        for g in self.grants:
            if g.organisation_number == organisation_number:
                aid[g.programme_year] = aid.get(g.programme_year, 0) + g.amount_nok
        return aid

    def apply(self, op: tuple[object, ...]) -> None:
        kind = op[0]
        if kind == "allocate":
            _, year, amount = op
            assert isinstance(year, int)
            assert isinstance(amount, int)
            if not domain.allocation_refusals(amount):
                self.budgets[year] = self.budgets.get(year, Budget.empty(year)).allocate(amount)
                self.allocated[year] = self.allocated.get(year, 0) + amount
        elif kind == "grant":
            self._grant(*op[1:])  # type: ignore[arg-type]
        else:
            index = op[1]
            assert isinstance(index, int)
            if self.grants:
                g = self.grants.pop(index % len(self.grants))
                self.budgets[g.programme_year] = self.budgets[g.programme_year].give_back(g.amount_nok)

    def _grant(self, year: int, org: str, size: str, total: int, requested_pct: int, share: int | None) -> None:
        requested = max(1, total * requested_pct // 100)
        amount = share if share is None or share <= 0 else max(1, requested * share // 100)
        case = Case(uuid.uuid4(), org, size, requested, total, "open")
        reasons = domain.case_refusals(case) + domain.amount_refusals(amount)
        if reasons or amount is None:
            return
        budget = self.budgets.get(year)
        aid = self.aid_by_year(org)
        if domain.grant_refusals(case, amount_nok=amount, budget=budget, aid_by_year=aid, year=year, policy=POLICY):
            return
        assert budget is not None
        after = budget.spend(amount)
        self.budgets[year] = after
        self.grants.append(ActiveGrant(org, year, amount))
        crossed = self.thresholds.setdefault(year, [])
        crossed.extend(domain.thresholds_crossed(after, policy=POLICY, already=frozenset(crossed)))

    def check(self) -> None:
        for year, budget in self.budgets.items():
            active = sum(g.amount_nok for g in self.grants if g.programme_year == year)
            assert budget.remaining_nok >= 0
            assert budget.total_nok == self.allocated[year]
            assert budget.remaining_nok == self.allocated[year] - active
        for org in {g.organisation_number for g in self.grants}:
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
    ledger = Ledger()
    for op in first:
        ledger.apply(op)
    for op in ops:
        ledger.apply(op)
        ledger.check()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 3_000_000), min_size=1, max_size=30), st.integers(1, 20_000_000))
def test_grants_that_fit_use_the_budget_and_never_more(amounts: list[int], allocation: int) -> None:
    budget = Budget.empty(2027).allocate(allocation)
    granted = 0
    for amount in amounts:
        if amount <= budget.remaining_nok:
            budget = budget.spend(amount)
            granted += amount
    assert budget.remaining_nok == allocation - granted >= 0


@given(SIZES, st.integers(1, 10**12), st.integers(1, 10**12))
def test_aid_intensity_in_whole_numbers_agrees_with_exact_fractions(size: str, total: int, amount: int) -> None:
    case = Case(uuid.uuid4(), "974760673", size, amount, total, "open")
    refused = domain.aid_intensity_refusal(case, amount_nok=amount, policy=POLICY) is not None
    pct = POLICY.max_aid_intensity_pct.get(size)
    assert refused == (pct is None or Fraction(amount, total) > Fraction(pct, 100))
