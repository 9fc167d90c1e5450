"""The reaction to a submitted application: invite the applicant to a clarification workshop, unless attended."""

from __future__ import annotations

from shared.cause import Cause
from shared.contract.applications import ApplicationSubmitted
from shared.db import Connection
from shared.logging import get_logger
from shared.outbox import Recorder
from workshops import repository as repo
from workshops.domain import invitations
from workshops.domain.policy import Policy

log = get_logger(__name__)


class Invitations:
    _policy: Policy

    async def invite(self, conn: Connection, submitted: ApplicationSubmitted, cause: Cause, out: Recorder) -> None:
        """The upcoming clarification workshops (after the event's time, the lead cluster's first) to the contact."""
        number = submitted.applicant.organisation_number
        attended = await repo.has_clarification_attendance(conn, organisation_number=number)
        upcoming = (
            []
            if attended
            else await repo.upcoming_clarification_workshops(
                conn,
                after=cause.at,
                until=cause.at + self._policy.invitation_horizon,
                lead_cluster=submitted.lead_cluster,
                limit=self._policy.invitation_max_workshops,
            )
        )
        outcome = invitations.invite(submitted, attended=attended, upcoming=upcoming)
        out.record(outcome)
        if attended:
            log.info("invitation.skipped_attended", application_id=str(submitted.application_id))
        else:
            log.info("invitation.requested", application_id=str(submitted.application_id), workshops=len(upcoming))
