"""The funding service's rules: pure and synchronous, no I/O; time comes in as an argument.

Money is whole NOK in Python ints from end to end; shares of money are compared by
cross-multiplying (``amount * 100 <= total * pct``), never by dividing into floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from shared.contract.base import Reason

OSLO: Final = ZoneInfo("Europe/Oslo")
DE_MINIMIS_YEARS: Final = 3  # this programme year and the two before it

# Refusal codes: the contract's words, plus duplicate_allocation for a reused allocation id.
CASE_NOT_OPEN: Final = "case_not_open"
EXCEEDS_REQUESTED: Final = "exceeds_requested"
AID_INTENSITY_EXCEEDED: Final = "aid_intensity_exceeded"
INSUFFICIENT_BUDGET: Final = "insufficient_budget"
DE_MINIMIS_EXCEEDED: Final = "de_minimis_exceeded"
INVALID_AMOUNT: Final = "invalid_amount"
DUPLICATE_ALLOCATION: Final = "duplicate_allocation"

# Refusals that a case handler must hear about: the decision was sound, the money was not there.
SITUATIONAL_CODES: Final = frozenset({INSUFFICIENT_BUDGET, DE_MINIMIS_EXCEEDED})

CaseStatus = Literal["open", "granted", "declined", "closed", "released"]
Threshold = Literal["low", "exhausted"]

DEFAULT_MAX_AID_INTENSITY_PCT: Final[Mapping[str, int]] = {"micro": 50, "small": 50, "medium": 40, "large": 25}
DEFAULT_DE_MINIMIS_CAP_NOK: Final = 3_300_000
DEFAULT_LOW_THRESHOLD_PCT: Final = 10


@dataclass(frozen=True, slots=True)
class Policy:
    """The policy values a deployment configures; the defaults are the contract's."""

    max_aid_intensity_pct: Mapping[str, int]
    de_minimis_cap_nok: int = DEFAULT_DE_MINIMIS_CAP_NOK
    low_threshold_pct: int = DEFAULT_LOW_THRESHOLD_PCT

    @classmethod
    def default(cls) -> Policy:
        return cls(max_aid_intensity_pct=dict(DEFAULT_MAX_AID_INTENSITY_PCT))


def programme_year(at: datetime) -> int:
    """The calendar year in Europe/Oslo at the given (offset-aware) time: 2027-12-31T23:30Z is 2028."""
    if at.tzinfo is None:
        msg = "programme_year needs an offset-aware time"
        raise ValueError(msg)
    try:
        return at.astimezone(OSLO).year
    except OverflowError:  # 9999-12-31 late in the evening UTC is already the year after in Oslo
        return at.year + 1


def affected_years(year: int) -> range:
    """Every year in a three-year window that contains ``year``: aid there can push any of them over."""
    return range(year - DE_MINIMIS_YEARS + 1, year + DE_MINIMIS_YEARS)


# budgets


class BudgetError(ValueError):
    """A budget change that would break its invariants; callers check the rules before asking."""


@dataclass(frozen=True, slots=True)
class Budget:
    """A programme year's budget: everything allocated, and what is left after active grants."""

    programme_year: int
    total_nok: int
    remaining_nok: int

    def __post_init__(self) -> None:
        if not 0 <= self.remaining_nok <= self.total_nok:
            msg = f"budget {self.programme_year}: remaining {self.remaining_nok} outside 0..{self.total_nok}"
            raise BudgetError(msg)

    @classmethod
    def empty(cls, programme_year: int) -> Budget:
        return cls(programme_year, 0, 0)

    @property
    def committed_nok(self) -> int:
        return self.total_nok - self.remaining_nok

    def allocate(self, amount_nok: int) -> Budget:
        if amount_nok <= 0:
            msg = f"an allocation must be positive, got {amount_nok}"
            raise BudgetError(msg)
        return replace(self, total_nok=self.total_nok + amount_nok, remaining_nok=self.remaining_nok + amount_nok)

    def spend(self, amount_nok: int) -> Budget:
        if not 0 < amount_nok <= self.remaining_nok:
            msg = f"budget {self.programme_year}: cannot spend {amount_nok} of {self.remaining_nok}"
            raise BudgetError(msg)
        return replace(self, remaining_nok=self.remaining_nok - amount_nok)

    def give_back(self, amount_nok: int) -> Budget:
        if not 0 < amount_nok <= self.committed_nok:
            msg = f"budget {self.programme_year}: cannot give back {amount_nok}, {self.committed_nok} is committed"
            raise BudgetError(msg)
        return replace(self, remaining_nok=self.remaining_nok + amount_nok)


def allocation_refusals(amount_nok: int) -> list[Reason]:
    if amount_nok <= 0:
        return [Reason(code=INVALID_AMOUNT, field="amount_nok", message="an allocation must be a positive amount")]
    return []


def thresholds_crossed(after: Budget, *, policy: Policy, already: frozenset[str]) -> tuple[Threshold, ...]:
    """The thresholds a grant that left ``after`` has crossed for the first time this year, in order."""
    crossed: list[Threshold] = []
    if after.remaining_nok * 100 < after.total_nok * policy.low_threshold_pct and "low" not in already:
        crossed.append("low")
    if after.remaining_nok == 0 and after.total_nok > 0 and "exhausted" not in already:
        crossed.append("exhausted")
    return tuple(crossed)


# cases and decisions


@dataclass(frozen=True, slots=True)
class Case:
    """What a decision needs to know of a funding case."""

    application_id: UUID
    organisation_number: str
    size: str
    requested_nok: int
    total_cost_nok: int
    status: CaseStatus
    granted_nok: int | None = None
    granted_year: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


def case_refusals(case: Case | None) -> list[Reason]:
    """A decision needs an open case: never ready, already decided, withdrawn or closed all refuse."""
    if case is None:
        return [Reason(code=CASE_NOT_OPEN, field="application_id", message="no funding case for this application")]
    if not case.is_open:
        return [Reason(code=CASE_NOT_OPEN, field="application_id", message=f"the funding case is {case.status}")]
    return []


def amount_refusals(amount_nok: int | None) -> list[Reason]:
    """A grant must name a positive amount; a missing one is refused here rather than as malformed."""
    if amount_nok is None:
        return [Reason(code=INVALID_AMOUNT, field="amount_nok", message="a grant needs an amount")]
    if amount_nok <= 0:
        return [Reason(code=INVALID_AMOUNT, field="amount_nok", message="a grant must be a positive amount")]
    return []


def grant_refusals(
    case: Case,
    *,
    amount_nok: int,
    budget: Budget | None,
    aid_by_year: Mapping[int, int],
    year: int,
    policy: Policy,
) -> list[Reason]:
    """Every rule a grant of ``amount_nok`` in ``year`` breaks; empty when it may be granted.

    ``aid_by_year`` holds the organisation's active (granted, not released) aid per programme
    year, at least for :func:`affected_years` of ``year``.
    """
    reasons: list[Reason] = []
    if amount_nok > case.requested_nok:
        reasons.append(
            Reason(
                code=EXCEEDS_REQUESTED,
                field="amount_nok",
                message=f"{amount_nok} NOK is more than the {case.requested_nok} NOK requested",
            )
        )
    intensity = aid_intensity_refusal(case, amount_nok=amount_nok, policy=policy)
    if intensity is not None:
        reasons.append(intensity)
    if budget is None:
        reasons.append(
            Reason(code=INSUFFICIENT_BUDGET, field="amount_nok", message=f"no budget is allocated for {year}")
        )
    elif amount_nok > budget.remaining_nok:
        reasons.append(
            Reason(
                code=INSUFFICIENT_BUDGET,
                field="amount_nok",
                message=f"{amount_nok} NOK is more than the {budget.remaining_nok} NOK left of the {year} budget",
            )
        )
    de_minimis = de_minimis_refusal(amount_nok=amount_nok, aid_by_year=aid_by_year, year=year, policy=policy)
    if de_minimis is not None:
        reasons.append(de_minimis)
    return reasons


def aid_intensity_refusal(case: Case, *, amount_nok: int, policy: Policy) -> Reason | None:
    """Granted / total cost must not pass the size class's maximum; an unknown size class allows nothing."""
    pct = policy.max_aid_intensity_pct.get(case.size)
    if pct is None:
        return Reason(
            code=AID_INTENSITY_EXCEEDED,
            field="amount_nok",
            message=f"no maximum aid intensity is configured for size class {case.size!r}",
        )
    if case.total_cost_nok <= 0 or amount_nok * 100 > case.total_cost_nok * pct:
        return Reason(
            code=AID_INTENSITY_EXCEEDED,
            field="amount_nok",
            message=f"{amount_nok} NOK of a {case.total_cost_nok} NOK project is more than {pct} % for {case.size}",
        )
    return None


def de_minimis_refusal(*, amount_nok: int, aid_by_year: Mapping[int, int], year: int, policy: Policy) -> Reason | None:
    """The cap holds in every three-year window that contains ``year``.

    For decisions taken in time order only the window ending in ``year`` matters; checking the
    later windows too keeps a back-dated decision from pushing a later year's window over.
    """
    for end in range(year, year + DE_MINIMIS_YEARS):
        window = range(end - DE_MINIMIS_YEARS + 1, end + 1)
        total = amount_nok + sum(aid_by_year.get(y, 0) for y in window)
        if total > policy.de_minimis_cap_nok:
            return Reason(
                code=DE_MINIMIS_EXCEEDED,
                field="amount_nok",
                message=(
                    f"the organisation's aid in {window.start}-{window.stop - 1} would be {total} NOK, "
                    f"over the de minimis cap of {policy.de_minimis_cap_nok} NOK"
                ),
            )
    return None


WithdrawalEffect = Literal["close", "release", "none"]


def withdrawal_effect(case: Case | None) -> WithdrawalEffect:
    """An open case closes; a granted one releases its money; anything else (declined, gone) stays as it is."""
    if case is None:
        return "none"
    if case.status == "open":
        return "close"
    if case.status == "granted":
        return "release"
    return "none"
