"""Registrations through Kafka: seats, the first-come waitlist and its promotions, attendance, erasure."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import asyncpg
import pytest

from devkit.driver import Record, command_headers
from devkit.ids import email, organisation_number
from devkit.payloads import morning
from devkit.processes import ServiceProcess
from shared.topics import WORKSHOPS_COMMANDS, WORKSHOPS_EVENTS
from tests.integration.workshops.conftest import Client

pytestmark = pytest.mark.usefixtures("workshops_service")

REGISTERED = "workshops.ParticipantRegistered.v1"
WAITLISTED = "workshops.ParticipantWaitlisted.v1"
PROMOTED = "workshops.ParticipantPromoted.v1"


async def test_registrations_beyond_capacity_wait_in_line_and_freed_or_added_seats_promote_in_order(
    client: Client, admin_db: asyncpg.Pool
) -> None:
    workshop = await client.schedule(start=morning(60), capacity=2)
    workshop_id = workshop["workshop_id"]
    people = {}
    answers = {}
    for name in "ABCDE":
        people[name] = email(name)
        registration_id, ce_id, (answer,) = await client.register(workshop_id, person=people[name])
        answers[name] = (registration_id, ce_id, answer)
    assert [answers[n][2].ce_type for n in "ABCDE"] == [REGISTERED, REGISTERED, WAITLISTED, WAITLISTED, WAITLISTED]
    assert [answers[n][2].data["position"] for n in "CDE"] == [1, 2, 3]
    told = {n: await client.wait_notifications(answers[n][1], count=1) for n in "ABCDE"}
    assert [told[n][0].data["template"] for n in "ABCDE"] == ["workshops.registered"] * 2 + ["workshops.waitlisted"] * 3
    assert told["D"][0].data["params"]["position"] == 2
    assert told["A"][0].data["recipient"] == {"email": people["A"], "role": None}

    # B leaves: the head of the line (C) takes the seat at once.
    cancel_id = await client.send(
        "CancelRegistration", {"workshop_id": workshop_id, "registration_id": answers["B"][0]}
    )
    cancelled, promoted = await client.answer(cancel_id, count=2)
    assert cancelled.ce_type == "workshops.RegistrationCancelled.v1"
    assert cancelled.data["previous_status"] == "confirmed"
    assert (promoted.ce_type, promoted.data["registration_id"]) == (PROMOTED, answers["C"][0])
    (note,) = await client.wait_notifications(cancel_id, count=1)
    assert (note.data["template"], note.data["recipient"]["email"]) == ("workshops.promoted", people["C"])

    # Two more seats: D then E, in their order.
    raise_id = await client.send("ChangeWorkshopCapacity", {"workshop_id": workshop_id, "capacity": 4})
    changed, first, second = await client.answer(raise_id, count=3)
    assert changed.ce_type == "workshops.WorkshopCapacityChanged.v1"
    assert [(first.ce_type, first.data["registration_id"]), (second.ce_type, second.data["registration_id"])] == [
        (PROMOTED, answers["D"][0]),
        (PROMOTED, answers["E"][0]),
    ]
    assert len(await client.wait_notifications(raise_id, count=2)) == 2
    seats = await admin_db.fetchval(
        "SELECT seats_taken FROM workshops.workshops WHERE workshop_id = $1", uuid.UUID(workshop_id)
    )
    assert seats == 4
    await client.log.settle()
    assert len(client.notifications(raise_id)) == 2  # never two for the same fact


async def test_a_waitlist_place_given_up_moves_the_others_up_and_promotes_nobody(client: Client) -> None:
    workshop = await client.schedule(start=morning(61), capacity=1)
    workshop_id = workshop["workshop_id"]
    await client.register(workshop_id)
    first, _, _ = await client.register(workshop_id)
    second, _, _ = await client.register(workshop_id)
    (cancelled,) = await client.ask("CancelRegistration", {"workshop_id": workshop_id, "registration_id": first})
    assert cancelled.data["previous_status"] == "waitlisted"
    _, _, (answer,) = await client.register(workshop_id)
    assert answer.data["position"] == 2  # behind `second`, now first in line
    assert second != answer.data["registration_id"]


async def test_an_email_holds_one_place_per_workshop_until_it_is_cancelled(client: Client) -> None:
    workshop = await client.schedule(start=morning(62))
    person = email("kari")
    registration_id, _, _ = await client.register(workshop["workshop_id"], person=person)
    _, _, (refusal,) = await client.register(workshop["workshop_id"], person=person.upper())
    assert [r["code"] for r in refusal.data["reasons"]] == ["already_registered"]
    await client.ask("CancelRegistration", {"workshop_id": workshop["workshop_id"], "registration_id": registration_id})
    _, _, (again,) = await client.register(workshop["workshop_id"], person=person)
    assert again.ce_type == REGISTERED


async def test_registration_refusals(client: Client) -> None:
    _, _, (unknown,) = await client.register(str(uuid.uuid4()))
    assert [r["code"] for r in unknown.data["reasons"]] == ["unknown_workshop"]

    workshop = await client.schedule(start=morning(63))
    _, _, (bad_org,) = await client.register(workshop["workshop_id"], org="974760674")
    assert [(r["code"], r["field"]) for r in bad_org.data["reasons"]] == [
        ("invalid_organisation_number", "participant.organisation_number")
    ]
    after_end = morning(63) + timedelta(hours=3, minutes=1)
    _, _, (finished,) = await client.register(workshop["workshop_id"], at=after_end, org="12345")
    assert sorted(r["code"] for r in finished.data["reasons"]) == ["invalid_organisation_number", "workshop_closed"]

    await client.ask("CancelWorkshop", {"workshop_id": workshop["workshop_id"], "reason": "x"})
    _, _, (cancelled,) = await client.register(workshop["workshop_id"])
    assert [r["code"] for r in cancelled.data["reasons"]] == ["workshop_closed"]


async def test_cancelling_an_unknown_foreign_or_cancelled_registration_is_refused(client: Client) -> None:
    one = await client.schedule(start=morning(64))
    other = await client.schedule(start=morning(65))
    registration_id, _, _ = await client.register(one["workshop_id"])
    cases = [
        {"workshop_id": one["workshop_id"], "registration_id": str(uuid.uuid4())},
        {"workshop_id": other["workshop_id"], "registration_id": registration_id},
        {"workshop_id": str(uuid.uuid4()), "registration_id": registration_id},
    ]
    for case in cases:
        assert await client.refusal("CancelRegistration", case) == ["unknown_registration"]
    mine = {"workshop_id": one["workshop_id"], "registration_id": registration_id}
    (cancelled,) = await client.ask("CancelRegistration", mine)
    assert cancelled.ce_type == "workshops.RegistrationCancelled.v1"
    assert await client.refusal("CancelRegistration", mine) == ["unknown_registration"]


async def test_attendance_gives_one_fact_per_attending_confirmed_registration_with_the_organisation_number(
    client: Client,
) -> None:
    start = morning(66)
    workshop = await client.schedule(start=start, capacity=2, hosting_cluster="nce-smart-energy-markets")
    workshop_id = workshop["workshop_id"]
    org_a, org_b = organisation_number(), organisation_number()
    a, _, _ = await client.register(workshop_id, org=org_a)
    b, _, _ = await client.register(workshop_id, org=org_b)
    waiting, _, _ = await client.register(workshop_id, org=organisation_number())
    absent = {"workshop_id": workshop_id, "attended": [a]}

    assert await client.refusal("RecordAttendance", absent, at=start - timedelta(seconds=1)) == ["workshop_not_started"]
    stranger = {"workshop_id": workshop_id, "attended": [a, str(uuid.uuid4())]}
    assert await client.refusal("RecordAttendance", stranger, at=start) == ["unknown_registration"]
    unknown_workshop = {"workshop_id": str(uuid.uuid4()), "attended": [a]}
    assert await client.refusal("RecordAttendance", unknown_workshop, at=start) == ["unknown_workshop"]

    command_id = await client.send(
        "RecordAttendance", {"workshop_id": workshop_id, "attended": [b, waiting, a]}, at=start + timedelta(hours=1)
    )
    facts = await client.answer(command_id, count=2)
    await client.log.settle()
    facts = client.log.caused_by(command_id, "workshops.events.v1")
    assert [f.ce_type for f in facts] == ["workshops.AttendanceRecorded.v1"] * 2
    assert [(f.data["registration_id"], f.data["organisation_number"]) for f in facts] == [(b, org_b), (a, org_a)]
    assert {f.data["kind"] for f in facts} == {"clarification"}
    assert {f.data["hosting_cluster"] for f in facts} == {"nce-smart-energy-markets"}
    assert {f.data["attended_at"] for f in facts} == {start.isoformat()}
    assert {f.key for f in facts} == {workshop_id}

    # The same attendance again is no new fact, yet the command gets its one answer.
    again = {"workshop_id": workshop_id, "attended": [a]}
    assert await client.refusal("RecordAttendance", again, at=start) == ["attendance_already_recorded"]


async def test_erasure_replaces_names_and_emails_everywhere_and_keeps_attendance(
    client: Client, admin_db: asyncpg.Pool, workshops_service: ServiceProcess
) -> None:
    person = email("erase-me")
    org = organisation_number()
    start = morning(67)
    first = await client.schedule(start=start, capacity=1)
    second = await client.schedule(start=morning(68), capacity=1)
    attended, _, _ = await client.register(first["workshop_id"], person=person, org=org)
    await client.register(second["workshop_id"])
    waiting, _, _ = await client.register(second["workshop_id"], person=person.title())
    await client.ask("RecordAttendance", {"workshop_id": first["workshop_id"], "attended": [attended]}, at=start)

    command_id = await client.send("EraseParticipantData", {"email": person}, key=person)
    (erased,) = await client.answer(command_id)
    assert erased.ce_type == "workshops.ParticipantDataErased.v1"
    assert erased.data["registrations"] == 2
    assert erased.key == erased.data["erasure_id"] == erased.headers["ce_subject"]
    assert person not in erased.value.decode()
    assert person not in json.dumps(erased.headers)

    rows = await admin_db.fetch(
        "SELECT registration_id, name, email, organisation_number, attended_at FROM workshops.registrations "
        "WHERE registration_id = ANY($1::uuid[])",
        [uuid.UUID(attended), uuid.UUID(waiting)],
    )
    assert {(r["name"], r["email"]) for r in rows} == {("erased", "erased")}
    kept = {r["registration_id"]: r for r in rows}[uuid.UUID(attended)]
    assert kept["organisation_number"] == org
    assert kept["attended_at"] is not None
    leftovers = await admin_db.fetchval(
        "SELECT count(*) FROM workshops.registrations WHERE lower(email) = lower($1) OR lower(name) = lower($1)",
        person,
    )
    assert leftovers == 0

    this_run = workshops_service.tail(1_000_000).split("=== start")[-1]
    assert person.split("@")[0] not in this_run.lower()  # nor ever written to a log

    # The erased person is told nothing more; the others still are.
    cancel_id = await client.send("CancelWorkshop", {"workshop_id": second["workshop_id"], "reason": "x"})
    (note,) = await client.wait_notifications(cancel_id, count=1)
    await client.log.settle()
    assert len(client.notifications(cancel_id)) == 1
    assert note.data["recipient"]["email"] != person


def _names(record: Record, person: str) -> bool:
    """Whether the record carries the e-mail anywhere: its key, a header, its data (in any case)."""
    text = " ".join([record.key or "", json.dumps(record.headers), record.value.decode("utf-8", "replace")])
    return person.lower() in text.lower()


async def test_a_refused_erasure_is_answered_under_the_command_id_and_never_publishes_the_email(
    client: Client,
) -> None:
    person = email("Refused-Erasure")
    erase = "workshops.EraseParticipantData.v1"
    # A field the contract does not have, data that is not JSON, an envelope without its time:
    # each is refused, and each refusal would otherwise be keyed by the e-mail and name it as subject.
    unknown_field = await client.send("EraseParticipantData", {"email": person, "note": "asap"}, key=person)
    not_json = command_headers(erase)
    await client.sender.send_raw(
        WORKSHOPS_COMMANDS, key=person.encode(), value=f"email={person}".encode(), headers=not_json
    )
    no_time = {k: v for k, v in command_headers(erase).items() if k != "ce_time"}
    await client.sender.send_raw(
        WORKSHOPS_COMMANDS, key=person.encode(), value=json.dumps({"email": person}).encode(), headers=no_time
    )

    for command_id in (unknown_field, not_json["ce_id"], no_time["ce_id"]):
        (refusal,) = await client.answer(command_id)
        assert refusal.ce_type == "workshops.CommandRejected.v1", refusal.data
        assert refusal.data["command_id"] == command_id
        assert refusal.key == refusal.headers["ce_subject"] == refusal.data["subject"] == command_id
        assert {reason["code"] for reason in refusal.data["reasons"]} == {"malformed"}
        assert not _names(refusal, person)
    await client.log.settle()
    assert [r.ce_type for r in client.log.where(lambda r: r.topic == WORKSHOPS_EVENTS and _names(r, person))] == []
