"""The invitation on a submitted application, sent as the applications service would send its event.

Each test lives in its own stretch of the far future, so other tests' clarification workshops
never fall inside its invitation's horizon.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from devkit.driver import Record
from devkit.ids import email, organisation_number
from devkit.payloads import OSLO
from devkit.payloads import submit_application as submission
from shared.topics import APPLICATIONS_EVENTS, NOTIFICATIONS
from tests.integration.workshops.conftest import Client

pytestmark = pytest.mark.usefixtures("workshops_service")


def far_future() -> datetime:
    """A random moment between the years 5000 and 9000 (the other tests stay below 2100)."""
    return datetime(5000, 1, 1, 12, tzinfo=UTC) + timedelta(days=random.randint(0, 4000 * 365))


async def submit(client: Client, *, at: datetime, org: str, contact: str, lead_cluster: str) -> tuple[str, str]:
    """Send `applications.ApplicationSubmitted.v1` as the applications service would; return (ce_id, id)."""
    data: dict[str, Any] = {
        **submission(org, lead_cluster=lead_cluster, partner_clusters=[]),
        "status": "submitted",
        "version": 1,
        "a_field_from_a_later_version": {"ignored": True},
    }
    data["applicant"]["contact"] = {"name": "Kari Nordmann", "email": contact, "phone": "a field added later"}
    application_id = str(data["application_id"])
    ce_id = await client.sender.send(
        APPLICATIONS_EVENTS, "applications.ApplicationSubmitted.v1", application_id, data, time_=at
    )
    return ce_id, application_id


def invitations(client: Client, ce_id: str) -> list[Record]:
    return client.log.where(lambda r: r.topic == NOTIFICATIONS and r.causation_id == ce_id)


async def test_an_applicant_without_clarification_is_invited_to_upcoming_ones_lead_cluster_first(
    client: Client,
) -> None:
    submitted_at = far_future()
    scheduled_at = submitted_at - timedelta(days=2)

    async def clarification(days: float, cluster: str, **fields: Any) -> str:
        start = submitted_at + timedelta(days=days)
        data = await client.schedule(at=scheduled_at, start=start, hosting_cluster=cluster, **fields)
        return str(data["workshop_id"])

    other_soon = await clarification(1, "nce-raufoss")
    lead_late = await clarification(5, "nce-systems-engineering")
    lead_soon = await clarification(3, "nce-systems-engineering")
    await clarification(2, "nce-systems-engineering", kind="competence")  # not a clarification workshop
    await clarification(-0.5, "nce-systems-engineering")  # already begun when the application came
    called_off = await clarification(4, "nce-systems-engineering")
    await client.ask("CancelWorkshop", {"workshop_id": called_off, "reason": "x"}, at=scheduled_at)

    contact = email("contact")
    ce_id, application_id = await submit(
        client, at=submitted_at, org=organisation_number(), contact=contact, lead_cluster="nce-systems-engineering"
    )
    (invitation,) = await client.wait_notifications(ce_id, count=1)
    assert invitation.key == contact
    assert invitation.data["audience"] == "applicant"
    assert invitation.data["recipient"]["email"] == contact
    assert invitation.data["template"] == "workshops.clarification_invitation"
    assert invitation.data["about"] == application_id
    listed = invitation.data["params"]["workshops"]
    assert [w["workshop_id"] for w in listed] == [lead_soon, lead_late, other_soon]
    first_start = (submitted_at + timedelta(days=3)).astimezone(OSLO)
    assert listed[0]["starts_at"] == first_start.isoformat()
    await client.log.settle()
    assert len(invitations(client, ce_id)) == 1


async def test_an_organisation_that_attended_a_clarification_workshop_is_not_invited(
    client: Client, admin_db: asyncpg.Pool
) -> None:
    moment = far_future()
    start = moment - timedelta(days=10)
    workshop = await client.schedule(at=start - timedelta(days=1), start=start)
    org = organisation_number()
    registration_id, _, _ = await client.register(workshop["workshop_id"], org=org, at=start - timedelta(hours=1))
    await client.ask(
        "RecordAttendance", {"workshop_id": workshop["workshop_id"], "attended": [registration_id]}, at=start
    )
    await client.schedule(at=start, start=moment + timedelta(days=1))  # an upcoming one it would be told of

    ce_id, _ = await submit(client, at=moment, org=org, contact=email("contact"), lead_cluster="nce-raufoss")
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    while not await admin_db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM workshops.inbox WHERE consumer = $1 AND message_id = $2)",
        APPLICATIONS_EVENTS,
        ce_id,
    ):
        assert datetime.now(UTC) < deadline, "the event was not consumed"
        await client.log.settle(0.2)
    await client.log.settle()
    assert invitations(client, ce_id) == []
