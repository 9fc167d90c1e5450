"""The funding service's use cases: load, decide, save, record; each runs in the transaction it is given.

Lock order, as the repository writes it: case, organisation or payment id, budget. The guarded
UPDATEs on the budget and on a grant's paid sum are the database's backstop under the domain's rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from funding import repository
from funding.domain import budgets, cases, grants, ledger
from funding.domain.cases import Case, CaseAfter, Contact
from funding.domain.policy import Policy
from shared.cause import Cause
from shared.contract.applications import (
    ApplicationReadyForDecision,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    FinalReportAccepted,
)
from shared.contract.funding import AcceptGrant, AllocateBudget, ApprovePayment, DecideFunding
from shared.db import Connection
from shared.logging import get_logger
from shared.outbox import Recorder

log = get_logger(__name__)


class UseCases:
    """Every use case of the service, with the policy a deployment configures."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy

    # budgets

    async def allocate_budget(self, conn: Connection, command: AllocateBudget, cause: Cause, out: Recorder) -> None:
        year = command.programme_year
        await repository.lock_year(conn, programme_year=year)
        outcome = budgets.allocate(await repository.lock_budget(conn, programme_year=year), command)
        after = outcome.state
        if after is not None:
            if not await repository.record_allocation(conn, command=command, command_id=cause.message_id, at=cause.at):
                outcome = budgets.duplicate_allocation()
            else:
                await repository.save_budget(conn, budget=after)
                line = ledger.allocated(command)
                await repository.append_ledger(conn, line=line, command_id=cause.message_id, at=cause.at)
        out.record(outcome)

    # cases

    async def remember_applicant(
        self,
        conn: Connection,
        submitted: ApplicationSubmitted,
        cause: Cause,  # noqa: ARG002 - a route's signature; remembering a contact is no decision and records nothing
        out: Recorder,  # noqa: ARG002
    ) -> None:
        """An application's contact, kept for the applicant's notices about its grant (funding's own copy)."""
        contact = submitted.applicant.contact
        await repository.remember_contact(
            conn, application_id=submitted.application_id, contact=Contact(contact.name, str(contact.email))
        )

    async def open_case(
        self, conn: Connection, ready: ApplicationReadyForDecision, cause: Cause, out: Recorder
    ) -> None:
        outcome = cases.open_case(await repository.lock_case(conn, application_id=ready.application_id), ready)
        if outcome.state is not None and not await repository.insert_case(conn, case=outcome.state.case, at=cause.at):
            return  # a racing copy of the event opened it, and recorded the opening
        out.record(outcome)

    async def withdraw(self, conn: Connection, withdrawn: ApplicationWithdrawn, cause: Cause, out: Recorder) -> None:
        """A withdrawn application closes its open case, or releases its grant back to the year's budget."""
        case = await repository.lock_case(conn, application_id=withdrawn.application_id)
        year = case.granted_year if case else None
        budget = None if year is None else await repository.lock_budget(conn, programme_year=year)
        outcome = cases.withdraw(case, budget)
        change = outcome.state
        if change is not None:
            if change.case.status == "released":
                await _release(conn, change, cause=cause)
            why = f"application withdrawn: {withdrawn.reason}" if withdrawn.reason else "application withdrawn"
            await _enter(conn, change.case, actor=cause.source, reason=why, cause=cause)
        out.record(outcome)

    # decisions

    async def decide(self, conn: Connection, command: DecideFunding, cause: Cause, out: Recorder) -> None:
        case = await repository.lock_case(conn, application_id=command.application_id)
        year = budgets.programme_year(cause.at)
        amount = cases.money_asked(case, command)
        budget, aid, crossed = None, {}, frozenset[str]()
        if case is not None and amount is not None:
            # The organisation's lock makes its de minimis sum stable until commit; the budget's lock
            # makes the refusal reasons exact, and the guarded UPDATE below is the backstop.
            await repository.lock_organisation(conn, organisation_number=case.organisation_number)
            aid = await repository.active_aid_by_year(
                conn, organisation_number=case.organisation_number, years=cases.affected_years(year)
            )
            budget = await repository.lock_budget(conn, programme_year=year)
            crossed = await repository.crossed_thresholds(conn, programme_year=year)
        outcome = cases.decide(
            case, command, at=cause.at, year=year, budget=budget, aid_by_year=aid, crossed=crossed, policy=self._policy
        )
        change = outcome.state
        if change is not None and change.budget is not None and amount is not None:
            if await repository.take_from_budget(conn, programme_year=year, amount_nok=amount) is None:
                outcome = cases.grant_lost_race(change.case, amount_nok=amount, year=year)
            else:
                await _save_grant(conn, change, command=command, cause=cause)
        if change is not None and not outcome.refused:
            await _enter(conn, change.case, actor=command.decided_by, reason=command.reason, cause=cause)
        out.record(outcome)
        if change is not None and not outcome.refused:
            for threshold in change.thresholds:
                log.info("budget.threshold_crossed", programme_year=year, threshold=threshold)

    # a grant's follow-up

    async def accept_grant(self, conn: Connection, command: AcceptGrant, cause: Cause, out: Recorder) -> None:
        case = await repository.lock_case(conn, application_id=command.application_id)
        outcome = grants.accept(case, command, at=cause.at)
        if outcome.state is not None:
            accepted = outcome.state.case
            await repository.accept_grant(conn, application_id=accepted.application_id, accepted_at=command.accepted_at)
            signed = f"accepted by {command.accepted_by.name} ({command.accepted_by.role})"
            await _enter(conn, accepted, actor=command.accepted_by.name, reason=signed, cause=cause)
        out.record(outcome)

    async def due_lapses(self, conn: Connection, limit: int) -> Sequence[UUID]:
        return await repository.due_lapses(conn, limit)

    async def lapse(self, conn: Connection, application_id: UUID, cause: Cause, out: Recorder) -> bool:
        """A grant unaccepted past its deadline lapses, all of it back to its year; False when another replica
        has it, or it was accepted or withdrawn meanwhile."""
        case = await repository.claim_lapse(conn, application_id=application_id)
        if case is None or case.granted_year is None:
            return False
        budget = await repository.lock_budget(conn, programme_year=case.granted_year)
        outcome = grants.lapse(case, budget)
        change = outcome.state
        if change is None:
            return False
        await _release(conn, change, cause=cause)
        deadline = case.accept_by.isoformat() if case.accept_by else "its deadline"
        await _enter(conn, change.case, actor=cause.source, reason=f"not accepted by {deadline}", cause=cause)
        out.record(outcome)
        log.info("grant.lapsed", application_id=str(application_id), fact=cause.message_id)
        return True

    async def approve_payment(self, conn: Connection, command: ApprovePayment, cause: Cause, out: Recorder) -> None:
        case = await repository.lock_case(conn, application_id=command.application_id)
        await repository.lock_payment_id(conn, payment_id=command.payment_id)
        earlier = await repository.find_payment(conn, payment_id=command.payment_id)
        history = await repository.payment_history(conn, application_id=command.application_id)
        year = case.granted_year if case is not None and command.kind == "final" else None
        budget = None if year is None else await repository.lock_budget(conn, programme_year=year)
        outcome = grants.approve_payment(
            case, command, earlier=earlier, history=history, budget=budget, policy=self._policy
        )
        change = outcome.state
        if change is not None:
            payment, after = change.payment, change.after
            paid = await repository.pay_from_grant(
                conn, application_id=payment.application_id, amount_nok=payment.amount_nok
            )
            if paid != payment.paid_total_nok:
                # The case's lock makes this unreachable; the guard is the backstop, and a stale decision
                # must not be recorded: the transaction rolls back and the command is tried again.
                msg = f"payment {payment.payment_id} would pay {payment.application_id} past its grant"
                raise RuntimeError(msg)
            await repository.insert_payment(conn, payment=payment, command_id=cause.message_id, at=cause.at)
            line = ledger.paid(after.case, payment)
            await repository.append_ledger(conn, line=line, command_id=cause.message_id, at=cause.at)
            if after.case.status == "completed":
                await _release(conn, after, cause=cause)
                await _enter(conn, after.case, actor=command.approved_by, reason="final payment", cause=cause)
        out.record(outcome)

    async def final_report_accepted(
        self, conn: Connection, accepted: FinalReportAccepted, cause: Cause, out: Recorder
    ) -> None:
        """The project's final report was accepted: its case may now take its final payment."""
        outcome = grants.final_report_accepted(await repository.lock_case(conn, application_id=accepted.application_id))
        if outcome.state is not None:
            await repository.accept_final_report(conn, application_id=accepted.application_id, at=cause.at)
        out.record(outcome)


async def _save_grant(conn: Connection, change: CaseAfter, *, command: DecideFunding, cause: Cause) -> None:
    await repository.insert_grant(
        conn,
        case=change.case,
        decided_by=command.decided_by,
        reason=command.reason,
        command_id=cause.message_id,
        at=cause.at,
    )
    if change.budget is not None and change.thresholds:
        await repository.record_thresholds(conn, budget=change.budget, thresholds=change.thresholds, at=cause.at)


async def _release(conn: Connection, change: CaseAfter, *, cause: Cause) -> None:
    """A grant ended: its unpaid money back in its year's budget (the guard is the backstop), the grant closed."""
    case = change.case
    if change.released_nok > 0:
        if case.granted_year is None:
            msg = f"funding case {case.application_id} releases money without a grant year"
            raise ValueError(msg)
        back = await repository.return_to_budget(conn, programme_year=case.granted_year, amount_nok=change.released_nok)
        if back is None:
            msg = f"releasing {change.released_nok} NOK would take budget {case.granted_year} over its total"
            raise RuntimeError(msg)
    await repository.release_grant(conn, application_id=case.application_id, at=cause.at)


async def _enter(conn: Connection, case: Case, *, actor: str, reason: str, cause: Cause) -> None:
    """The case's new status, and its decision in the ledger with who and why."""
    await repository.set_case_status(conn, application_id=case.application_id, status=case.status, at=cause.at)
    line = ledger.decided(case, actor=actor, reason=reason)
    await repository.append_ledger(conn, line=line, command_id=cause.message_id, at=cause.at)
