"""An application from submission to outcome: pure and synchronous decisions, no I/O; time comes in as an argument.

Each decision takes the application as it stands (or None) and what happened, and returns an
:class:`Outcome`: the application after it, the events and notifications it causes, or the
reasons it is refused. An application is ready for decision once, the moment its three
preconditions (plan, management commitment, clarification) first all hold, whatever their order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Literal
from uuid import UUID

from applications.domain import content as rules
from applications.domain.policy import Policy
from applications.domain.project import Project
from shared.contract import applications as contract
from shared.contract.applications import (
    AmendApplication,
    ApplicationAmended,
    ApplicationApproved,
    ApplicationContent,
    ApplicationDeclined,
    ApplicationReadyForDecision,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    ClarificationCompleted,
    ConfirmedBy,
    ConfirmManagementCommitment,
    ManagementCommitmentConfirmed,
    Status,
    SubmitApplication,
    WithdrawApplication,
)
from shared.contract.base import Event, Reason, Template, organisation_number_is_valid
from shared.outcome import NOTHING, Notice, Outcome, refusal

# Refusal codes of commands on an application: the contract's words.
DUPLICATE_APPLICATION: Final = "duplicate_application"
APPLICATION_LOCKED: Final = "application_locked"
UNKNOWN_APPLICATION: Final = "unknown_application"
APPLICATION_CLOSED: Final = "application_closed"
# Ours, beyond the contract's: a command that would only restate a fact already recorded. Each
# command gets exactly one answer, and repeating the fact (a second ApplicationSubmitted, a second
# ManagementCommitmentConfirmed) would make readers act twice, so the answer is a refusal that
# says nothing changed.
ALREADY_SUBMITTED: Final = "already_submitted"
ALREADY_CONFIRMED: Final = "already_confirmed"

Precondition = Literal["plan", "commitment", "clarification"]
PRECONDITIONS: Final[tuple[Precondition, ...]] = ("plan", "commitment", "clarification")

# Statuses from which nothing more can happen to an application.
CLOSED: Final[frozenset[Status]] = frozenset({"declined", "withdrawn", "lapsed", "completed"})


@dataclass(frozen=True, slots=True)
class Commitment:
    confirmed_by: ConfirmedBy
    confirmed_at: datetime


@dataclass(frozen=True, slots=True)
class Clarification:
    """An attendance at a clarification workshop by someone from the applicant company."""

    workshop_id: UUID
    attended_at: datetime


@dataclass(frozen=True, slots=True)
class Application:
    """An application as it stands: its content, status, version, preconditions and outcome."""

    application_id: UUID
    content: ApplicationContent
    submitted: ApplicationContent  # as first sent: a re-submission is compared with it
    status: Status
    version: int
    plan_completed_at: datetime | None = None
    commitment: Commitment | None = None
    clarification: Clarification | None = None
    ready_at: datetime | None = None
    approved_nok: int | None = None
    decline_reason: str | None = None
    withdrawal_reason: str | None = None
    project: Project | None = None  # from the accepted grant on: the project's deadline and final report

    @property
    def organisation_number(self) -> str:
        return self.content.applicant.organisation_number

    @property
    def is_open(self) -> bool:
        """Still waiting for its preconditions: the only status in which it can be amended or clarified."""
        return self.status == "submitted"

    def missing(self) -> tuple[Precondition, ...]:
        held = {
            "plan": self.plan_completed_at is not None,
            "commitment": self.commitment is not None,
            "clarification": self.clarification is not None,
        }
        return tuple(name for name in PRECONDITIONS if not held[name])


Decision = Outcome[Application]


def has_plan(how: str | None) -> bool:
    return how is not None and how.strip() != ""


# decisions on commands


def submit(
    existing: Application | None,
    command: SubmitApplication,
    *,
    policy: Policy,
    remembered: Clarification | None,
    at: datetime,
) -> Decision:
    """A new application; a clarification its company attended before counts at once."""
    content = command.content()
    reasons = rules.content_refusals(content, clusters=policy.clusters)
    if existing is not None:
        # The same id again: with the same content it is a re-sent submission, answered without
        # a second ApplicationSubmitted; with other content it is the contract's duplicate.
        if existing.submitted == content:
            return refusal(
                Reason(
                    code=ALREADY_SUBMITTED,
                    field="application_id",
                    message=f"this application was submitted before; it is {existing.status}",
                )
            )
        reasons.insert(
            0,
            Reason(
                code=DUPLICATE_APPLICATION,
                field="application_id",
                message="an application with this id exists with other content",
            ),
        )
    if reasons:
        return refusal(*reasons)
    application = Application(
        application_id=command.application_id,
        content=content,
        submitted=content,
        status="submitted",
        version=1,
        plan_completed_at=at if has_plan(content.how) else None,
    )
    events: list[Event] = [ApplicationSubmitted(application_id=command.application_id, **content.model_dump())]
    notices = [_received(application)]
    if remembered is not None:
        clarified = clarify(application, remembered, at=at)
        application = clarified.state or application
        events += clarified.events
        notices += clarified.notices
    missing = application.missing()
    if missing:
        notices.append(_preconditions_missing(application, missing))
    return Outcome(application, (*events, *notices))


def amend(application: Application | None, command: AmendApplication, *, at: datetime) -> Decision:
    reasons = rules.changes_refusals(command.changes)
    if application is None:
        reasons.insert(0, unknown())
    elif not application.is_open:
        reasons.insert(
            0,
            Reason(
                code=APPLICATION_LOCKED,
                field="application_id",
                message=f"the application is {application.status} and can no longer be amended",
            ),
        )
    if reasons or application is None:
        return refusal(*reasons)
    content = application.content.model_copy(update=command.changes.given())
    plan_completed_at = application.plan_completed_at
    if not has_plan(content.how):
        plan_completed_at = None
    elif plan_completed_at is None:
        plan_completed_at = at
    amended = replace(
        application, content=content, version=application.version + 1, plan_completed_at=plan_completed_at
    )
    event = ApplicationAmended(
        application_id=application.application_id, changes=command.changes, version=amended.version
    )
    return _settle(amended, (event,), at=at)


def confirm(application: Application | None, command: ConfirmManagementCommitment, *, at: datetime) -> Decision:
    if application is None:
        return refusal(unknown())
    reasons = []
    if application.status in CLOSED:
        reasons.append(_closed(application))
    if application.commitment is not None:
        reasons.append(
            Reason(
                code=ALREADY_CONFIRMED,
                field="application_id",
                message="the management commitment was confirmed before",
            )
        )
    if reasons:
        return refusal(*reasons)
    commitment = Commitment(confirmed_by=command.confirmed_by, confirmed_at=command.confirmed_at)
    event = ManagementCommitmentConfirmed(
        application_id=application.application_id,
        confirmed_by=command.confirmed_by,
        confirmed_at=command.confirmed_at,
    )
    return _settle(replace(application, commitment=commitment), (event,), at=at)


def withdraw(application: Application | None, command: WithdrawApplication) -> Decision:
    """Allowed until declined or withdrawn, approval included."""
    if application is None:
        return refusal(unknown())
    if application.status in CLOSED:
        return refusal(_closed(application))
    event = ApplicationWithdrawn(
        application_id=application.application_id, reason=command.reason, status_before=application.status
    )
    return Outcome(replace(application, status="withdrawn", withdrawal_reason=command.reason), (event,))


# reactions


def counts_as_clarification(*, kind: str, organisation_number: str | None) -> bool:
    """Only a clarification workshop counts, and only for a company named by a valid organisation number."""
    return (
        kind == "clarification"
        and organisation_number is not None
        and organisation_number_is_valid(organisation_number)
    )


def clarify(application: Application, clarification: Clarification, *, at: datetime) -> Decision:
    """An open application's company attended a clarification workshop: once per application."""
    if not application.is_open or application.clarification is not None:
        return NOTHING
    event = ClarificationCompleted(
        application_id=application.application_id,
        workshop_id=clarification.workshop_id,
        attended_at=clarification.attended_at,
    )
    return _settle(replace(application, clarification=clarification), (event,), at=at)


def approve(application: Application | None, *, amount_nok: int) -> Decision:
    """A grant decides an application that is ready for decision; anything else has moved on.

    The applicant is not told here: funding tells them of the same grant, with the deadline to
    accept it (`funding.grant_awaiting_acceptance`), and one fact gives one notification.
    """
    if application is None or application.status != "ready_for_decision":
        return NOTHING
    event = ApplicationApproved(application_id=application.application_id, amount_nok=amount_nok)
    return Outcome(replace(application, status="approved", approved_nok=amount_nok), (event,))


def decline(application: Application | None, *, reason: str) -> Decision:
    """A decline decides an application that is ready for decision, and the applicant is told why."""
    if application is None or application.status != "ready_for_decision":
        return NOTHING
    event = ApplicationDeclined(application_id=application.application_id, reason=reason)
    declined = replace(application, status="declined", decline_reason=reason)
    return Outcome(declined, (event, to_applicant(declined, contract.DECLINED, reason=reason)))


# ready for decision


def _settle(application: Application, events: tuple[Event, ...], *, at: datetime) -> Decision:
    """The events so far, and readiness the first time all three preconditions hold."""
    if not application.is_open or application.missing():
        return Outcome(application, events)
    ready = replace(application, status="ready_for_decision", ready_at=at)
    content = ready.content
    event = ApplicationReadyForDecision(
        application_id=ready.application_id,
        organisation_number=content.applicant.organisation_number,
        applicant_name=content.applicant.name,
        size=content.applicant.size,
        lead_cluster=content.lead_cluster,
        project_type=content.project_type,
        title=content.title,
        requested_nok=content.budget.requested_nok,
        total_cost_nok=content.budget.total_cost_nok,
    )
    notice = Notice(
        contract.READY_FOR_DECISION,
        about=str(ready.application_id),
        fact=str(ready.application_id),
        params={
            "application_id": str(ready.application_id),
            "title": content.title,
            "organisation_number": content.applicant.organisation_number,
            "applicant_name": content.applicant.name,
            "lead_cluster": content.lead_cluster,
            "project_type": content.project_type,
            "requested_nok": content.budget.requested_nok,
            "total_cost_nok": content.budget.total_cost_nok,
        },
    )
    return Outcome(ready, (*events, event, notice))


# notices and refusals


def to_applicant(application: Application, template: Template, **params: Any) -> Notice:
    return Notice(
        template,
        about=str(application.application_id),
        email=application.content.applicant.contact.email,
        fact=str(application.application_id),
        params={"application_id": str(application.application_id), "title": application.content.title, **params},
    )


def _received(application: Application) -> Notice:
    return to_applicant(
        application,
        contract.RECEIVED,
        applicant_name=application.content.applicant.name,
        contact_name=application.content.applicant.contact.name,
    )


def _preconditions_missing(application: Application, missing: tuple[Precondition, ...]) -> Notice:
    return to_applicant(application, contract.PRECONDITIONS_MISSING, missing=list(missing))


def unknown() -> Reason:
    return Reason(code=UNKNOWN_APPLICATION, field="application_id", message="no application was submitted with this id")


def _closed(application: Application) -> Reason:
    return Reason(code=APPLICATION_CLOSED, field="application_id", message=f"the application is {application.status}")
