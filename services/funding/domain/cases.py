"""A funding case: opened by an application ready for decision, decided by a grant or a decline, closed or released.

What happens to a grant after it is made (acceptance, lapse, payments, completion) is in
:mod:`funding.domain.grants`; withdrawal, which can come at any point, is here.

Pure and synchronous, no I/O; time comes in as an argument. Each decision takes the case as it
stands and what the decision needs (the year's budget, the organisation's aid), and returns an
:class:`Outcome`: the case after it, with the year's budget after it when money moved, the events
and notices it causes, or the reasons it is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final, Literal
from uuid import UUID

from funding.domain import budgets
from funding.domain.budgets import INVALID_AMOUNT, Budget, Threshold
from funding.domain.policy import Policy
from shared.contract import funding as contract
from shared.contract.applications import ApplicationReadyForDecision
from shared.contract.base import Reason, Template
from shared.contract.funding import (
    DecideFunding,
    FundingCaseClosed,
    FundingCaseOpened,
    FundingDeclined,
    FundingGranted,
    FundingReleased,
)
from shared.outcome import NOTHING, Notice, Outcome, refusal

DE_MINIMIS_YEARS: Final = 3  # this programme year and the two before it

# Refusal codes: the contract's words.
CASE_NOT_OPEN: Final = "case_not_open"
EXCEEDS_REQUESTED: Final = "exceeds_requested"
AID_INTENSITY_EXCEEDED: Final = "aid_intensity_exceeded"
INSUFFICIENT_BUDGET: Final = "insufficient_budget"
DE_MINIMIS_EXCEEDED: Final = "de_minimis_exceeded"

# Refusals that a case handler must hear about: the decision was sound, the money was not there.
SITUATIONAL_CODES: Final = frozenset({INSUFFICIENT_BUDGET, DE_MINIMIS_EXCEEDED})

# granted: offered, waiting for the company's acceptance; accepted: the project runs and is paid;
# lapsed, released (withdrawn after the grant) and completed (final payment made) end a grant.
CaseStatus = Literal["open", "granted", "declined", "closed", "released", "accepted", "lapsed", "completed"]


@dataclass(frozen=True, slots=True)
class Contact:
    """The applicant's contact person, as the application named them: where the applicant's notices go."""

    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Case:
    """A funding case: the application as it came to decision (what the case's opening said), its status,
    its active grant and how far the grant's follow-up has come, and the applicant's contact if known."""

    opened: FundingCaseOpened
    status: CaseStatus = "open"
    granted_nok: int | None = None
    granted_year: int | None = None
    accept_by: datetime | None = None
    accepted_at: datetime | None = None
    paid_nok: int = 0
    final_report_accepted: bool = False
    contact: Contact | None = None

    @property
    def application_id(self) -> UUID:
        return self.opened.application_id

    @property
    def organisation_number(self) -> str:
        return self.opened.organisation_number

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def unpaid_nok(self) -> int:
        """What of the active grant is not paid: what goes back to the budget when the grant ends early or closes."""
        return (self.granted_nok or 0) - self.paid_nok


@dataclass(frozen=True, slots=True)
class CaseAfter:
    """A case after a decision; with the year's budget after it and the thresholds it crossed when money moved,
    and the grant money it gave back to that budget."""

    case: Case
    budget: Budget | None = None
    thresholds: tuple[Threshold, ...] = ()
    released_nok: int = 0


Decision = Outcome[CaseAfter]


# opening


def open_case(existing: Case | None, ready: ApplicationReadyForDecision) -> Decision:
    """An application ready for decision opens its case, once, with the same fields (as the contract says)."""
    if existing is not None:
        return NOTHING
    opened = FundingCaseOpened(**{name: getattr(ready, name) for name in FundingCaseOpened.model_fields})
    return Outcome(CaseAfter(Case(opened)), (opened,))


# decisions


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


def _first_refusals(case: Case | None, command: DecideFunding) -> list[Reason]:
    grant = command.outcome == "grant"
    return case_refusals(case) + (amount_refusals(command.amount_nok) if grant else [])


def money_asked(case: Case | None, command: DecideFunding) -> int | None:
    """What a grant asks of the year's budget once the case and the amount pass; None when no money is asked."""
    if command.outcome != "grant" or _first_refusals(case, command):
        return None
    return command.amount_nok


def affected_years(year: int) -> range:
    """Every year in a three-year window that contains ``year``: aid there can push any of them over."""
    return range(year - DE_MINIMIS_YEARS + 1, year + DE_MINIMIS_YEARS)


def decide(
    case: Case | None,
    command: DecideFunding,
    *,
    at: datetime,
    year: int,
    budget: Budget | None,
    aid_by_year: Mapping[int, int],
    crossed: frozenset[str],
    policy: Policy,
) -> Decision:
    """A grant or a decline of an open case, decided at ``at``. An amount on a decline is ignored.

    A grant waits for the company's acceptance until the acceptance period from ``at`` has passed.
    ``budget`` is the year's budget, ``aid_by_year`` the organisation's active aid per year of
    :func:`affected_years`, and ``crossed`` the thresholds the year has crossed before: what a
    grant is checked against, read only when :func:`money_asked` says it asks for money.
    """
    reasons = _first_refusals(case, command)
    if reasons or case is None:
        return refusal(*reasons)
    if command.outcome == "decline":
        declined = FundingDeclined(application_id=case.application_id, reason=command.reason)
        return Outcome(CaseAfter(replace(case, status="declined")), (declined,))
    amount = command.amount_nok or 0
    reasons = grant_refusals(case, amount_nok=amount, budget=budget, aid_by_year=aid_by_year, year=year, policy=policy)
    if reasons or budget is None:
        return refusal(*reasons, notices=_refused(case, reasons, amount_nok=amount, year=year))
    after = budget.take(amount)
    thresholds = budgets.thresholds_crossed(after, policy=policy, already=crossed)
    granted = FundingGranted(
        application_id=case.application_id,
        organisation_number=case.organisation_number,
        amount_nok=amount,
        programme_year=year,
        budget_remaining_nok=after.remaining_nok,
    )
    accept_by = at + policy.acceptance_period
    case_after = replace(case, status="granted", granted_nok=amount, granted_year=year, accept_by=accept_by)
    awaiting = tell_applicant(
        case,
        contract.GRANT_AWAITING_ACCEPTANCE,
        amount_nok=amount,
        programme_year=year,
        accept_by=accept_by.isoformat(),
    )
    messages = (granted, *awaiting, *budgets.crossings(after, thresholds))
    return Outcome(CaseAfter(case_after, after, thresholds), messages)


def tell_applicant(case: Case, template: Template, **params: object) -> tuple[Notice, ...]:
    """A notice to the applicant's contact, with the case's id and title; none when funding has no contact."""
    if case.contact is None:
        return ()
    about = str(case.application_id)
    full = {"application_id": about, "title": case.opened.title, **params}
    return (Notice(template, about=about, params=full, email=case.contact.email),)


def grant_lost_race(case: Case, *, amount_nok: int, year: int) -> Decision:
    """The database's guard refused to take the money that the decision saw (the backstop): refused as short."""
    reasons = [Reason(code=INSUFFICIENT_BUDGET, field="amount_nok", message=f"the {year} budget cannot cover it")]
    return refusal(*reasons, notices=_refused(case, reasons, amount_nok=amount_nok, year=year))


def grant_refusals(
    case: Case,
    *,
    amount_nok: int,
    budget: Budget | None,
    aid_by_year: Mapping[int, int],
    year: int,
    policy: Policy,
) -> list[Reason]:
    """Every rule a grant of ``amount_nok`` in ``year`` breaks; empty when it may be granted."""
    reasons: list[Reason] = []
    if amount_nok > case.opened.requested_nok:
        reasons.append(
            Reason(
                code=EXCEEDS_REQUESTED,
                field="amount_nok",
                message=f"{amount_nok} NOK is more than the {case.opened.requested_nok} NOK requested",
            )
        )
    intensity = aid_intensity_refusal(case, amount_nok=amount_nok, policy=policy)
    if intensity is not None:
        reasons.append(intensity)
    if budget is None:
        reasons.append(
            Reason(code=INSUFFICIENT_BUDGET, field="amount_nok", message=f"no budget is allocated for {year}")
        )
    elif not budget.covers(amount_nok):
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
    size, total = case.opened.size, case.opened.total_cost_nok
    pct = policy.max_aid_intensity_pct.get(size)
    if pct is None:
        return Reason(
            code=AID_INTENSITY_EXCEEDED,
            field="amount_nok",
            message=f"no maximum aid intensity is configured for size class {size!r}",
        )
    if total <= 0 or amount_nok * 100 > total * pct:
        return Reason(
            code=AID_INTENSITY_EXCEEDED,
            field="amount_nok",
            message=f"{amount_nok} NOK of a {total} NOK project is more than {pct} % for {size}",
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


def _refused(case: Case, reasons: list[Reason], *, amount_nok: int, year: int) -> tuple[Notice, ...]:
    """Refusals the money decided (not the handler's input) go to the case handlers too."""
    situational = sorted({r.code for r in reasons} & SITUATIONAL_CODES)
    if not situational:
        return ()
    params = {
        "application_id": str(case.application_id),
        "organisation_number": case.organisation_number,
        "amount_nok": amount_nok,
        "programme_year": year,
        "codes": situational,
    }
    return (Notice(contract.DECISION_REFUSED, about=str(case.application_id), params=params),)


# withdrawal


def withdraw(case: Case | None, budget: Budget | None) -> Decision:
    """An open case closes; a granted or running one gives its unpaid money back to ``budget`` (its year's), and
    when something was paid, the case handlers hear that it may have to be claimed back; anything else stays."""
    if case is None or case.status not in {"open", "granted", "accepted"}:
        return NOTHING
    if case.status == "open":
        return Outcome(
            CaseAfter(replace(case, status="closed")), (FundingCaseClosed(application_id=case.application_id),)
        )
    if case.granted_nok is None or case.granted_year is None or budget is None:
        msg = f"funding case {case.application_id} is granted but has no active grant in a budget"
        raise ValueError(msg)
    released = release(case, budget)
    after = replace(released.state or CaseAfter(case), case=replace(case, status="released"))
    if case.paid_nok == 0:
        return Outcome(after, released.messages)
    params = {
        "application_id": str(case.application_id),
        "organisation_number": case.organisation_number,
        "applicant_name": case.opened.applicant_name,
        "paid_nok": case.paid_nok,
        "released_nok": case.unpaid_nok,
    }
    told = Notice(contract.WITHDRAWN_AFTER_PAYMENTS, about=str(case.application_id), params=params)
    return Outcome(after, (*released.messages, told))


def release(case: Case, budget: Budget) -> Outcome[CaseAfter]:
    """The unpaid rest of the case's grant back to its year's ``budget``; nothing when all of it was paid."""
    rest = case.unpaid_nok
    if rest <= 0 or case.granted_year is None:
        return Outcome(CaseAfter(case))
    after = budget.give_back(rest)
    released = FundingReleased(
        application_id=case.application_id,
        amount_nok=rest,
        programme_year=case.granted_year,
        budget_remaining_nok=after.remaining_nok,
    )
    return Outcome(CaseAfter(case, after, released_nok=rest), (released,))
