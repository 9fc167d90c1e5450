"""The follow-up of a grant: the project starts, lapses or completes with funding, and reports.

Reactions to funding's events change only an application in the status they expect (a grant is
accepted or lapses while approved, a case completes while running) and are otherwise ignored.
The report commands are refused unless the project is running, with every reason found.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Final

from applications.domain import lifecycle
from applications.domain.lifecycle import Application, Decision
from applications.domain.policy import Policy
from applications.domain.project import FinalReport, ProgressReport, plan
from shared.contract import applications as contract
from shared.contract.applications import (
    AcceptFinalReport,
    ApplicationLapsed,
    FinalReportAccepted,
    FinalReportReturned,
    FinalReportSubmitted,
    IndicatorResult,
    ProgressReportSubmitted,
    ProjectCompleted,
    ProjectStarted,
    ReturnFinalReport,
    SubmitFinalReport,
    SubmitProgressReport,
)
from shared.contract.base import Reason, Template
from shared.outcome import NOTHING, Notice, Outcome, refusal

# Refusal codes of the report commands: the contract's words.
PROJECT_NOT_RUNNING: Final = "project_not_running"
UNKNOWN_INDICATOR: Final = "unknown_indicator"
MISSING_RESULT: Final = "missing_result"
NO_FINAL_REPORT: Final = "no_final_report"
DUPLICATE_REPORT: Final = "duplicate_report"
# Ours, beyond the contract's: a second result for one indicator (which would the reader take?),
# and a report that only restates one already submitted (its fact is recorded; see lifecycle).
DUPLICATE_RESULT: Final = "duplicate_result"
ALREADY_SUBMITTED: Final = lifecycle.ALREADY_SUBMITTED


# reactions to funding


def start(application: Application | None, *, policy: Policy) -> Decision:
    """The grant was accepted: the approved application becomes a running project with its final report's deadline."""
    if application is None or application.status != "approved":
        return NOTHING
    project = plan(
        application.content.period.end,
        due_after=policy.final_report_due_after,
        reminder_lead=policy.final_report_reminder_lead,
    )
    event = ProjectStarted(application_id=application.application_id, final_report_due=project.final_report_due)
    return Outcome(replace(application, status="running", project=project), (event,))


def lapse(application: Application | None) -> Decision:
    """The grant was not accepted in time: the approved application will not become a project."""
    if application is None or application.status != "approved":
        return NOTHING
    return Outcome(
        replace(application, status="lapsed"), (ApplicationLapsed(application_id=application.application_id),)
    )


def complete(application: Application | None) -> Decision:
    """The funding case closed with its final payment: the running project is completed, and the applicant told."""
    if application is None or application.status != "running":
        return NOTHING
    completed = replace(application, status="completed")
    event = ProjectCompleted(application_id=application.application_id)
    return Outcome(completed, (event, lifecycle.to_applicant(completed, contract.PROJECT_COMPLETED)))


# reports


def submit_progress(
    application: Application | None, existing: ProgressReport | None, command: SubmitProgressReport
) -> Outcome[ProgressReport]:
    """A progress report of a running project, on the application's indicators; a report id is used once."""
    report = ProgressReport(
        report_id=command.report_id,
        application_id=command.application_id,
        period_to=command.period_to,
        summary=command.summary,
        indicators=tuple(command.indicators),
    )
    if existing is not None:
        if existing == report:
            return refusal(
                Reason(code=ALREADY_SUBMITTED, field="report_id", message="this report was submitted before")
            )
        return refusal(
            Reason(code=DUPLICATE_REPORT, field="report_id", message="a report with this id exists with other content")
        )
    reasons = _running_refusals(application)
    if application is not None:
        known = indicators(application)
        reasons += [
            _unknown_indicator(f"indicators[{i}].indicator", value.indicator)
            for i, value in enumerate(command.indicators)
            if value.indicator not in known
        ]
    if reasons:
        return refusal(*reasons)
    return Outcome(report, (ProgressReportSubmitted(**command.model_dump()),))


def submit_final(application: Application | None, command: SubmitFinalReport) -> Decision:
    """The final report: a result for every indicator; again only after it was returned. Staff are told it waits."""
    reasons = _running_refusals(application)
    if application is None or application.project is None:
        return refusal(*reasons)
    before = application.project.final_report
    if before is not None and not before.outstanding:
        reasons.append(
            Reason(
                code=ALREADY_SUBMITTED,
                field="application_id",
                message=f"the final report was {before.status}; it can be submitted again only once returned",
            )
        )
    reasons += result_refusals(indicators(application), command)
    if reasons:
        return refusal(*reasons)
    report = FinalReport(
        summary=command.summary,
        results=tuple(command.results),
        effects=command.effects,
        status="submitted",
        submissions=(before.submissions if before else 0) + 1,
    )
    submitted = replace(application, project=replace(application.project, final_report=report))
    event = FinalReportSubmitted(**command.model_dump())
    notice = to_staff(submitted, contract.FINAL_REPORT_TO_REVIEW, fact=f"final-report/{report.submissions}")
    return Outcome(submitted, (event, notice))


def accept_final(application: Application | None, command: AcceptFinalReport) -> Decision:
    """Staff accept the final report waiting for review: its results beside the targets the application set."""
    waiting, reasons = _waiting_report(application)
    if reasons or application is None or application.project is None or waiting is None:
        return refusal(*reasons)
    targets = {o.indicator: o.target for o in application.content.what}
    results = [
        IndicatorResult(indicator=r.indicator, target=targets.get(r.indicator, ""), achieved=r.achieved)
        for r in waiting.results
    ]
    accepted = replace(
        application,
        project=replace(
            application.project, final_report=replace(waiting, status="accepted", accepted_by=command.accepted_by)
        ),
    )
    return Outcome(accepted, (FinalReportAccepted(application_id=application.application_id, results=results),))


def return_final(application: Application | None, command: ReturnFinalReport) -> Decision:
    """Staff return the final report waiting for review; the applicant is told why and may submit it again."""
    waiting, reasons = _waiting_report(application)
    if reasons or application is None or application.project is None or waiting is None:
        return refusal(*reasons)
    returned = replace(
        application, project=replace(application.project, final_report=replace(waiting, status="returned"))
    )
    event = FinalReportReturned(application_id=application.application_id, reason=command.reason)
    notice = lifecycle.to_applicant(returned, contract.FINAL_REPORT_RETURNED, reason=command.reason)
    # One notice per submission returned: the fact is the submission, not the application.
    notice = replace(notice, fact=f"final-report/{waiting.submissions}")
    return Outcome(returned, (event, notice))


# rules


def indicators(application: Application) -> frozenset[str]:
    """The indicators the application's `what` names: what reports measure against."""
    return frozenset(o.indicator for o in application.content.what if o.indicator.strip())


def result_refusals(known: frozenset[str], command: SubmitFinalReport) -> list[Reason]:
    """Each result on a known indicator, once; and a result for every indicator."""
    reasons = [
        _unknown_indicator(f"results[{i}].indicator", result.indicator)
        for i, result in enumerate(command.results)
        if result.indicator not in known
    ]
    counts = Counter(result.indicator for result in command.results)
    reasons += [
        Reason(code=DUPLICATE_RESULT, field="results", message=f"more than one result for indicator {name!r}")
        for name in sorted(n for n, c in counts.items() if c > 1 and n in known)
    ]
    reasons += [
        Reason(code=MISSING_RESULT, field="results", message=f"no result for indicator {name!r}")
        for name in sorted(known - set(counts))
    ]
    return reasons


def _running_refusals(application: Application | None) -> list[Reason]:
    if application is None:
        return [lifecycle.unknown()]
    if application.status != "running" or application.project is None:
        return [
            Reason(
                code=PROJECT_NOT_RUNNING,
                field="application_id",
                message=f"the application is {application.status}, not a running project",
            )
        ]
    return []


def _waiting_report(application: Application | None) -> tuple[FinalReport | None, list[Reason]]:
    """The final report waiting for review, or why there is none to accept or return."""
    reasons = _running_refusals(application)
    if reasons or application is None or application.project is None:
        return None, reasons
    report = application.project.final_report
    if report is None or report.status != "submitted":
        state = "none was submitted" if report is None else f"the last one was {report.status}"
        return None, [Reason(code=NO_FINAL_REPORT, field="application_id", message=f"no final report waits: {state}")]
    return report, []


def _unknown_indicator(field: str, name: str) -> Reason:
    return Reason(code=UNKNOWN_INDICATOR, field=field, message=f"{name!r} is not an indicator of the application")


def to_staff(application: Application, template: Template, *, fact: str, **params: object) -> Notice:
    """Case handlers told about the application, with who it is from."""
    content = application.content
    return Notice(
        template,
        about=str(application.application_id),
        fact=f"{application.application_id}/{fact}",
        params={
            "application_id": str(application.application_id),
            "title": content.title,
            "organisation_number": content.applicant.organisation_number,
            "applicant_name": content.applicant.name,
            **params,
        },
    )
