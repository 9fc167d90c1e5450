"""An application from submission to outcome, through Kafka: preconditions in any order, once, and its notifications."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from datetime import datetime

import asyncpg
import pytest

from devkit.payloads import submit_application as submission
from tests.integration.applications.conftest import Portal

SUBMITTED = "applications.ApplicationSubmitted.v1"
AMENDED = "applications.ApplicationAmended.v1"
CONFIRMED = "applications.ManagementCommitmentConfirmed.v1"
CLARIFIED = "applications.ClarificationCompleted.v1"
READY = "applications.ApplicationReadyForDecision.v1"
APPROVED = "applications.ApplicationApproved.v1"
DECLINED = "applications.ApplicationDeclined.v1"
WITHDRAWN = "applications.ApplicationWithdrawn.v1"
REJECTED = "applications.CommandRejected.v1"
PLAN = "In three sprints with the line's operators, then a month of measurement."


async def ready_application(portal: Portal) -> str:
    """A new application taken to ready for decision: plan with the submission, clarification, commitment."""
    data = submission(how=PLAN)
    app: str = data["application_id"]
    await portal.answer(await portal.submit(data), count=1)
    await portal.attend(data["applicant"]["organisation_number"])
    await portal.wait_event(app, CLARIFIED)
    answer = await portal.answer(await portal.confirm(app), count=2)
    assert [r.ce_type for r in answer] == [CONFIRMED, READY]
    return app


def templates(portal: Portal, app: str) -> list[str]:
    return [n.template for n in portal.notifications(app)]


async def status(admin_db: asyncpg.Pool, app: str) -> tuple[str, int]:
    row = await admin_db.fetchrow(
        "SELECT status, version FROM applications.applications WHERE application_id = $1", uuid.UUID(app)
    )
    assert row is not None
    return row["status"], row["version"]


# the three preconditions


@pytest.mark.parametrize("order", list(itertools.permutations(["plan", "commitment", "clarification"])), ids="-".join)
async def test_ready_for_decision_comes_exactly_once_whatever_the_order_of_the_three_preconditions(
    portal: Portal, admin_db: asyncpg.Pool, order: tuple[str, ...]
) -> None:
    data = submission()
    app = data["application_id"]
    organisation = data["applicant"]["organisation_number"]
    await portal.answer(await portal.submit(data))
    sent: dict[str, str] = {}
    for step in order:
        if step == "plan":
            sent[step] = await portal.amend(app, how=PLAN)
            await portal.wait_event(app, AMENDED)
        elif step == "commitment":
            sent[step] = await portal.confirm(app)
            await portal.wait_event(app, CONFIRMED)
        else:
            sent[step] = await portal.attend(organisation)
            await portal.wait_event(app, CLARIFIED)
    await portal.wait_event(app, READY)

    # Redeliveries and repeats, after readiness: none of them makes it ready again.
    await portal.confirm(app, ce_id=sent["commitment"])  # the same command again
    await portal.attend(organisation, ce_id=sent["clarification"])  # the same upstream event again
    await portal.attend(organisation)  # another attendance of the company
    repeated = await portal.confirm(app)  # a new confirmation
    locked = await portal.amend(app, how="Another plan.")
    assert [r.code for r in (await portal.rejection(repeated)).reasons] == ["already_confirmed"]
    assert [r.code for r in (await portal.rejection(locked)).reasons] == ["application_locked"]
    await portal.log.settle()

    step_events = {"plan": AMENDED, "commitment": CONFIRMED, "clarification": CLARIFIED}
    assert portal.events(app) == [SUBMITTED, *(step_events[s] for s in order), READY, REJECTED, REJECTED]
    assert await status(admin_db, app) == ("ready_for_decision", 2)
    notifications = portal.notifications(app)
    assert [n.template for n in notifications] == [
        "applications.received",
        "applications.preconditions_missing",
        "applications.ready_for_decision",
    ]
    ready = notifications[-1]
    assert (ready.audience, ready.recipient.role, ready.recipient.email) == ("staff", "case-handlers", None)
    assert notifications[1].params["missing"] == ["plan", "commitment", "clarification"]
    assert [r.key for r in portal.notification_records(app)] == [
        "kari@example.no",
        "kari@example.no",
        "case-handlers",
    ]


async def test_readiness_carries_what_a_funding_decision_needs(portal: Portal) -> None:
    app = await ready_application(portal)
    [ready] = await portal.wait_event(app, READY)
    assert ready.data == {
        "application_id": app,
        "organisation_number": ready.data["organisation_number"],
        "applicant_name": "Kongsberg Maritim Teknikk AS",
        "size": "small",
        "lead_cluster": "nce-systems-engineering",
        "project_type": "company_project",
        "title": "Digital twin for the machining line",
        "requested_nok": 800_000,
        "total_cost_nok": 2_000_000,
    }


async def test_a_clarification_attended_before_the_submission_counts_when_the_application_arrives(
    portal: Portal, admin_db: asyncpg.Pool
) -> None:
    data = submission(how=PLAN)
    app = data["application_id"]
    organisation = data["applicant"]["organisation_number"]
    workshop = str(uuid.uuid4())
    await portal.attend(organisation, workshop_id=workshop, attended_at="2027-01-20T15:00:00+01:00")
    await _remembered(admin_db, organisation)

    answer = await portal.answer(await portal.submit(data), count=2)
    assert [r.ce_type for r in answer] == [SUBMITTED, CLARIFIED]
    clarified = answer[1].data
    assert clarified["workshop_id"] == workshop
    assert datetime.fromisoformat(clarified["attended_at"]) == datetime.fromisoformat("2027-01-20T15:00:00+01:00")
    await portal.wait_notifications(app, "applications.preconditions_missing")
    missing = [n for n in portal.notifications(app) if n.template == "applications.preconditions_missing"]
    assert [n.params["missing"] for n in missing] == [["commitment"]]

    answer = await portal.answer(await portal.confirm(app), count=2)
    assert [r.ce_type for r in answer] == [CONFIRMED, READY]
    await portal.log.settle()
    assert portal.events(app) == [SUBMITTED, CLARIFIED, CONFIRMED, READY]
    assert templates(portal, app) == [
        "applications.received",
        "applications.preconditions_missing",
        "applications.ready_for_decision",
    ]


async def test_an_attendance_completes_every_open_application_of_the_company_once(portal: Portal) -> None:
    first = submission()
    organisation = first["applicant"]["organisation_number"]
    second = submission(organisation)
    withdrawn = submission(organisation)
    for data in (first, second, withdrawn):
        await portal.answer(await portal.submit(data))
    await portal.answer(await portal.withdraw(withdrawn["application_id"]))

    attendance = await portal.attend(organisation)
    for data in (first, second):
        await portal.wait_event(data["application_id"], CLARIFIED)
    await portal.attend(organisation, ce_id=attendance)  # the same event delivered again
    await portal.attend(organisation)  # a colleague attended another clarification workshop
    await portal.log.settle()

    assert portal.events(first["application_id"]) == [SUBMITTED, CLARIFIED]
    assert portal.events(second["application_id"]) == [SUBMITTED, CLARIFIED]
    assert portal.events(withdrawn["application_id"]) == [SUBMITTED, WITHDRAWN]


async def test_attendance_elsewhere_or_without_an_organisation_number_completes_nothing(
    portal: Portal, admin_db: asyncpg.Pool
) -> None:
    data = submission()
    app = data["application_id"]
    organisation = data["applicant"]["organisation_number"]
    await portal.answer(await portal.submit(data))

    await portal.attend(organisation, kind="competence")
    await portal.attend(None)
    await portal.attend(organisation, kind="cluster_meeting")
    marker = submission()  # proof the consumer went past them: an attendance after them on the same topic
    await portal.answer(await portal.submit(marker))
    await portal.attend(marker["applicant"]["organisation_number"])
    await portal.wait_event(marker["application_id"], CLARIFIED)
    await portal.log.settle(0.5)

    assert portal.events(app) == [SUBMITTED]
    remembered = await admin_db.fetchval(
        "SELECT count(*) FROM applications.clarification_attendances WHERE organisation_number = $1", organisation
    )
    assert remembered == 0


# commands sent twice, amendments


async def test_the_same_command_sent_twice_is_applied_once_and_answered_once(
    portal: Portal, admin_db: asyncpg.Pool
) -> None:
    data = submission()
    app = data["application_id"]
    submitted = await portal.submit(data)
    await portal.submit(data, ce_id=submitted)
    confirmed = await portal.confirm(app)
    await portal.confirm(app, ce_id=confirmed)
    marker = await portal.withdraw(app)  # same key, same partition: after both copies
    await portal.answer(marker)
    await portal.log.settle()

    notification = "programme.NotificationRequested.v1"
    assert sorted(r.ce_type for r in portal.log.caused_by(submitted)) == sorted([SUBMITTED, notification, notification])
    assert portal.events(app) == [SUBMITTED, CONFIRMED, WITHDRAWN]
    assert templates(portal, app) == ["applications.received", "applications.preconditions_missing"]
    assert await status(admin_db, app) == ("withdrawn", 1)


async def test_amendments_count_versions_and_name_only_what_changed(portal: Portal, admin_db: asyncpg.Pool) -> None:
    data = submission()
    app = data["application_id"]
    await portal.answer(await portal.submit(data))

    [first] = await portal.answer(await portal.amend(app, why="A longer and better reason to change the line."))
    [second] = await portal.answer(
        await portal.amend(
            app, budget={"total_cost_nok": 3_000_000, "requested_nok": 900_000, "own_contribution_nok": 2_100_000}
        )
    )
    [third] = await portal.answer(await portal.amend(app, how=None))
    assert [(e.ce_type, e.data["version"]) for e in (first, second, third)] == [
        (AMENDED, 2),
        (AMENDED, 3),
        (AMENDED, 4),
    ]
    assert first.data["changes"] == {"why": "A longer and better reason to change the line."}
    assert set(second.data["changes"]) == {"budget"}
    assert third.data["changes"] == {"how": None}
    assert await status(admin_db, app) == ("submitted", 4)
    stored = await admin_db.fetchval(
        "SELECT content -> 'budget' ->> 'requested_nok' FROM applications.applications WHERE application_id = $1",
        uuid.UUID(app),
    )
    assert stored == "900000"


# funding outcomes and withdrawal


async def test_a_grant_approves_the_application_once_and_leaves_telling_the_applicant_to_funding(
    portal: Portal, admin_db: asyncpg.Pool
) -> None:
    app = await ready_application(portal)
    granted = await portal.grant(app, 750_000)
    [approved] = await portal.wait_event(app, APPROVED)
    assert approved.data == {"application_id": app, "amount_nok": 750_000}
    assert approved.causation_id == granted

    await portal.grant(app, 750_000, ce_id=granted)  # delivered again
    await portal.decline(app)  # a late decision on a decided application
    await portal.log.settle()
    assert portal.events(app)[-2:] == [READY, APPROVED]
    # funding tells the applicant of the grant, with the deadline to accept it: one fact, one notification
    assert templates(portal, app)[-1:] == ["applications.ready_for_decision"]
    assert await status(admin_db, app) == ("approved", 1)


async def test_a_decline_declines_the_application_and_tells_the_applicant_once(
    portal: Portal, admin_db: asyncpg.Pool
) -> None:
    app = await ready_application(portal)
    await portal.decline(app, reason="outside the programme's aims")
    [declined] = await portal.wait_event(app, DECLINED)
    assert declined.data == {"application_id": app, "reason": "outside the programme's aims"}
    await portal.wait_notifications(app, "applications.declined")
    await portal.log.settle()
    [notice] = [n for n in portal.notifications(app) if n.template == "applications.declined"]
    assert (notice.audience, notice.recipient.email, notice.params["reason"]) == (
        "applicant",
        "kari@example.no",
        "outside the programme's aims",
    )
    assert await status(admin_db, app) == ("declined", 1)


async def test_a_funding_outcome_for_an_application_not_waiting_for_one_changes_nothing(portal: Portal) -> None:
    data = submission()
    app = data["application_id"]
    await portal.answer(await portal.submit(data))
    unknown = str(uuid.uuid4())
    await portal.grant(app)  # not ready: no case could have been decided
    await portal.grant(unknown)
    marker = await ready_application(portal)
    await portal.grant(marker)
    await portal.wait_event(marker, APPROVED)
    await portal.log.settle(0.5)
    assert portal.events(app) == [SUBMITTED]
    assert portal.events(unknown) == []


async def test_withdrawal_before_a_decision_and_after_approval(portal: Portal, admin_db: asyncpg.Pool) -> None:
    early = submission()
    await portal.answer(await portal.submit(early))
    [withdrawn_early] = await portal.answer(await portal.withdraw(early["application_id"], "found other funding"))
    assert withdrawn_early.data == {
        "application_id": early["application_id"],
        "reason": "found other funding",
        "status_before": "submitted",
    }

    approved = await ready_application(portal)
    await portal.grant(approved)
    await portal.wait_event(approved, APPROVED)
    [withdrawn_late] = await portal.answer(await portal.withdraw(approved, "the project is cancelled"))
    assert withdrawn_late.ce_type == WITHDRAWN
    assert withdrawn_late.data["status_before"] == "approved"

    again = await portal.rejection(await portal.withdraw(approved))
    assert [r.code for r in again.reasons] == ["application_closed"]
    assert await status(admin_db, early["application_id"]) == ("withdrawn", 1)
    assert await status(admin_db, approved) == ("withdrawn", 1)
    await portal.log.settle(0.5)
    assert templates(portal, approved) == [
        "applications.received",
        "applications.preconditions_missing",
        "applications.ready_for_decision",
    ]


async def _remembered(admin_db: asyncpg.Pool, organisation: str, timeout: float = 30.0) -> None:
    """Wait until the service has remembered an attendance of the organisation (no event says so)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await admin_db.fetchval(
            "SELECT count(*) FROM applications.clarification_attendances WHERE organisation_number = $1", organisation
        )
        if found:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the attendance of {organisation} was not remembered within {timeout}s")
