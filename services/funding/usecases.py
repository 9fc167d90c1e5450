"""The funding service's use cases: load, decide, save, record; each runs in the transaction it is given.

Lock order, as the repository writes it: case, organisation, budget. The guarded UPDATEs on the
budget are the database's backstop under the domain's rule.
"""

from __future__ import annotations

from funding import repository
from funding.domain import budgets, cases, ledger
from funding.domain.cases import Case, CaseAfter
from funding.domain.policy import Policy
from shared.cause import Cause
from shared.contract.applications import ApplicationReadyForDecision, ApplicationWithdrawn
from shared.contract.funding import AllocateBudget, DecideFunding
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
                await _release(conn, change.case, cause=cause)
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
            case, command, year=year, budget=budget, aid_by_year=aid, crossed=crossed, policy=self._policy
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


async def _release(conn: Connection, case: Case, *, cause: Cause) -> None:
    """A released grant's money back in its year's budget (the guard is the backstop), the grant ended."""
    if case.granted_nok is None or case.granted_year is None:
        msg = f"funding case {case.application_id} is released without an active grant"
        raise ValueError(msg)
    if await repository.return_to_budget(conn, programme_year=case.granted_year, amount_nok=case.granted_nok) is None:
        msg = f"releasing {case.granted_nok} NOK would take budget {case.granted_year} over its total"
        raise RuntimeError(msg)
    await repository.release_grant(conn, application_id=case.application_id, at=cause.at)


async def _enter(conn: Connection, case: Case, *, actor: str, reason: str, cause: Cause) -> None:
    """The case's new status, and its decision in the ledger with who and why."""
    await repository.set_case_status(conn, application_id=case.application_id, status=case.status, at=cause.at)
    line = ledger.decided(case, actor=actor, reason=reason)
    await repository.append_ledger(conn, line=line, command_id=cause.message_id, at=cause.at)
