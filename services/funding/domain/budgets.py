"""A programme year's budget: allocations add to it, grants take from it, releases give back; never overspent.

The rule lives here, in :class:`Budget`: what remains is never below zero nor above what was
allocated. The database holds the same bounds as its backstop (a guarded ``UPDATE`` and
``CHECK``s), for a decision made on a stale read. Money is whole NOK in Python ints from end to
end; shares of money are compared by cross-multiplying, never by dividing into floats.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Final, Literal
from zoneinfo import ZoneInfo

from funding.domain.policy import Policy
from shared.contract import funding as contract
from shared.contract.base import Reason
from shared.contract.funding import AllocateBudget, BudgetAllocated, BudgetThresholdCrossed
from shared.outcome import Notice, Outcome, refusal

OSLO: Final = ZoneInfo("Europe/Oslo")

# Refusal codes: the contract's words, plus duplicate_allocation for a reused allocation id.
INVALID_AMOUNT: Final = "invalid_amount"
DUPLICATE_ALLOCATION: Final = "duplicate_allocation"

Threshold = Literal["low", "exhausted"]


def programme_year(at: datetime) -> int:
    """The calendar year in Europe/Oslo at the given (offset-aware) time: 2027-12-31T23:30Z is 2028."""
    if at.tzinfo is None:
        msg = "programme_year needs an offset-aware time"
        raise ValueError(msg)
    try:
        return at.astimezone(OSLO).year
    except OverflowError:  # 9999-12-31 late in the evening UTC is already the year after in Oslo
        return at.year + 1


class BudgetError(ValueError):
    """A budget that would break its bounds: a decision checks `covers` before it takes."""


@dataclass(frozen=True, slots=True)
class Budget:
    """A programme year's budget: everything allocated, and what is left after active grants.

    Its fields are the totals a budget's events report, under the same names.
    """

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

    def covers(self, amount_nok: int) -> bool:
        return 0 < amount_nok <= self.remaining_nok

    def allocate(self, amount_nok: int) -> Budget:
        if amount_nok <= 0:
            msg = f"an allocation must be positive, got {amount_nok}"
            raise BudgetError(msg)
        return replace(self, total_nok=self.total_nok + amount_nok, remaining_nok=self.remaining_nok + amount_nok)

    def take(self, amount_nok: int) -> Budget:
        if not self.covers(amount_nok):
            msg = f"budget {self.programme_year}: cannot take {amount_nok} of {self.remaining_nok}"
            raise BudgetError(msg)
        return replace(self, remaining_nok=self.remaining_nok - amount_nok)

    def give_back(self, amount_nok: int) -> Budget:
        """Money a grant took comes back; more than was taken would pass the total, which the bounds refuse."""
        if amount_nok <= 0:
            msg = f"budget {self.programme_year}: cannot give back {amount_nok}"
            raise BudgetError(msg)
        return replace(self, remaining_nok=self.remaining_nok + amount_nok)


# allocations


def allocate(budget: Budget | None, command: AllocateBudget) -> Outcome[Budget]:
    """An allocation adds to the year's budget (None: the year has none yet)."""
    if command.amount_nok <= 0:
        return refusal(
            Reason(code=INVALID_AMOUNT, field="amount_nok", message="an allocation must be a positive amount")
        )
    after = (budget or Budget.empty(command.programme_year)).allocate(command.amount_nok)
    allocated = BudgetAllocated(**asdict(after), amount_nok=command.amount_nok, allocation_id=command.allocation_id)
    return Outcome(after, (allocated,))


def duplicate_allocation() -> Outcome[Budget]:
    """The allocation id was used before (the database's unique key found it): an allocation counts once."""
    return refusal(
        Reason(
            code=DUPLICATE_ALLOCATION,
            field="allocation_id",
            message="this allocation was applied before; an allocation counts once",
        )
    )


# thresholds


def thresholds_crossed(after: Budget, *, policy: Policy, already: frozenset[str]) -> tuple[Threshold, ...]:
    """The thresholds a grant that left ``after`` has crossed for the first time this year, in order."""
    crossed: list[Threshold] = []
    if after.remaining_nok * 100 < after.total_nok * policy.low_threshold_pct and "low" not in already:
        crossed.append("low")
    if after.remaining_nok == 0 and after.total_nok > 0 and "exhausted" not in already:
        crossed.append("exhausted")
    return tuple(crossed)


def crossings(after: Budget, thresholds: tuple[Threshold, ...]) -> tuple[BudgetThresholdCrossed | Notice, ...]:
    """Each threshold crossed: the event, and the programme office told."""
    messages: list[BudgetThresholdCrossed | Notice] = []
    for threshold in thresholds:
        event = BudgetThresholdCrossed(**asdict(after), threshold=threshold)
        notice = Notice(
            contract.BUDGET_THRESHOLD,
            about=event.record_key(),
            fact=f"{after.programme_year}/{threshold}",
            params={
                "programme_year": after.programme_year,
                "threshold": threshold,
                "remaining_nok": after.remaining_nok,
                "total_nok": after.total_nok,
            },
        )
        messages += (event, notice)
    return tuple(messages)
