"""The follow-up of a grant through Kafka: funding's events start, lapse and complete the project; it reports.

Funding is played by publishing its events (GrantAccepted, GrantLapsed, FundingCaseClosed) on its
events topic, as funding would.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from devkit.payloads import submit_application as submission
from tests.integration.applications.conftest import Portal
from tests.integration.applications.test_lifecycle import PLAN, status

READY = "applications.ApplicationReadyForDecision.v1"
CLARIFIED = "applications.ClarificationCompleted.v1"
APPROVED = "applications.ApplicationApproved.v1"
STARTED = "applications.ProjectStarted.v1"
LAPSED = "applications.ApplicationLapsed.v1"
COMPLETED = "applications.ProjectCompleted.v1"
WITHDRAWN = "applications.ApplicationWithdrawn.v1"
PROGRESS = "applications.ProgressReportSubmitted.v1"
FINAL = "applications.FinalReportSubmitted.v1"
RETURNED = "applications.FinalReportReturned.v1"
ACCEPTED = "applications.FinalReportAccepted.v1"
REJECTED = "applications.CommandRejected.v1"
STOPS = "unplanned stops per month"


async def approved_application(portal: Portal, **changes: Any) -> str:
    """A new application taken through readiness to approval by a grant."""
    data = submission(how=PLAN, **changes)
    app: str = data["application_id"]
    await portal.answer(await portal.submit(data))
    await portal.attend(data["applicant"]["organisation_number"])
    await portal.wait_event(app, CLARIFIED)
    await portal.answer(await portal.confirm(app), count=2)
    await portal.grant(app)
    await portal.wait_event(app, APPROVED)
    return app


async def running_project(portal: Portal, **changes: Any) -> str:
    app = await approved_application(portal, **changes)
    await portal.accept_grant(app)
    await portal.wait_event(app, STARTED)
    return app


async def codes(portal: Portal, ce_id: str) -> list[str]:
    return [r.code for r in (await portal.rejection(ce_id)).reasons]


async def test_an_accepted_grant_starts_the_project_which_reports_and_completes(
    portal: Portal, admin_db: asyncpg.Pool
) -> None:
    app = await approved_application(portal)
    accepted = await portal.accept_grant(app)
    [started] = await portal.wait_event(app, STARTED)
    assert started.causation_id == accepted
    # The period of the submission ends on 2027-12-31: due 60 days after that day's end, Oslo time.
    assert started.data == {"application_id": app, "final_report_due": "2028-03-01T00:00:00+01:00"}
    await portal.accept_grant(app, ce_id=accepted)  # funding's event again: applied once
    assert (await status(admin_db, app))[0] == "running"

    # progress: a report, the same one again, and its id reused with other content
    report_id = str(uuid.uuid4())
    [progress] = await portal.answer(await portal.progress_report(app, report_id=report_id))
    assert progress.ce_type == PROGRESS
    assert progress.data["report_id"] == report_id
    assert progress.data["indicators"] == [{"indicator": STOPS, "value": "-20 %"}]
    assert await codes(portal, await portal.progress_report(app, report_id=report_id)) == ["already_submitted"]
    other = await portal.progress_report(app, report_id=report_id, summary="Something else.")
    assert await codes(portal, other) == ["duplicate_report"]
    unknown = await portal.progress_report(app, indicators=[{"indicator": "happiness", "value": "high"}])
    assert await codes(portal, unknown) == ["unknown_indicator"]
    stored = await admin_db.fetchval(
        "SELECT summary FROM applications.progress_reports WHERE report_id = $1", uuid.UUID(report_id)
    )
    assert stored == "Half the machines are modelled."

    # the final report: refused without every result, nothing to accept yet; sent, returned, sent again, accepted
    assert await codes(portal, await portal.final_report(app, {})) == ["missing_result"]
    assert await codes(portal, await portal.final_report(app, {"happiness": "high", STOPS: "x"})) == [
        "unknown_indicator"
    ]
    assert await codes(portal, await portal.accept_final_report(app)) == ["no_final_report"]
    [final] = await portal.answer(await portal.final_report(app))
    assert final.ce_type == FINAL
    assert final.data["results"] == [{"indicator": STOPS, "achieved": "-55 %"}]
    assert await codes(portal, await portal.final_report(app)) == ["already_submitted"]
    [returned] = await portal.answer(await portal.return_final_report(app))
    assert (returned.ce_type, returned.data["reason"]) == (RETURNED, "Results lack a baseline.")
    assert await codes(portal, await portal.return_final_report(app)) == ["no_final_report"]
    [again] = await portal.answer(await portal.final_report(app, {STOPS: "-60 %"}))
    assert again.ce_type == FINAL
    [accepted_report] = await portal.answer(await portal.accept_final_report(app))
    assert accepted_report.ce_type == ACCEPTED
    assert accepted_report.data == {
        "application_id": app,
        "results": [{"indicator": STOPS, "target": "-50 %", "achieved": "-60 %"}],
    }
    row = await admin_db.fetchrow(
        """SELECT final_report_status, final_report_submissions, final_report->>'accepted_by' AS accepted_by
           FROM applications.applications WHERE application_id = $1""",
        uuid.UUID(app),
    )
    assert row is not None
    assert tuple(row) == ("accepted", 2, "Case Handler")

    # funding's final payment closes the case: the project is completed, and reports end
    await portal.close_case(app)
    await portal.wait_event(app, COMPLETED)
    assert await codes(portal, await portal.progress_report(app)) == ["project_not_running"]
    await portal.wait_notifications(app, "applications.project_completed")
    await portal.log.settle()
    assert (await status(admin_db, app))[0] == "completed"
    notifications = [(n.template, n.recipient.role or n.recipient.email) for n in portal.notifications(app)]
    assert notifications[-5:] == [
        ("applications.ready_for_decision", "case-handlers"),
        ("applications.final_report_to_review", "case-handlers"),
        ("applications.final_report_returned", "kari@example.no"),
        ("applications.final_report_to_review", "case-handlers"),
        ("applications.project_completed", "kari@example.no"),
    ]
    assert portal.events(app).count(STARTED) == 1


async def test_a_lapsed_grant_lapses_the_application_and_a_later_acceptance_changes_nothing(
    portal: Portal, admin_db: asyncpg.Pool
) -> None:
    app = await approved_application(portal)
    lapsed = await portal.lapse_grant(app)
    [event] = await portal.wait_event(app, LAPSED)
    assert (event.causation_id, event.data) == (lapsed, {"application_id": app})
    await portal.accept_grant(app)
    assert await codes(portal, await portal.progress_report(app)) == ["project_not_running"]
    assert await codes(portal, await portal.withdraw(app)) == ["application_closed"]
    await portal.log.settle()
    assert STARTED not in portal.events(app)
    assert (await status(admin_db, app))[0] == "lapsed"


async def test_a_running_project_may_be_withdrawn_and_a_case_closed_by_withdrawal_changes_nothing(
    portal: Portal, admin_db: asyncpg.Pool
) -> None:
    app = await running_project(portal)
    [withdrawn] = await portal.answer(await portal.withdraw(app))
    assert (withdrawn.ce_type, withdrawn.data["status_before"]) == (WITHDRAWN, "running")
    await portal.close_case(app, reason="application_withdrawn")
    await portal.close_case(app)  # even a completion: the project is no longer running
    assert await codes(portal, await portal.final_report(app)) == ["project_not_running"]
    await portal.log.settle()
    assert COMPLETED not in portal.events(app)
    assert (await status(admin_db, app))[0] == "withdrawn"


async def test_the_report_commands_are_refused_for_an_unknown_or_not_yet_running_application(portal: Portal) -> None:
    unknown = str(uuid.uuid4())
    assert await codes(portal, await portal.progress_report(unknown)) == ["unknown_application"]
    assert await codes(portal, await portal.final_report(unknown)) == ["unknown_application"]
    assert await codes(portal, await portal.accept_final_report(unknown)) == ["unknown_application"]
    assert await codes(portal, await portal.return_final_report(unknown)) == ["unknown_application"]
    app = await approved_application(portal)
    assert await codes(portal, await portal.final_report(app)) == ["project_not_running"]
    assert await codes(portal, await portal.accept_final_report(app)) == ["project_not_running"]
