"""The funding service's use cases: load, decide, save, record; each runs in the consumer's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from funding import domain, repository
from funding.domain import Budget, Case, Policy
from shared.contract.base import Reason
from shared.contract.funding import (
    AllocateBudget,
    BudgetAllocated,
    BudgetThresholdCrossed,
    DecideFunding,
    FundingCaseClosed,
    FundingCaseOpened,
    FundingDeclined,
    FundingGranted,
    FundingReleased,
)
from shared.db import Connection
from shared.logging import get_logger
from shared.outbox import Recorder

log = get_logger(__name__)

CASE_HANDLERS = "case-handlers"
PROGRAMME_OFFICE = "programme-office"
TEMPLATE_THRESHOLD = "funding.budget_threshold"
TEMPLATE_REFUSED = "funding.decision_refused"


@dataclass(frozen=True, slots=True)
class Cause:
    """Where a change came from, for the ledger: the message's id, its time and who sent it."""

    message_id: str
    at: datetime
    source: str


# budgets


async def allocate_budget(conn: Connection, out: Recorder, *, command: AllocateBudget, cause: Cause) -> None:
    reasons = domain.allocation_refusals(command.amount_nok)
    if reasons:
        out.reject(reasons)
        return
    budget = await repository.add_allocation(
        conn,
        allocation_id=command.allocation_id,
        programme_year=command.programme_year,
        amount_nok=command.amount_nok,
        source=command.source,
        command_id=cause.message_id,
        at=cause.at,
    )
    if budget is None:
        out.reject(
            [
                Reason(
                    code=domain.DUPLICATE_ALLOCATION,
                    field="allocation_id",
                    message="this allocation was applied before; an allocation counts once",
                )
            ]
        )
        return
    await repository.append_ledger(
        conn,
        entry="allocation",
        programme_year=command.programme_year,
        amount_nok=command.amount_nok,
        actor=command.source,
        reason=f"allocation {command.allocation_id}",
        command_id=cause.message_id,
        at=cause.at,
    )
    out.emit(
        BudgetAllocated(
            programme_year=budget.programme_year,
            amount_nok=command.amount_nok,
            total_nok=budget.total_nok,
            remaining_nok=budget.remaining_nok,
            allocation_id=command.allocation_id,
        ),
        key=AllocateBudget.key_from({"programme_year": budget.programme_year}),
    )


# cases


async def open_case(conn: Connection, out: Recorder, *, opened: FundingCaseOpened, cause: Cause) -> None:
    """An application ready for decision opens its case, once."""
    case = repository.NewCase(**opened.model_dump())
    if await repository.open_case(conn, case=case, at=cause.at):
        out.emit(opened, key=str(opened.application_id))


async def withdraw(conn: Connection, out: Recorder, *, application_id: UUID, reason: str, cause: Cause) -> None:
    """A withdrawn application closes its open case, or releases its grant back to the year's budget."""
    case = await repository.lock_case(conn, application_id=application_id)
    effect = domain.withdrawal_effect(case)
    if case is None or effect == "none":
        return
    why = f"application withdrawn: {reason}" if reason else "application withdrawn"
    if effect == "close":
        await repository.set_case_status(conn, application_id=case.application_id, status="closed", at=cause.at)
        await repository.append_ledger(
            conn,
            entry="close",
            application_id=case.application_id,
            organisation_number=case.organisation_number,
            actor=cause.source,
            reason=why,
            command_id=cause.message_id,
            at=cause.at,
        )
        out.emit(FundingCaseClosed(application_id=case.application_id), key=str(case.application_id))
        return
    await _release(conn, out, case=case, why=why, cause=cause)


async def _release(conn: Connection, out: Recorder, *, case: Case, why: str, cause: Cause) -> None:
    if case.granted_nok is None or case.granted_year is None:
        msg = f"funding case {case.application_id} is granted but has no active grant"
        raise RuntimeError(msg)
    budget = await repository.return_to_budget(conn, programme_year=case.granted_year, amount_nok=case.granted_nok)
    if budget is None:
        msg = f"releasing {case.granted_nok} NOK would take budget {case.granted_year} over its total"
        raise RuntimeError(msg)
    await repository.release_grant(conn, application_id=case.application_id, at=cause.at)
    await repository.set_case_status(conn, application_id=case.application_id, status="released", at=cause.at)
    await repository.append_ledger(
        conn,
        entry="release",
        programme_year=case.granted_year,
        application_id=case.application_id,
        organisation_number=case.organisation_number,
        amount_nok=case.granted_nok,
        actor=cause.source,
        reason=why,
        command_id=cause.message_id,
        at=cause.at,
    )
    out.emit(
        FundingReleased(
            application_id=case.application_id,
            amount_nok=case.granted_nok,
            programme_year=case.granted_year,
            budget_remaining_nok=budget.remaining_nok,
        ),
        key=str(case.application_id),
    )


# decisions


async def decide_funding(
    conn: Connection, out: Recorder, *, command: DecideFunding, cause: Cause, policy: Policy
) -> None:
    case = await repository.lock_case(conn, application_id=command.application_id)
    grant = command.outcome == "grant"
    amount = command.amount_nok if grant else None  # an amount on a decline is ignored
    reasons = domain.case_refusals(case) + (domain.amount_refusals(amount) if grant else [])
    if reasons or case is None:
        out.reject(reasons)
    elif amount is None:
        await _decline(conn, out, case=case, command=command, cause=cause)
    else:
        year = domain.programme_year(cause.at)
        await _grant(conn, out, case=case, command=command, amount_nok=amount, year=year, cause=cause, policy=policy)


async def _decline(conn: Connection, out: Recorder, *, case: Case, command: DecideFunding, cause: Cause) -> None:
    await repository.set_case_status(conn, application_id=case.application_id, status="declined", at=cause.at)
    await repository.append_ledger(
        conn,
        entry="decline",
        application_id=case.application_id,
        organisation_number=case.organisation_number,
        actor=command.decided_by,
        reason=command.reason,
        command_id=cause.message_id,
        at=cause.at,
    )
    out.emit(FundingDeclined(application_id=case.application_id, reason=command.reason), key=str(case.application_id))


async def _grant(
    conn: Connection,
    out: Recorder,
    *,
    case: Case,
    command: DecideFunding,
    amount_nok: int,
    year: int,
    cause: Cause,
    policy: Policy,
) -> None:
    # Lock order: case (above), organisation, budget. The organisation's lock makes its de minimis
    # sum stable until commit; the budget's lock makes the refusal reasons exact, and the guarded
    # UPDATE below is what guarantees the money is there.
    await repository.lock_organisation(conn, organisation_number=case.organisation_number)
    aid = await repository.active_aid_by_year(
        conn, organisation_number=case.organisation_number, years=domain.affected_years(year)
    )
    budget = await repository.lock_budget(conn, programme_year=year)
    reasons = domain.grant_refusals(
        case, amount_nok=amount_nok, budget=budget, aid_by_year=aid, year=year, policy=policy
    )
    after = None if reasons else await repository.take_from_budget(conn, programme_year=year, amount_nok=amount_nok)
    if after is None:
        reasons = reasons or [
            Reason(code=domain.INSUFFICIENT_BUDGET, field="amount_nok", message=f"the {year} budget cannot cover it")
        ]
        _refuse(out, reasons, case=case, amount_nok=amount_nok, year=year)
        return
    await repository.insert_grant(
        conn,
        application_id=case.application_id,
        organisation_number=case.organisation_number,
        programme_year=year,
        amount_nok=amount_nok,
        decided_by=command.decided_by,
        reason=command.reason,
        command_id=cause.message_id,
        at=cause.at,
    )
    await repository.set_case_status(conn, application_id=case.application_id, status="granted", at=cause.at)
    await repository.append_ledger(
        conn,
        entry="grant",
        programme_year=year,
        application_id=case.application_id,
        organisation_number=case.organisation_number,
        amount_nok=-amount_nok,
        actor=command.decided_by,
        reason=command.reason,
        command_id=cause.message_id,
        at=cause.at,
    )
    out.emit(
        FundingGranted(
            application_id=case.application_id,
            organisation_number=case.organisation_number,
            amount_nok=amount_nok,
            programme_year=year,
            budget_remaining_nok=after.remaining_nok,
        ),
        key=str(case.application_id),
    )
    await _thresholds(conn, out, after=after, cause=cause, policy=policy)


def _refuse(out: Recorder, reasons: list[Reason], *, case: Case, amount_nok: int, year: int) -> None:
    """Refuse the grant; refusals the money decided (not the handler's input) go to the case handlers too."""
    out.reject(reasons)
    situational = sorted({r.code for r in reasons} & domain.SITUATIONAL_CODES)
    if situational:
        out.notify(
            audience="staff",
            role=CASE_HANDLERS,
            template=TEMPLATE_REFUSED,
            about=str(case.application_id),
            params={
                "application_id": str(case.application_id),
                "organisation_number": case.organisation_number,
                "amount_nok": amount_nok,
                "programme_year": year,
                "codes": situational,
            },
        )


async def _thresholds(conn: Connection, out: Recorder, *, after: Budget, cause: Cause, policy: Policy) -> None:
    year = after.programme_year
    already = await repository.crossed_thresholds(conn, programme_year=year)
    for threshold in domain.thresholds_crossed(after, policy=policy, already=already):
        first = await repository.record_threshold(
            conn, programme_year=year, threshold=threshold, remaining_nok=after.remaining_nok, at=cause.at
        )
        if not first:
            continue
        out.emit(
            BudgetThresholdCrossed(
                programme_year=year, remaining_nok=after.remaining_nok, threshold=threshold, total_nok=after.total_nok
            ),
            key=AllocateBudget.key_from({"programme_year": year}),
        )
        out.notify(
            audience="staff",
            role=PROGRAMME_OFFICE,
            template=TEMPLATE_THRESHOLD,
            about=AllocateBudget.key_from({"programme_year": year}),
            params={
                "programme_year": year,
                "threshold": threshold,
                "remaining_nok": after.remaining_nok,
                "total_nok": after.total_nok,
            },
            fact=f"{year}/{threshold}",
        )
        log.info("budget.threshold_crossed", programme_year=year, threshold=threshold)
