"""The applications service on real Kafka and Postgres, driven as another system would drive it.

Commands go to `applications.commands.v1`; the upstream services (workshops, funding) are
played by sending their events with a correct envelope. Isolation is by fresh ids: every test
takes new application ids and new organisation numbers, since clarification attendance is
remembered per organisation number for good.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from devkit.driver import Record, Sender, TopicLog
from devkit.payloads import confirm_management_commitment
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.contract.applications import PUBLISHED
from shared.contract.base import CommandRejected, NotificationRequested
from shared.envelope import build_headers
from shared.topics import APPLICATIONS_COMMANDS, APPLICATIONS_EVENTS, FUNDING_EVENTS, NOTIFICATIONS, WORKSHOPS_EVENTS

SUBMIT = "applications.SubmitApplication.v1"
AMEND = "applications.AmendApplication.v1"
CONFIRM = "applications.ConfirmManagementCommitment.v1"
WITHDRAW = "applications.WithdrawApplication.v1"
REJECTED = "applications.CommandRejected.v1"
READY = "applications.ApplicationReadyForDecision.v1"
ATTENDANCE = "workshops.AttendanceRecorded.v1"
GRANTED = "funding.FundingGranted.v1"
DECLINED = "funding.FundingDeclined.v1"
GRANT_ACCEPTED = "funding.GrantAccepted.v1"
GRANT_LAPSED = "funding.GrantLapsed.v1"
CASE_CLOSED = "funding.FundingCaseClosed.v1"
PROGRESS = "applications.SubmitProgressReport.v1"
FINAL = "applications.SubmitFinalReport.v1"
ACCEPT_FINAL = "applications.AcceptFinalReport.v1"
RETURN_FINAL = "applications.ReturnFinalReport.v1"
DLQ = "applications.dlq.v1"

CONFIRMED_AT = datetime(2027, 1, 11, 10, tzinfo=timezone(timedelta(hours=1)))

_MODELS = {model.ce_type: model for model in PUBLISHED}


@pytest.fixture(scope="module")
async def applications(system: System) -> AsyncIterator[ServiceProcess]:
    proc = system.process("applications", RETRY_BACKOFF_MAX_S="0.5", HANDLER_MAX_ATTEMPTS="2")
    proc.start()
    await proc.wait_ready()
    yield proc
    proc.stop()


class Portal:
    """Another system using the service: sends commands and reads the answers, as records and as contract models."""

    def __init__(self, sender: Sender, topic_log: TopicLog) -> None:
        self.sender = sender
        self.log = topic_log

    async def send(self, ce_type: str, data: dict[str, Any], *, ce_id: str | None = None) -> str:
        return await self.sender.send(APPLICATIONS_COMMANDS, ce_type, data["application_id"], data, ce_id=ce_id)

    async def submit(self, data: dict[str, Any], *, ce_id: str | None = None) -> str:
        return await self.send(SUBMIT, data, ce_id=ce_id)

    async def amend(self, application_id: str, **changes: Any) -> str:
        return await self.send(AMEND, {"application_id": application_id, "changes": changes})

    async def confirm(self, application_id: str, *, ce_id: str | None = None) -> str:
        data = confirm_management_commitment(application_id, confirmed_at=CONFIRMED_AT)
        return await self.send(CONFIRM, data, ce_id=ce_id)

    async def withdraw(self, application_id: str, reason: str = "changed plans") -> str:
        return await self.send(WITHDRAW, {"application_id": application_id, "reason": reason})

    async def attend(
        self,
        organisation: str | None,
        *,
        workshop_id: str | None = None,
        kind: str = "clarification",
        attended_at: str = "2027-01-20T15:00:00+01:00",
        ce_id: str | None = None,
    ) -> str:
        """What the workshops service publishes when someone from the company attended."""
        workshop = workshop_id or str(uuid.uuid4())
        data = {
            "workshop_id": workshop,
            "registration_id": str(uuid.uuid4()),
            "kind": kind,
            "hosting_cluster": "nce-raufoss",
            "organisation_number": organisation,
            "attended_at": attended_at,
        }
        return await self.publish(
            WORKSHOPS_EVENTS, ATTENDANCE, workshop, data, source="/programme/workshops", ce_id=ce_id
        )

    async def grant(self, application_id: str, amount_nok: int = 750_000, *, ce_id: str | None = None) -> str:
        data = {
            "application_id": application_id,
            "organisation_number": "974760673",
            "amount_nok": amount_nok,
            "programme_year": 2027,
            "budget_remaining_nok": 10_000_000,
        }
        return await self.publish(
            FUNDING_EVENTS, GRANTED, application_id, data, source="/programme/funding", ce_id=ce_id
        )

    async def decline(self, application_id: str, reason: str = "outside the programme's aims") -> str:
        data = {"application_id": application_id, "reason": reason}
        return await self.publish(FUNDING_EVENTS, DECLINED, application_id, data, source="/programme/funding")

    async def accept_grant(self, application_id: str, *, ce_id: str | None = None) -> str:
        """What funding publishes when the company accepted its grant in time."""
        data = {
            "application_id": application_id,
            "amount_nok": 750_000,
            "programme_year": 2027,
            "accepted_at": datetime.now(UTC).isoformat(),
        }
        return await self.publish(
            FUNDING_EVENTS, GRANT_ACCEPTED, application_id, data, source="/programme/funding", ce_id=ce_id
        )

    async def lapse_grant(self, application_id: str) -> str:
        data = {"application_id": application_id, "amount_nok": 750_000, "programme_year": 2027}
        return await self.publish(FUNDING_EVENTS, GRANT_LAPSED, application_id, data, source="/programme/funding")

    async def close_case(self, application_id: str, reason: str = "completed") -> str:
        data = {"application_id": application_id, "reason": reason}
        return await self.publish(FUNDING_EVENTS, CASE_CLOSED, application_id, data, source="/programme/funding")

    async def progress_report(self, application_id: str, *, report_id: str | None = None, **changes: Any) -> str:
        data = {
            "report_id": report_id or str(uuid.uuid4()),
            "application_id": application_id,
            "period_to": "2027-06-30",
            "summary": "Half the machines are modelled.",
            "indicators": [{"indicator": "unplanned stops per month", "value": "-20 %"}],
            **changes,
        }
        return await self.send(PROGRESS, data)

    async def final_report(self, application_id: str, results: dict[str, str] | None = None) -> str:
        given = {"unplanned stops per month": "-55 %"} if results is None else results
        data = {
            "application_id": application_id,
            "summary": "The twin runs on every machine.",
            "results": [{"indicator": k, "achieved": v} for k, v in given.items()],
            "effects": "Two new hires in maintenance.",
        }
        return await self.send(FINAL, data)

    async def accept_final_report(self, application_id: str) -> str:
        return await self.send(ACCEPT_FINAL, {"application_id": application_id, "accepted_by": "Case Handler"})

    async def return_final_report(self, application_id: str, reason: str = "Results lack a baseline.") -> str:
        return await self.send(RETURN_FINAL, {"application_id": application_id, "reason": reason})

    async def publish(
        self, topic: str, ce_type: str, key: str, data: dict[str, Any], *, source: str, ce_id: str | None = None
    ) -> str:
        """An upstream event, in the envelope its service would give it."""
        ce_id = ce_id or str(uuid.uuid4())
        headers = build_headers(
            ce_id=ce_id,
            source=source,
            ce_type=ce_type,
            time=datetime.now(UTC),
            subject=key,
            correlation_id=str(uuid.uuid4()),
            causation_id=str(uuid.uuid4()),
        )
        await self.sender.send_raw(topic, key=key.encode(), value=json.dumps(data).encode(), headers=headers)
        return ce_id

    # reading

    async def answer(self, ce_id: str, *, count: int = 1) -> list[Record]:
        """The events a command caused (its one answer), each checked against the contract's model."""
        records = await self.log.answer_to(ce_id, APPLICATIONS_EVENTS, count=count)
        for record in records:
            check_contract(record)
        return records

    async def rejection(self, ce_id: str) -> CommandRejected:
        [record] = await self.answer(ce_id)
        assert record.ce_type == REJECTED, f"{record.ce_type}: {record.data}"
        return CommandRejected.model_validate_json(record.value)

    async def wait_event(self, application_id: str, ce_type: str, *, count: int = 1) -> list[Record]:
        records = await self.log.wait_for(is_event(application_id, ce_type), count=count)
        for record in records:
            check_contract(record)
        return records

    def events(self, application_id: str) -> list[str]:
        """The types of every event about the application so far, in order (one key, one partition)."""
        return [r.ce_type for r in self.log.where(lambda r: r.topic == APPLICATIONS_EVENTS and r.key == application_id)]

    def notification_records(self, application_id: str) -> list[Record]:
        """The notification requests this service made about the application (other services may make theirs)."""
        return self.log.where(lambda r: _ours(r) and _about(r) == application_id)

    def notifications(self, application_id: str) -> list[NotificationRequested]:
        return [NotificationRequested.model_validate_json(r.value) for r in self.notification_records(application_id)]

    async def wait_notifications(self, application_id: str, template: str, *, count: int = 1) -> None:
        await self.log.wait_for(
            lambda r: _ours(r) and _about(r) == application_id and r.data["template"] == template, count=count
        )


def is_event(application_id: str, ce_type: str) -> Callable[[Record], bool]:
    return lambda r: r.topic == APPLICATIONS_EVENTS and r.key == application_id and r.ce_type == ce_type


def check_contract(record: Record) -> None:
    """An event the service published reads back through the producer's own model, envelope included."""
    assert record.headers["ce_source"] == "/programme/applications"
    assert record.headers["ce_subject"] == record.key
    model = _MODELS.get(record.ce_type)
    if model is not None:
        model.model_validate_json(record.value)
    elif record.ce_type == REJECTED:
        CommandRejected.model_validate_json(record.value)
    else:
        raise AssertionError(f"{record.ce_type} is not an event of the applications contract")


def _ours(record: Record) -> bool:
    return record.topic == NOTIFICATIONS and record.headers.get("ce_source") == "/programme/applications"


def _about(record: Record) -> str | None:
    try:
        about = json.loads(record.value).get("about")
    except ValueError:
        return None
    return about if isinstance(about, str) else None


@pytest.fixture
def portal(applications: ServiceProcess, sender: Sender, topic_log: TopicLog) -> Portal:
    return Portal(sender, topic_log)
