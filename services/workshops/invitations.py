"""The reaction to a submitted application: invite the applicant to a clarification workshop, unless attended."""

from __future__ import annotations

from shared.consumer import Incoming
from shared.db import Connection
from shared.logging import get_logger
from shared.outbox import Recorder
from workshops import domain, notices
from workshops import repository as repo
from workshops.upstream import ApplicationSubmitted

log = get_logger(__name__)


async def invite_to_clarification(
    conn: Connection, msg: Incoming[ApplicationSubmitted], out: Recorder, *, policy: domain.Policy
) -> None:
    """The upcoming clarification workshops (after the event's time, the lead cluster's first) to the contact."""
    event = msg.data
    if await repo.has_clarification_attendance(conn, organisation_number=event.applicant.organisation_number):
        log.info("invitation.skipped_attended", application_id=str(event.application_id))
        return
    after = msg.envelope.time
    upcoming = await repo.upcoming_clarification_workshops(
        conn,
        after=after,
        until=after + policy.invitation_horizon,
        lead_cluster=event.lead_cluster,
        limit=policy.invitation_max_workshops,
    )
    listed = domain.invitation_order(upcoming, lead_cluster=event.lead_cluster)
    notices.invite_applicant(
        out,
        application_id=event.application_id,
        email=event.applicant.contact.email,
        lead_cluster=event.lead_cluster,
        workshops=listed,
    )
    log.info("invitation.requested", application_id=str(event.application_id), workshops=len(listed))
