"""The notification requests the services really send match the catalogue: each params schema, and the envelope's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from devkit.driver import Record, Sender, TopicLog
from devkit.payloads import register_participant, schedule_workshop, submit_application
from devkit.system import System
from shared.topics import APPLICATIONS_COMMANDS, NOTIFICATIONS, WORKSHOPS_COMMANDS

CONTRACT = Path(__file__).resolve().parents[3] / "contract"
NOTIFICATION = json.loads((CONTRACT / "schemas" / "programme.NotificationRequested.v1.json").read_text())


@pytest.fixture(scope="module")
async def workshops_and_applications(system: System) -> AsyncIterator[None]:
    procs = [system.process(name, RETRY_BACKOFF_MAX_S="0.5") for name in ("workshops", "applications")]
    for proc in procs:
        proc.start()
    for proc in procs:
        await proc.wait_ready()
    yield
    for proc in procs:
        proc.stop()


def _check(record: Record) -> dict[str, Any]:
    """A notification request as a downstream sender validates it: the request, then its template's params."""
    notification: dict[str, Any] = record.data
    checker = jsonschema.FormatChecker()
    jsonschema.Draft202012Validator(NOTIFICATION, format_checker=checker).validate(notification)
    params = json.loads((CONTRACT / "notifications" / f"{notification['template']}.params.json").read_text())
    jsonschema.Draft202012Validator(params, format_checker=checker).validate(notification["params"])
    return notification


async def _notifications(topic_log: TopicLog, about: str, templates: set[str]) -> dict[str, dict[str, Any]]:
    def wanted(record: Record) -> bool:
        return record.topic == NOTIFICATIONS and record.data.get("about") == about

    def complete() -> bool:
        return templates <= {r.data["template"] for r in topic_log.where(wanted)}

    # Generous: the services of this module first work through what earlier modules left on their topics
    # (in full runs this took up to 80 s on 2 busy cores); a service that never answers still fails here.
    await topic_log.wait_for(lambda _: complete(), count=1, timeout=180.0)
    return {r.data["template"]: _check(r) for r in topic_log.where(wanted)}


@pytest.mark.usefixtures("workshops_and_applications")
async def test_workshop_notifications_carry_the_params_their_schemas_describe(
    sender: Sender, topic_log: TopicLog
) -> None:
    workshop = schedule_workshop(capacity=1)
    workshop_id = workshop["workshop_id"]
    await sender.send(WORKSHOPS_COMMANDS, "workshops.ScheduleWorkshop.v1", workshop_id, workshop)
    for _ in range(2):  # the first gets the seat, the second the waitlist
        registration = register_participant(workshop_id)
        await sender.send(WORKSHOPS_COMMANDS, "workshops.RegisterParticipant.v1", workshop_id, registration)
    cancel = {"workshop_id": workshop_id, "reason": "the venue is flooded"}
    await sender.send(WORKSHOPS_COMMANDS, "workshops.CancelWorkshop.v1", workshop_id, cancel)

    seen = await _notifications(
        topic_log, workshop_id, {"workshops.registered", "workshops.waitlisted", "workshops.cancelled"}
    )
    assert seen["workshops.waitlisted"]["params"]["position"] == 1
    assert seen["workshops.cancelled"]["params"]["reason"] == "the venue is flooded"


@pytest.mark.usefixtures("workshops_and_applications")
async def test_application_notifications_carry_the_params_their_schemas_describe(
    sender: Sender, topic_log: TopicLog
) -> None:
    application = submit_application()
    application_id = application["application_id"]
    await sender.send(APPLICATIONS_COMMANDS, "applications.SubmitApplication.v1", application_id, application)

    templates = {"applications.received", "applications.preconditions_missing", "workshops.clarification_invitation"}
    seen = await _notifications(topic_log, application_id, templates)
    assert seen["applications.received"]["params"]["contact_name"] == "Kari Nordmann"
    assert set(seen["applications.preconditions_missing"]["params"]["missing"]) >= {"plan", "commitment"}
    assert seen["applications.received"]["recipient"] == {"email": "kari@example.no", "role": None}
