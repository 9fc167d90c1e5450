"""The follow-up of a grant on its own: a project starts, lapses, reports, is reminded and completes."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from applications.domain import deadlines, followup
from applications.domain import lifecycle as domain
from applications.domain.lifecycle import Application
from applications.domain.policy import Policy
from applications.domain.project import OSLO, ProgressReport, final_report_due

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
    WithdrawApplication,
)
from shared.outcome import NOTHING
from tests.unit.applications.test_rules import POLICY, after, ready, submitted, templates

WHAT = [
    {"objective": "Fewer stops", "indicator": "unplanned stops per month", "target": "-50 %"},
    {"objective": "More output", "indicator": "parts per shift", "target": "+20 %"},
    {"objective": "A shared vocabulary", "indicator": "", "target": ""},  # no indicator: nothing to report on it
]
STOPS, PARTS = "unplanned stops per month", "parts per shift"
# The period of devkit's submission ends on 2027-12-31.
DUE = datetime(2028, 3, 1, tzinfo=OSLO)


def approved(**changes: Any) -> Application:
    return after(domain.approve(ready(submitted(what=WHAT, **changes)), amount_nok=750_000))


def running(policy: Policy = POLICY) -> Application:
    return after(followup.start(approved(), policy=policy))


def final(app: Application, results: dict[str, str] | None = None) -> SubmitFinalReport:
    given = {STOPS: "-55 %", PARTS: "+12 %"} if results is None else results
    return SubmitFinalReport.model_validate(
        {
            "application_id": str(app.application_id),
            "summary": "The twin runs on every machine.",
            "results": [{"indicator": k, "achieved": v} for k, v in given.items()],
            "effects": "Two new hires in maintenance.",
        }
    )


def progress(app: Application, report_id: uuid.UUID | None = None, **changes: Any) -> SubmitProgressReport:
    data: dict[str, Any] = {
        "report_id": str(report_id or uuid.uuid4()),
        "application_id": str(app.application_id),
        "period_to": "2027-06-30",
        "summary": "Half the machines are modelled.",
        "indicators": [{"indicator": STOPS, "value": "-20 %"}],
    }
    return SubmitProgressReport.model_validate_json(json.dumps({**data, **changes}))


def codes(outcome: Any) -> list[str]:
    return [r.code for r in outcome.reasons]


def report_sent(app: Application) -> Application:
    return after(followup.submit_final(app, final(app)))


# the project's start, lapse and completion


def test_the_final_report_is_due_60_days_after_the_end_of_the_periods_last_day_in_oslo() -> None:
    assert final_report_due(date(2027, 12, 31), due_after=timedelta(days=60)) == DUE
    assert final_report_due(date(2027, 6, 30), due_after=timedelta(0)) == datetime(2027, 6, 30, 22, tzinfo=UTC)


def test_an_accepted_grant_starts_the_project_with_its_deadline_and_reminder_planned() -> None:
    outcome = followup.start(approved(), policy=POLICY)
    [event] = outcome.events
    assert isinstance(event, ProjectStarted)
    assert event.final_report_due == DUE
    project = after(outcome).project
    assert after(outcome).status == "running"
    assert project is not None
    assert (project.final_report_due, project.reminder_at) == (DUE, DUE - timedelta(days=14))
    assert outcome.notices == ()


def test_the_deadline_follows_the_policy() -> None:
    policy = replace(POLICY, final_report_due_after=timedelta(days=30), final_report_reminder_lead=timedelta(days=3))
    project = running(policy).project
    assert project is not None
    assert project.final_report_due == datetime(2028, 1, 31, tzinfo=OSLO)
    assert project.reminder_at == datetime(2028, 1, 28, tzinfo=OSLO)


def test_a_lapsed_grant_lapses_the_approved_application_and_closes_it() -> None:
    outcome = followup.lapse(approved())
    assert [type(e) for e in outcome.events] == [ApplicationLapsed]
    lapsed = after(outcome)
    assert lapsed.status == "lapsed"
    assert codes(domain.withdraw(lapsed, WithdrawApplication(application_id=lapsed.application_id, reason="x"))) == [
        "application_closed"
    ]


def test_a_completed_case_completes_the_running_project_and_tells_the_applicant() -> None:
    outcome = followup.complete(running())
    assert [type(e) for e in outcome.events] == [ProjectCompleted]
    assert after(outcome).status == "completed"
    assert templates(outcome) == ["applications.project_completed"]
    [notice] = outcome.notices
    assert notice.email == "kari@example.no"


def test_funding_news_for_an_application_in_another_status_changes_nothing() -> None:
    app = running()
    assert followup.start(None, policy=POLICY) == NOTHING
    assert followup.start(app, policy=POLICY) == NOTHING  # a second acceptance
    assert followup.start(ready(submitted()), policy=POLICY) == NOTHING
    assert followup.lapse(app) == NOTHING
    assert followup.complete(approved()) == NOTHING
    assert followup.complete(after(followup.complete(app))) == NOTHING


def test_a_running_project_may_still_be_withdrawn() -> None:
    app = running()
    outcome = domain.withdraw(app, WithdrawApplication(application_id=app.application_id, reason="sold the line"))
    assert after(outcome).status == "withdrawn"
    assert outcome.events[0].model_dump()["status_before"] == "running"


# progress reports


def test_a_progress_report_of_a_running_project_gives_the_same_fields_back() -> None:
    app = running()
    command = progress(app)
    outcome = followup.submit_progress(app, None, command)
    [event] = outcome.events
    assert isinstance(event, ProgressReportSubmitted)
    assert event.model_dump() == command.model_dump()
    assert outcome.state == ProgressReport(
        command.report_id, app.application_id, date(2027, 6, 30), command.summary, tuple(command.indicators)
    )


def test_a_report_id_used_again_is_the_same_report_or_a_duplicate() -> None:
    app = running()
    command = progress(app)
    stored = followup.submit_progress(app, None, command).state
    assert stored is not None
    assert codes(followup.submit_progress(app, stored, command)) == ["already_submitted"]
    other = progress(app, command.report_id, summary="Something else.")
    assert codes(followup.submit_progress(app, stored, other)) == ["duplicate_report"]


def test_a_progress_report_needs_a_running_project_and_the_applications_indicators() -> None:
    app = running()
    unknown = progress(
        app, indicators=[{"indicator": "happiness", "value": "high"}, {"indicator": STOPS, "value": "0"}]
    )
    outcome = followup.submit_progress(app, None, unknown)
    assert [(r.code, r.field) for r in outcome.reasons] == [("unknown_indicator", "indicators[0].indicator")]
    assert codes(followup.submit_progress(None, None, progress(app))) == ["unknown_application"]
    assert codes(followup.submit_progress(approved(), None, progress(app))) == ["project_not_running"]


# the final report


def test_a_final_report_with_a_result_for_every_indicator_waits_for_review_and_staff_are_told() -> None:
    app = running()
    outcome = followup.submit_final(app, final(app))
    assert [type(e) for e in outcome.events] == [FinalReportSubmitted]
    [notice] = outcome.notices
    assert (notice.template.name, notice.template.role) == ("applications.final_report_to_review", "case-handlers")
    project = after(outcome).project
    assert project is not None
    assert project.final_report is not None
    assert (project.final_report.status, project.final_report.submissions) == ("submitted", 1)


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ({STOPS: "-55 %"}, ["missing_result"]),
        ({STOPS: "-55 %", PARTS: "+1 %", "happiness": "high"}, ["unknown_indicator"]),
        ({}, ["missing_result", "missing_result"]),
        ({"happiness": "high"}, ["unknown_indicator", "missing_result", "missing_result"]),
    ],
)
def test_a_final_report_needs_a_result_for_every_indicator_and_only_for_them(
    results: dict[str, str], expected: list[str]
) -> None:
    app = running()
    assert codes(followup.submit_final(app, final(app, results))) == expected


def test_two_results_for_one_indicator_are_refused() -> None:
    app = running()
    command = final(app)
    doubled = command.model_copy(update={"results": [*command.results, command.results[0]]})
    assert codes(followup.submit_final(app, doubled)) == ["duplicate_result"]


def test_a_final_report_needs_a_running_project() -> None:
    app = running()
    assert codes(followup.submit_final(None, final(app))) == ["unknown_application"]
    assert codes(followup.submit_final(approved(), final(app))) == ["project_not_running"]
    completed = after(followup.complete(app))
    assert codes(followup.submit_final(completed, final(app))) == ["project_not_running"]


def test_accepting_the_waiting_report_gives_each_result_beside_its_target() -> None:
    app = report_sent(running())
    outcome = followup.accept_final(
        app, AcceptFinalReport(application_id=app.application_id, accepted_by="Case Handler")
    )
    [event] = outcome.events
    assert isinstance(event, FinalReportAccepted)
    assert event.results == [
        IndicatorResult(indicator=STOPS, target="-50 %", achieved="-55 %"),
        IndicatorResult(indicator=PARTS, target="+20 %", achieved="+12 %"),
    ]
    project = after(outcome).project
    assert project is not None
    assert project.final_report is not None
    assert (project.final_report.status, project.final_report.accepted_by) == ("accepted", "Case Handler")
    # accepted: nothing waits any more, and it cannot be sent again
    accept = AcceptFinalReport(application_id=app.application_id, accepted_by="x")
    assert codes(followup.accept_final(after(outcome), accept)) == ["no_final_report"]
    assert codes(followup.submit_final(after(outcome), final(app))) == ["already_submitted"]


def test_a_returned_report_tells_the_applicant_and_may_be_submitted_again() -> None:
    app = report_sent(running())
    back = ReturnFinalReport(application_id=app.application_id, reason="Results lack a baseline.")
    outcome = followup.return_final(app, back)
    assert [type(e) for e in outcome.events] == [FinalReportReturned]
    assert templates(outcome) == ["applications.final_report_returned"]
    returned = after(outcome)
    assert codes(followup.return_final(returned, back)) == ["no_final_report"]
    again = followup.submit_final(returned, final(returned))
    assert [type(e) for e in again.events] == [FinalReportSubmitted]
    project = after(again).project
    assert project is not None
    assert project.final_report is not None
    assert project.final_report.submissions == 2
    # the second submission is a fact of its own: its review notice is a new one
    first = followup.submit_final(running(), final(app)).notices[0]
    assert again.notices[0].fact != first.fact


def test_accept_or_return_with_no_report_waiting_is_refused() -> None:
    app = running()
    assert codes(followup.accept_final(app, AcceptFinalReport(application_id=app.application_id, accepted_by="x"))) == [
        "no_final_report"
    ]
    assert codes(
        followup.return_final(approved(), ReturnFinalReport(application_id=app.application_id, reason="x"))
    ) == ["project_not_running"]


# the deadline


def test_the_reminder_goes_to_the_applicant_once_before_the_deadline() -> None:
    app = running()
    outcome = deadlines.settle(app, "reminder", at=DUE - timedelta(days=14))
    [notice] = outcome.notices
    assert (notice.template.name, notice.email) == ("applications.final_report_due_soon", "kari@example.no")
    assert notice.params["final_report_due"] == "2028-03-01T00:00:00+01:00"
    assert deadlines.settle(after(outcome), "reminder", at=DUE) == NOTHING


def test_the_overdue_notice_goes_to_staff_once_when_no_report_came() -> None:
    app = running()
    outcome = deadlines.settle(app, "overdue", at=DUE)
    [notice] = outcome.notices
    assert (notice.template.name, notice.template.role) == ("applications.final_report_overdue", "case-handlers")
    assert deadlines.settle(after(outcome), "overdue", at=DUE) == NOTHING


def test_a_submitted_or_accepted_report_settles_the_deadline_without_a_message() -> None:
    sent = report_sent(running())
    kinds: tuple[deadlines.Kind, ...] = ("reminder", "overdue")
    for kind in kinds:
        outcome = deadlines.settle(sent, kind, at=DUE)
        assert outcome.state is not None
        assert outcome.notices == ()


def test_a_returned_report_is_owed_again() -> None:
    sent = report_sent(running())
    returned = after(followup.return_final(sent, ReturnFinalReport(application_id=sent.application_id, reason="x")))
    assert templates(deadlines.settle(returned, "overdue", at=DUE)) == ["applications.final_report_overdue"]


def test_a_reminder_come_due_after_the_deadline_or_for_a_project_not_running_is_not_sent() -> None:
    app = running()
    assert deadlines.settle(app, "reminder", at=DUE).notices == ()
    withdrawn = after(domain.withdraw(app, WithdrawApplication(application_id=app.application_id, reason="x")))
    assert deadlines.settle(withdrawn, "reminder", at=DUE - timedelta(days=1)).notices == ()
    assert deadlines.settle(None, "overdue", at=DUE) == NOTHING
    assert deadlines.settle(approved(), "overdue", at=DUE) == NOTHING
