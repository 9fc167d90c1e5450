"""The audit history: every allocation, grant, decline, acceptance, payment, release and close, with who and why.

A line's amount is the change it made to its year's remaining budget (+ allocation and release,
- grant), so the lines of a year add up to what remains of it. Paying out moves no budget (the
grant took the money already): a payment's line names its amount in its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from funding.domain.cases import Case
from funding.domain.grants import Payment
from shared.contract.funding import AllocateBudget

Entry = Literal["allocation", "grant", "decline", "release", "close", "accept", "payment"]


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the ledger, in the order of its columns."""

    entry: Entry
    actor: str
    reason: str
    programme_year: int | None = None
    application_id: UUID | None = None
    organisation_number: str | None = None
    amount_nok: int = 0


def allocated(command: AllocateBudget) -> Line:
    """An allocation, by the budget office that sent it."""
    reason = f"allocation {command.allocation_id}"
    return Line("allocation", command.source, reason, command.programme_year, amount_nok=command.amount_nok)


def decided(case: Case, *, actor: str, reason: str) -> Line:
    """A case's decision (granted, accepted, declined, released, lapsed, completed or closed), with the money it
    moved: a grant that ends gives back what it had not paid."""
    year, amount = case.granted_year, case.granted_nok or 0
    entry: Entry
    match case.status:
        case "granted":
            entry, amount = "grant", -amount
        case "accepted":
            entry, amount = "accept", 0
        case "released" | "lapsed" | "completed":
            amount = case.unpaid_nok
            entry = "release" if amount > 0 else "close"
        case "declined" | "closed":
            entry, year, amount = ("decline" if case.status == "declined" else "close"), None, 0
        case _:
            msg = f"a {case.status} case has made no decision to enter"
            raise ValueError(msg)
    return Line(entry, actor, reason, year, case.application_id, case.organisation_number, amount)


def paid(case: Case, payment: Payment) -> Line:
    """A payment out of the case's grant, by whoever approved it."""
    reason = f"{payment.kind} payment {payment.payment_id}: {payment.amount_nok} NOK"
    return Line(
        "payment", payment.approved_by, reason, case.granted_year, case.application_id, case.organisation_number
    )
