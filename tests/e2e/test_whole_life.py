"""One application's whole life across the three services, as the programme's other systems would see it."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from devkit.driver import Record, Sender, TopicLog
from devkit.ids import organisation_number
from devkit.payloads import PLAN, schedule_workshop, submit_application
from devkit.processes import ServiceProcess
from shared.topics import (
    APPLICATIONS_COMMANDS,
    APPLICATIONS_EVENTS,
    FUNDING_COMMANDS,
    FUNDING_EVENTS,
    NOTIFICATIONS,
    WORKSHOPS_COMMANDS,
    WORKSHOPS_EVENTS,
)


def one(records: list[Record], ce_type: str) -> Record:
    found = [r for r in records if r.ce_type == ce_type]
    assert len({r.ce_id for r in found}) == 1, f"{ce_type}: {len(found)} found"
    return found[0]


async def test_an_application_lives_from_invitation_to_approval_across_the_three_services(
    programme: dict[str, ServiceProcess], sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    year = datetime.now(UTC).year
    org = organisation_number(random.Random())
    application_id, workshop_id, registration_id = (str(uuid.uuid4()) for _ in range(3))
    submission = submit_application(
        org, application_id=application_id, how=PLAN, lead_cluster="nce-raufoss", partner_clusters=[]
    )
    contact = submission["applicant"]["contact"]["email"]

    # A budget, and a clarification workshop that starts soon.
    allocation = {"allocation_id": str(uuid.uuid4()), "programme_year": year, "amount_nok": 10_000_000, "source": "e2e"}
    allocated = await sender.send(FUNDING_COMMANDS, "funding.AllocateBudget.v1", f"budget-{year}", allocation)
    # Far enough ahead to still be upcoming when the submission is handled, even right after
    # the services joined their consumer groups.
    starts_at = datetime.now(UTC) + timedelta(seconds=15)
    scheduled = await sender.send(
        WORKSHOPS_COMMANDS,
        "workshops.ScheduleWorkshop.v1",
        workshop_id,
        schedule_workshop(starts_at, workshop_id=workshop_id),
    )
    assert (await topic_log.answer_to(allocated, FUNDING_EVENTS))[0].ce_type == "funding.BudgetAllocated.v1"
    assert (await topic_log.answer_to(scheduled, WORKSHOPS_EVENTS))[0].ce_type == "workshops.WorkshopScheduled.v1"

    # The application arrives; the applicant is told it was received and invited to clarify.
    submitted = await sender.send(
        APPLICATIONS_COMMANDS, "applications.SubmitApplication.v1", application_id, submission
    )
    event = one(await topic_log.answer_to(submitted, APPLICATIONS_EVENTS), "applications.ApplicationSubmitted.v1")
    assert event.data["status"] == "submitted"
    invitation = (
        await topic_log.wait_for(
            lambda r: (
                r.topic == NOTIFICATIONS
                and r.causation_id == event.ce_id
                and r.data["recipient"].get("email") == contact
            )
        )
    )[0]
    assert workshop_id in str(invitation.data["params"])
    assert invitation.correlation_id == submitted

    # Registration, the management's commitment, then attendance once the workshop has started.
    register = {
        "workshop_id": workshop_id,
        "registration_id": registration_id,
        "participant": {
            "name": "Kari Nordmann",
            "email": f"kari-{registration_id[:8]}@e2e.example",
            "organisation_number": org,
        },
    }
    registered = await sender.send(WORKSHOPS_COMMANDS, "workshops.RegisterParticipant.v1", workshop_id, register)
    assert (await topic_log.answer_to(registered, WORKSHOPS_EVENTS))[0].ce_type == "workshops.ParticipantRegistered.v1"
    confirm = {
        "application_id": application_id,
        "confirmed_by": {"name": "Ola", "role": "CEO"},
        "confirmed_at": datetime.now(UTC).isoformat(),
    }
    confirmed = await sender.send(
        APPLICATIONS_COMMANDS, "applications.ConfirmManagementCommitment.v1", application_id, confirm
    )
    one(await topic_log.answer_to(confirmed, APPLICATIONS_EVENTS), "applications.ManagementCommitmentConfirmed.v1")

    await asyncio.sleep(max(0.0, (starts_at - datetime.now(UTC)).total_seconds() + 0.1))  # the workshop's own clock
    attendance = {"workshop_id": workshop_id, "attended": [registration_id]}
    attended = await sender.send(WORKSHOPS_COMMANDS, "workshops.RecordAttendance.v1", workshop_id, attendance)
    recorded = one(await topic_log.answer_to(attended, WORKSHOPS_EVENTS), "workshops.AttendanceRecorded.v1")
    assert recorded.data["organisation_number"] == org

    # Clarification completes the preconditions: ready, the case handlers told, a case opened.
    reactions = await topic_log.answer_to(recorded.ce_id, APPLICATIONS_EVENTS, count=2)
    one(reactions, "applications.ClarificationCompleted.v1")
    ready = one(reactions, "applications.ApplicationReadyForDecision.v1")
    assert ready.data["requested_nok"] == 800_000
    assert ready.correlation_id == attended  # one id through the whole chain
    handlers = await topic_log.wait_for(
        lambda r: (
            r.topic == NOTIFICATIONS
            and r.causation_id == recorded.ce_id
            and r.data["recipient"].get("role") == "case-handlers"
        )
    )
    assert handlers[0].data["audience"] == "staff"
    opened = one(await topic_log.answer_to(ready.ce_id, FUNDING_EVENTS), "funding.FundingCaseOpened.v1")
    assert opened.data["organisation_number"] == org
    assert opened.correlation_id == attended

    # A grant; the application is approved and the applicant told.
    decision = {
        "application_id": application_id,
        "outcome": "grant",
        "amount_nok": 800_000,
        "reason": "clear why and what",
        "decided_by": "case handler",
    }
    decided = await sender.send(FUNDING_COMMANDS, "funding.DecideFunding.v1", application_id, decision)
    granted = one(await topic_log.answer_to(decided, FUNDING_EVENTS), "funding.FundingGranted.v1")
    assert (granted.data["amount_nok"], granted.data["programme_year"]) == (800_000, year)
    approved = one(await topic_log.answer_to(granted.ce_id, APPLICATIONS_EVENTS), "applications.ApplicationApproved.v1")
    assert approved.correlation_id == decided
    assert approved.headers["ce_source"] == "/programme/applications"
    told = await topic_log.wait_for(
        lambda r: (
            r.topic == NOTIFICATIONS and r.causation_id == granted.ce_id and r.data["recipient"].get("email") == contact
        )
    )
    assert told[0].data["audience"] == "applicant"

    # Each service's own schema says the same.
    assert (
        await admin_db.fetchval(
            "SELECT status FROM applications.applications WHERE application_id = $1", uuid.UUID(application_id)
        )
        == "approved"
    )
    assert (
        await admin_db.fetchval(
            "SELECT status FROM funding.funding_cases WHERE application_id = $1", uuid.UUID(application_id)
        )
        == "granted"
    )
    assert (
        await admin_db.fetchval(
            "SELECT amount_nok FROM funding.grants WHERE application_id = $1", uuid.UUID(application_id)
        )
        == 800_000
    )
    attended_at = await admin_db.fetchval(
        "SELECT attended_at FROM workshops.registrations WHERE registration_id = $1", uuid.UUID(registration_id)
    )
    assert attended_at is not None
