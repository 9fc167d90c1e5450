"""A grant after it is made: accepted within its period or lapsed, paid in instalments, completed.

Pure and synchronous, like :mod:`funding.domain.cases`: each decision takes the case as it stands
(with its grant's follow-up) and returns an :class:`Outcome`. The payment rule lives here, once:
the payable amount is the grant's share of the documented costs less what was paid, interim
payments together stay under the cap, and nothing pays past the grant. The database's guarded
``UPDATE`` and ``CHECK`` on ``paid_nok`` are the backstop for a decision made on a stale read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final
from uuid import UUID

from funding.domain.budgets import INVALID_AMOUNT, Budget
from funding.domain.cases import Case, CaseAfter, Decision, release, tell_applicant
from funding.domain.policy import Policy
from shared.contract import funding as contract
from shared.contract.base import Reason
from shared.contract.funding import (
    AcceptGrant,
    ApprovePayment,
    FundingCaseClosed,
    GrantAccepted,
    GrantLapsed,
    PaymentApproved,
    PaymentKind,
)
from shared.outcome import NOTHING, Notice, Outcome, refusal

# Refusal codes: the contract's words.
UNKNOWN_GRANT: Final = "unknown_grant"
GRANT_NOT_OPEN: Final = "grant_not_open"
ALREADY_ACCEPTED: Final = "already_accepted"
ACCEPTANCE_PERIOD_OVER: Final = "acceptance_period_over"
GRANT_NOT_ACCEPTED: Final = "grant_not_accepted"
INTERIM_CAP_REACHED: Final = "interim_cap_reached"
FINAL_REPORT_NOT_ACCEPTED: Final = "final_report_not_accepted"
DUPLICATE_PAYMENT: Final = "duplicate_payment"

# A case that never had a grant, and the ways a grant ends.
_NEVER_GRANTED: Final = frozenset({"open", "declined", "closed"})
_ENDED: Final = frozenset({"lapsed", "released", "completed"})


def _granted(case: Case | None) -> Case | Reason:
    """The case when it holds a grant not ended yet; else unknown_grant (never granted) or grant_not_open (ended)."""
    if case is None or case.status in _NEVER_GRANTED:
        return Reason(code=UNKNOWN_GRANT, field="application_id", message="no grant for this application")
    if case.status in _ENDED:
        return Reason(code=GRANT_NOT_OPEN, field="application_id", message=f"the grant is {case.status}")
    return case


# acceptance


def accept(case: Case | None, command: AcceptGrant, *, at: datetime) -> Decision:
    """The company accepts its grant, sent (``at``, the command's time) by the end of the acceptance period."""
    found = _granted(case)
    return refusal(found) if isinstance(found, Reason) else _accept(found, command, at=at)


def _accept(case: Case, command: AcceptGrant, *, at: datetime) -> Decision:
    if case.status == "accepted":
        return refusal(Reason(code=ALREADY_ACCEPTED, field="application_id", message="the grant was accepted before"))
    if case.accept_by is None or case.granted_nok is None or case.granted_year is None:
        msg = f"funding case {case.application_id} is granted without an acceptance deadline"
        raise ValueError(msg)
    if at > case.accept_by:
        return refusal(
            Reason(
                code=ACCEPTANCE_PERIOD_OVER,
                field="accepted_at",
                message=f"the grant had to be accepted by {case.accept_by.isoformat()}",
            )
        )
    accepted = GrantAccepted(
        application_id=case.application_id,
        amount_nok=case.granted_nok,
        programme_year=case.granted_year,
        accepted_at=command.accepted_at,
    )
    return Outcome(CaseAfter(replace(case, status="accepted", accepted_at=command.accepted_at)), (accepted,))


def lapse(case: Case | None, budget: Budget | None) -> Decision:
    """A grant whose acceptance deadline has passed unaccepted lapses: all of it back to its year's budget.

    The caller settles a lapse only once the deadline has passed (by the database's clock); a grant
    accepted, withdrawn or lapsed meanwhile no longer lapses.
    """
    if case is None or case.status != "granted":
        return NOTHING
    if case.granted_nok is None or case.granted_year is None or budget is None:
        msg = f"funding case {case.application_id} is granted but has no active grant in a budget"
        raise ValueError(msg)
    lapsed = GrantLapsed(
        application_id=case.application_id, amount_nok=case.granted_nok, programme_year=case.granted_year
    )
    released = release(case, budget)
    told = tell_applicant(
        case,
        contract.GRANT_LAPSED,
        amount_nok=case.granted_nok,
        accept_by=case.accept_by.isoformat() if case.accept_by else "",
    )
    after = replace(released.state or CaseAfter(case), case=replace(case, status="lapsed"))
    return Outcome(after, (lapsed, *released.messages, *told))


# payments


@dataclass(frozen=True, slots=True)
class Payment:
    """An approved payment as it was recorded: what was asked, and what it paid."""

    payment_id: UUID
    application_id: UUID
    kind: PaymentKind
    documented_costs_nok: int
    approved_by: str
    amount_nok: int
    paid_total_nok: int
    remaining_grant_nok: int

    def is_same_command(self, command: ApprovePayment) -> bool:
        return (self.application_id, self.kind, self.documented_costs_nok, self.approved_by) == (
            command.application_id,
            command.kind,
            command.documented_costs_nok,
            command.approved_by,
        )

    def approved(self) -> PaymentApproved:
        return PaymentApproved(
            payment_id=self.payment_id,
            application_id=self.application_id,
            kind=self.kind,
            amount_nok=self.amount_nok,
            paid_total_nok=self.paid_total_nok,
            remaining_grant_nok=self.remaining_grant_nok,
        )


@dataclass(frozen=True, slots=True)
class PaymentHistory:
    """What the grant's earlier payments add up to: the highest documented costs one was based on, and the
    interim payments' sum."""

    documented_costs_nok: int = 0
    interim_paid_nok: int = 0


@dataclass(frozen=True, slots=True)
class PaymentAfter:
    """A case after a payment: the payment recorded, and for a final one the case closed and its rest released."""

    after: CaseAfter
    payment: Payment


def payable(case: Case, documented_costs_nok: int) -> int:
    """The grant's share of the documented costs, never more than the grant, less what was paid already."""
    grant = case.granted_nok or 0
    proportional = grant * documented_costs_nok // case.opened.total_cost_nok
    return min(grant, proportional) - case.paid_nok


def interim_room(case: Case, history: PaymentHistory, *, policy: Policy) -> int:
    """What interim payments may still pay under the cap (a share of the grant, rounded down)."""
    return (case.granted_nok or 0) * policy.interim_cap_pct // 100 - history.interim_paid_nok


def approve_payment(
    case: Case | None,
    command: ApprovePayment,
    *,
    earlier: Payment | None,
    history: PaymentHistory,
    budget: Budget | None,
    policy: Policy,
) -> Outcome[PaymentAfter]:
    """A payment of a running grant against its documented costs; a final one closes the case.

    ``earlier`` is a payment recorded under the command's ``payment_id`` (any grant's): with the
    same content the command was sent again and is answered as before, changing nothing.
    ``budget`` is the grant's year's budget, needed by a final payment to take back the unpaid rest.
    """
    if earlier is not None:
        if earlier.is_same_command(command):
            return Outcome(None, (earlier.approved(),))
        return refusal(
            Reason(code=DUPLICATE_PAYMENT, field="payment_id", message="this payment id was used with other content")
        )
    found = _granted(case)
    if isinstance(found, Reason):
        return refusal(found)
    return _pay(found, command, history=history, budget=budget, policy=policy)


def _pay(
    case: Case, command: ApprovePayment, *, history: PaymentHistory, budget: Budget | None, policy: Policy
) -> Outcome[PaymentAfter]:
    refused = _payment_refusal(case, command, history)
    if refused is not None:
        return refusal(refused)
    amount = payable(case, command.documented_costs_nok)
    if command.kind == "interim":
        amount = min(amount, interim_room(case, history, policy=policy))
        if amount <= 0:
            return refusal(
                Reason(
                    code=INTERIM_CAP_REACHED,
                    field="documented_costs_nok",
                    message=f"nothing is payable under the interim cap of {policy.interim_cap_pct} % of the grant",
                )
            )
    amount = max(amount, 0)
    paid = replace(case, paid_nok=case.paid_nok + amount)
    payment = Payment(
        payment_id=command.payment_id,
        application_id=case.application_id,
        kind=command.kind,
        documented_costs_nok=command.documented_costs_nok,
        approved_by=command.approved_by,
        amount_nok=amount,
        paid_total_nok=paid.paid_nok,
        remaining_grant_nok=paid.unpaid_nok,
    )
    told = _told_of_payment(case, payment)
    if command.kind == "interim":
        return Outcome(PaymentAfter(CaseAfter(paid), payment), (payment.approved(), *told))
    if budget is None:
        msg = f"a final payment of {case.application_id} needs its year's budget to release the unpaid rest"
        raise ValueError(msg)
    released = release(paid, budget)
    after = replace(released.state or CaseAfter(paid), case=replace(paid, status="completed"))
    closed = FundingCaseClosed(application_id=case.application_id, reason="completed")
    return Outcome(PaymentAfter(after, payment), (payment.approved(), closed, *released.messages, *told))


def _payment_refusal(case: Case, command: ApprovePayment, history: PaymentHistory) -> Reason | None:
    if case.status == "granted":
        return Reason(code=GRANT_NOT_ACCEPTED, field="application_id", message="the grant is not accepted yet")
    costs = command.documented_costs_nok
    if costs <= 0:
        return Reason(code=INVALID_AMOUNT, field="documented_costs_nok", message="documented costs must be positive")
    if costs < history.documented_costs_nok:
        return Reason(
            code=INVALID_AMOUNT,
            field="documented_costs_nok",
            message=f"documented costs are cumulative: an earlier payment was based on {history.documented_costs_nok}",
        )
    if command.kind == "final" and not case.final_report_accepted:
        return Reason(
            code=FINAL_REPORT_NOT_ACCEPTED, field="kind", message="a final payment waits for the accepted final report"
        )
    return None


def _told_of_payment(case: Case, payment: Payment) -> tuple[Notice, ...]:
    """Money paid: the finance system gets the payment order, the applicant is told; nothing for nothing paid."""
    if payment.amount_nok == 0:
        return ()
    order = Notice(
        contract.PAYMENT_ORDER,
        about=str(case.application_id),
        params={
            "payment_id": str(payment.payment_id),
            "application_id": str(case.application_id),
            "organisation_number": case.organisation_number,
            "applicant_name": case.opened.applicant_name,
            "kind": payment.kind,
            "amount_nok": payment.amount_nok,
        },
    )
    applicant = tell_applicant(
        case,
        contract.PAYMENT_APPROVED,
        payment_id=str(payment.payment_id),
        kind=payment.kind,
        amount_nok=payment.amount_nok,
        paid_total_nok=payment.paid_total_nok,
        remaining_grant_nok=payment.remaining_grant_nok,
    )
    return (order, *applicant)


# the final report


def final_report_accepted(case: Case | None) -> Decision:
    """Staff accepted the project's final report: a running case may now take its final payment (no event)."""
    if case is None or case.status != "accepted" or case.final_report_accepted:
        return NOTHING
    return Outcome(CaseAfter(replace(case, final_report_accepted=True)))
