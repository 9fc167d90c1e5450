"""Records the applications service cannot read: dead-lettered unchanged, a command's sender told, and nothing stops."""

from __future__ import annotations

import json

from devkit.driver import command_headers
from devkit.payloads import submit_application as submission
from shared.topics import APPLICATIONS_COMMANDS, WORKSHOPS_EVENTS
from tests.integration.applications.conftest import ATTENDANCE, DLQ, SUBMIT, Portal

CLARIFIED = "applications.ClarificationCompleted.v1"


async def test_an_unreadable_command_is_dead_lettered_refused_as_malformed_and_the_next_one_is_applied(
    portal: Portal,
) -> None:
    data = submission()
    key = data["application_id"].encode()
    broken = command_headers(SUBMIT)
    await portal.sender.send_raw(APPLICATIONS_COMMANDS, key=key, value=b'{"application_id": ', headers=broken)
    wrong = command_headers(SUBMIT)
    shape = {**data, "applicant": "Kongsberg", "budget": {"total_cost_nok": "two million"}}
    await portal.sender.send_raw(APPLICATIONS_COMMANDS, key=key, value=json.dumps(shape).encode(), headers=wrong)
    future = command_headers("applications.SubmitApplication.v2")
    await portal.sender.send_raw(APPLICATIONS_COMMANDS, key=key, value=json.dumps(data).encode(), headers=future)
    applied = await portal.submit(data)  # same key, same partition: it comes after the broken ones

    await portal.answer(applied)
    letters = await portal.log.wait_for(lambda r: r.topic == DLQ and r.key == data["application_id"], count=3)
    by_id = {r.ce_id: r for r in letters}
    assert by_id[broken["ce_id"]].value == b'{"application_id": '
    assert by_id[broken["ce_id"]].headers["x-error-code"] == "invalid_json"
    assert by_id[wrong["ce_id"]].headers["x-error-code"] == "schema_violation"
    assert by_id[future["ce_id"]].headers["x-error-code"] == "unknown_type"
    assert {r.headers["x-original-topic"] for r in letters} == {APPLICATIONS_COMMANDS}

    for headers in (broken, wrong, future):
        rejection = await portal.rejection(headers["ce_id"])
        assert {r.code for r in rejection.reasons} == {"malformed"}
    fields = {r.field for r in (await portal.rejection(wrong["ce_id"])).reasons}
    assert {"applicant", "budget.total_cost_nok", "budget.requested_nok"} <= fields
    assert portal.events(data["application_id"]).count("applications.ApplicationSubmitted.v1") == 1


async def test_an_unreadable_upstream_event_is_dead_lettered_without_a_refusal_and_the_next_one_counts(
    portal: Portal,
) -> None:
    data = submission()
    app = data["application_id"]
    organisation = data["applicant"]["organisation_number"]
    await portal.answer(await portal.submit(data))
    workshop = "8a0b6e52-2f5c-4a8e-9a57-0d8e3f6b1c11"
    no_offset = {
        "workshop_id": workshop,
        "kind": "clarification",
        "organisation_number": organisation,
        "attended_at": "2027-01-20T15:00:00",
    }
    bad = await portal.publish(WORKSHOPS_EVENTS, ATTENDANCE, workshop, no_offset, source="/programme/workshops")
    other = await portal.publish(
        WORKSHOPS_EVENTS, "workshops.WorkshopScheduled.v1", workshop, {"anything": True}, source="/programme/workshops"
    )
    await portal.attend(organisation, workshop_id=workshop)

    await portal.wait_event(app, CLARIFIED)
    [letter] = await portal.log.wait_for(lambda r: r.topic == DLQ and r.ce_id == bad)
    assert letter.headers["x-error-code"] == "schema_violation"
    assert letter.headers["x-original-topic"] == WORKSHOPS_EVENTS
    await portal.log.settle(0.5)
    assert portal.log.caused_by(bad) == []  # an event is not a command: nobody to refuse
    assert portal.log.where(lambda r: r.topic == DLQ and r.ce_id == other) == []  # another type: let pass
    assert portal.events(app) == ["applications.ApplicationSubmitted.v1", CLARIFIED]


async def test_a_record_with_a_header_that_is_not_utf8_is_dead_lettered_and_the_command_behind_it_applied(
    portal: Portal,
) -> None:
    data = submission()
    key = data["application_id"].encode()
    headers = command_headers(SUBMIT)
    raw = [(name, b"\xff\xfe" if name == "ce_source" else value.encode()) for name, value in headers.items()]
    await portal.sender.send_raw(APPLICATIONS_COMMANDS, key=key, value=json.dumps(data).encode(), headers=raw)
    applied = await portal.submit(data)  # same key, same partition, likely the same batch

    assert [r.ce_type for r in await portal.answer(applied)] == ["applications.ApplicationSubmitted.v1"]
    [letter] = await portal.log.wait_for(lambda r: r.topic == DLQ and r.ce_id == headers["ce_id"])
    assert letter.headers["x-error-code"] == "invalid_header"
    assert letter.value == json.dumps(data).encode()
