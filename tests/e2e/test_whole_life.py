"""One application's whole life across the three services, as the programme's other systems would see it.

From the invitation to clarify, through the grant, to a completed project: every step is a
command on Kafka, every answer an event or a notification read back from Kafka, and at the end
each service's own schema says the same.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from devkit import payloads
from devkit.driver import Record, Sender, TopicLog
from devkit.ids import organisation_number
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

GRANT_NOK = 800_000  # of the submission's total cost of 2 000 000


def one(records: list[Record], ce_type: str) -> Record:
    found = [r for r in records if r.ce_type == ce_type]
    assert len({r.ce_id for r in found}) == 1, f"{ce_type}: {len(found)} found"
    return found[0]


@dataclass(frozen=True)
class Life:
    """One application, driven through Kafka: its commands sent, its events and notifications read back."""

    sender: Sender
    log: TopicLog
    application_id: str
    organisation: str
    contact: str  # the applicant's e-mail

    async def command(self, topic: str, ce_type: str, data: dict[str, Any]) -> str:
        return await self.sender.send(topic, ce_type, self.application_id, data)

    async def answer(self, cause: str, topic: str, ce_type: str, *, count: int = 1) -> Record:
        """The one `ce_type` event among the (at least `count`) events `cause` gave on `topic`."""
        return one(await self.log.answer_to(cause, topic, count=count), ce_type)

    async def notice(self, template: str, correlation_id: str) -> Record:
        """The notification `template` about this application in the chain `correlation_id` started."""
        found = await self.log.wait_for(lambda r: self._notice(r, template) and r.correlation_id == correlation_id)
        return found[0]

    def notices(self, template: str) -> list[Record]:
        return self.log.where(lambda r: self._notice(r, template))

    def _notice(self, record: Record, template: str) -> bool:
        return (
            record.topic == NOTIFICATIONS
            and record.data["template"] == template
            and record.data["about"] == self.application_id
        )


async def test_an_application_lives_from_invitation_to_a_completed_project_across_the_three_services(
    programme: dict[str, ServiceProcess], sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    submission = payloads.submit_application(
        organisation_number(random.Random()), how=payloads.PLAN, lead_cluster="nce-raufoss", partner_clusters=[]
    )
    applicant = submission["applicant"]
    life = Life(
        sender, topic_log, submission["application_id"], applicant["organisation_number"], applicant["contact"]["email"]
    )

    year, decided = await _invited_clarified_and_granted(life, submission)
    accepted = await _accepted_and_started(life, admin_db)
    interim = await _paid_an_interim_instalment(life)
    await _reported_on(life, admin_db)
    final = await _paid_in_full_and_completed(life)

    # The applicant heard of the grant once (from funding, with the deadline), and of everything after.
    await topic_log.settle()  # a duplicate would come right behind the first
    assert len([n for n in life.notices("funding.grant_awaiting_acceptance") if n.correlation_id == decided]) == 1
    assert life.notices("applications.approved") == []
    assert [n.correlation_id for n in life.notices("funding.payment_approved")] == [interim, final]
    assert all(n.data["recipient"]["email"] == life.contact for n in life.notices("funding.payment_approved"))
    assert len(life.notices("applications.project_completed")) == 1
    assert sorted(e.ce_type for e in topic_log.where(lambda r: r.correlation_id == accepted)) == [
        "applications.ProjectStarted.v1",
        "funding.GrantAccepted.v1",
    ]

    # Each service's own schema says the same.
    key = uuid.UUID(life.application_id)
    project = await admin_db.fetchrow(
        "SELECT status, final_report_status FROM applications.applications WHERE application_id = $1", key
    )
    assert project is not None
    assert tuple(project) == ("completed", "accepted")
    assert await admin_db.fetchval("SELECT status FROM funding.funding_cases WHERE application_id = $1", key) == (
        "completed"
    )
    grant = await admin_db.fetchrow(
        "SELECT amount_nok, paid_nok, programme_year, released_at FROM funding.grants WHERE application_id = $1", key
    )
    assert grant is not None
    assert (grant["amount_nok"], grant["paid_nok"], grant["programme_year"]) == (GRANT_NOK, 720_000, year)
    assert grant["released_at"] is not None
    progress = await admin_db.fetchval(
        "SELECT count(*) FROM applications.progress_reports WHERE application_id = $1", key
    )
    assert progress == 1


async def _invited_clarified_and_granted(life: Life, submission: dict[str, Any]) -> tuple[int, str]:
    """A budget and a workshop; the application, its clarification and readiness; a grant.

    Returns the programme year and the decision's ce_id (the grant's correlation id).
    """
    sender, topic_log, application_id = life.sender, life.log, life.application_id
    org = life.organisation
    workshop_id, registration_id = str(uuid.uuid4()), str(uuid.uuid4())
    year = datetime.now(UTC).year

    # A budget, and a clarification workshop that starts soon.
    allocation = payloads.allocate_budget(year, 10_000_000, source="e2e")
    allocated = await sender.send(FUNDING_COMMANDS, "funding.AllocateBudget.v1", f"budget-{year}", allocation)
    # Far enough ahead to still be upcoming when the submission is handled, even right after
    # the services joined their consumer groups.
    starts_at = datetime.now(UTC) + timedelta(seconds=15)
    workshop = payloads.schedule_workshop(starts_at, workshop_id=workshop_id)
    scheduled = await sender.send(WORKSHOPS_COMMANDS, "workshops.ScheduleWorkshop.v1", workshop_id, workshop)
    assert (await topic_log.answer_to(allocated, FUNDING_EVENTS))[0].ce_type == "funding.BudgetAllocated.v1"
    assert (await topic_log.answer_to(scheduled, WORKSHOPS_EVENTS))[0].ce_type == "workshops.WorkshopScheduled.v1"

    # The application arrives; the applicant is told it was received and invited to clarify.
    submitted = await life.command(APPLICATIONS_COMMANDS, "applications.SubmitApplication.v1", submission)
    event = await life.answer(submitted, APPLICATIONS_EVENTS, "applications.ApplicationSubmitted.v1")
    assert event.data["status"] == "submitted"
    invitation = (
        await topic_log.wait_for(
            lambda r: (
                r.topic == NOTIFICATIONS
                and r.causation_id == event.ce_id
                and r.data["recipient"].get("email") == life.contact
            )
        )
    )[0]
    assert workshop_id in str(invitation.data["params"])
    assert invitation.correlation_id == submitted

    # Registration, the management's commitment, then attendance once the workshop has started.
    register = payloads.register_participant(workshop_id, organisation=org, registration_id=registration_id)
    registered = await sender.send(WORKSHOPS_COMMANDS, "workshops.RegisterParticipant.v1", workshop_id, register)
    assert (await topic_log.answer_to(registered, WORKSHOPS_EVENTS))[0].ce_type == "workshops.ParticipantRegistered.v1"
    confirm = payloads.confirm_management_commitment(application_id, name="Ola")
    confirmed = await life.command(APPLICATIONS_COMMANDS, "applications.ConfirmManagementCommitment.v1", confirm)
    await life.answer(confirmed, APPLICATIONS_EVENTS, "applications.ManagementCommitmentConfirmed.v1")

    await asyncio.sleep(max(0.0, (starts_at - datetime.now(UTC)).total_seconds() + 0.1))  # the workshop's own clock
    attendance = payloads.record_attendance(workshop_id, [registration_id])
    attended = await sender.send(WORKSHOPS_COMMANDS, "workshops.RecordAttendance.v1", workshop_id, attendance)
    recorded = one(await topic_log.answer_to(attended, WORKSHOPS_EVENTS), "workshops.AttendanceRecorded.v1")
    assert recorded.data["organisation_number"] == org

    # Clarification completes the preconditions: ready, the case handlers told, a case opened.
    reactions = await topic_log.answer_to(recorded.ce_id, APPLICATIONS_EVENTS, count=2)
    one(reactions, "applications.ClarificationCompleted.v1")
    ready = one(reactions, "applications.ApplicationReadyForDecision.v1")
    assert ready.data["requested_nok"] == GRANT_NOK
    assert ready.correlation_id == attended  # one id through the whole chain
    handlers = await topic_log.wait_for(
        lambda r: (
            r.topic == NOTIFICATIONS
            and r.causation_id == recorded.ce_id
            and r.data["recipient"].get("role") == "case-handlers"
        )
    )
    assert handlers[0].data["audience"] == "staff"
    opened = await life.answer(ready.ce_id, FUNDING_EVENTS, "funding.FundingCaseOpened.v1")
    assert opened.data["organisation_number"] == org
    assert opened.correlation_id == attended

    # A grant: the application is approved, and funding tells the applicant the deadline to accept it.
    decision = payloads.decide_funding(application_id, amount_nok=GRANT_NOK, decided_by="case handler")
    decided = await life.command(FUNDING_COMMANDS, "funding.DecideFunding.v1", decision)
    granted = await life.answer(decided, FUNDING_EVENTS, "funding.FundingGranted.v1")
    assert (granted.data["amount_nok"], granted.data["programme_year"]) == (GRANT_NOK, year)
    approved = await life.answer(granted.ce_id, APPLICATIONS_EVENTS, "applications.ApplicationApproved.v1")
    assert approved.correlation_id == decided
    assert approved.headers["ce_source"] == "/programme/applications"
    offer = await life.notice("funding.grant_awaiting_acceptance", decided)
    assert (offer.data["audience"], offer.data["recipient"]["email"]) == ("applicant", life.contact)
    assert offer.data["params"]["amount_nok"] == GRANT_NOK
    assert datetime.fromisoformat(offer.data["params"]["accept_by"]) > datetime.now(UTC) + timedelta(days=29)
    return year, decided


async def _accepted_and_started(life: Life, admin_db: asyncpg.Pool) -> str:
    """The company accepts the grant: funding records it, and the project starts running in applications."""
    accepting = payloads.accept_grant(life.application_id)
    accept = await life.command(FUNDING_COMMANDS, "funding.AcceptGrant.v1", accepting)
    accepted = await life.answer(accept, FUNDING_EVENTS, "funding.GrantAccepted.v1")
    assert (accepted.data["amount_nok"], accepted.correlation_id) == (GRANT_NOK, accept)
    started = await life.answer(accepted.ce_id, APPLICATIONS_EVENTS, "applications.ProjectStarted.v1")
    assert started.correlation_id == accept
    # The submission's period ends on 2027-12-31: the final report is due 60 days after, Oslo time.
    assert started.data["final_report_due"] == "2028-03-01T00:00:00+01:00"
    key = uuid.UUID(life.application_id)
    assert await admin_db.fetchval("SELECT status FROM applications.applications WHERE application_id = $1", key) == (
        "running"
    )
    return accept


async def _paid_an_interim_instalment(life: Life) -> str:
    """Half the costs documented: half the grant paid, the finance system ordered to pay, the applicant told."""
    payment = payloads.approve_payment(life.application_id, kind="interim", documented_costs_nok=1_000_000)
    approve = await life.command(FUNDING_COMMANDS, "funding.ApprovePayment.v1", payment)
    paid = await life.answer(approve, FUNDING_EVENTS, "funding.PaymentApproved.v1")
    assert {k: paid.data[k] for k in ("payment_id", "kind", "amount_nok", "paid_total_nok", "remaining_grant_nok")} == {
        "payment_id": payment["payment_id"],
        "kind": "interim",
        "amount_nok": 400_000,
        "paid_total_nok": 400_000,
        "remaining_grant_nok": 400_000,
    }
    order = await life.notice("funding.payment_order", approve)
    assert order.data["recipient"]["role"] == "finance"
    params = order.data["params"]
    assert (params["amount_nok"], params["payment_id"], params["payment_kind"]) == (
        400_000,
        payment["payment_id"],
        "interim",
    )
    assert params["organisation_number"] == life.organisation
    await life.notice("funding.payment_approved", approve)
    return approve


async def _reported_on(life: Life, admin_db: asyncpg.Pool) -> None:
    """A progress report, then the final report, which staff review and accept; funding learns of it."""
    progress = payloads.submit_progress_report(life.application_id)
    reported = await life.command(APPLICATIONS_COMMANDS, "applications.SubmitProgressReport.v1", progress)
    progressed = await life.answer(reported, APPLICATIONS_EVENTS, "applications.ProgressReportSubmitted.v1")
    assert progressed.data["report_id"] == progress["report_id"]

    final = payloads.submit_final_report(life.application_id)
    submitted = await life.command(APPLICATIONS_COMMANDS, "applications.SubmitFinalReport.v1", final)
    await life.answer(submitted, APPLICATIONS_EVENTS, "applications.FinalReportSubmitted.v1")
    review = await life.notice("applications.final_report_to_review", submitted)
    assert review.data["recipient"]["role"] == "case-handlers"

    accepting = payloads.accept_final_report(life.application_id)
    accept = await life.command(APPLICATIONS_COMMANDS, "applications.AcceptFinalReport.v1", accepting)
    accepted = await life.answer(accept, APPLICATIONS_EVENTS, "applications.FinalReportAccepted.v1")
    assert accepted.data["results"] == [
        {"indicator": "unplanned stops per month", "target": "-50 %", "achieved": "-55 %"}
    ]
    # Funding takes the accepted report in silently (no event): its row says when it may pay in full.
    deadline = time.monotonic() + 30.0
    while not await admin_db.fetchval(
        "SELECT final_report_accepted_at IS NOT NULL FROM funding.grants WHERE application_id = $1",
        uuid.UUID(life.application_id),
    ):
        assert time.monotonic() < deadline, "funding never took in the accepted final report"
        await asyncio.sleep(0.1)


async def _paid_in_full_and_completed(life: Life) -> str:
    """The final payment: 90 % of the costs documented pays 90 % of the grant, closes the case and
    releases the unpaid rest; applications completes the project and tells the applicant."""
    payment = payloads.approve_payment(life.application_id, kind="final", documented_costs_nok=1_800_000)
    approve = await life.command(FUNDING_COMMANDS, "funding.ApprovePayment.v1", payment)
    answers = await life.log.answer_to(approve, FUNDING_EVENTS, count=3)
    paid = one(answers, "funding.PaymentApproved.v1")
    assert (paid.data["amount_nok"], paid.data["paid_total_nok"], paid.data["remaining_grant_nok"]) == (
        320_000,
        720_000,
        80_000,
    )
    closed = one(answers, "funding.FundingCaseClosed.v1")
    assert closed.data["reason"] == "completed"
    released = one(answers, "funding.FundingReleased.v1")
    assert released.data["amount_nok"] == 80_000
    assert {r.correlation_id for r in answers} == {approve}

    order = await life.notice("funding.payment_order", approve)
    assert (order.data["params"]["amount_nok"], order.data["params"]["payment_kind"]) == (320_000, "final")
    completed = await life.answer(closed.ce_id, APPLICATIONS_EVENTS, "applications.ProjectCompleted.v1")
    assert completed.correlation_id == approve
    told = await life.notice("applications.project_completed", approve)
    assert told.data["recipient"]["email"] == life.contact
    await life.notice("funding.payment_approved", approve)
    return approve
