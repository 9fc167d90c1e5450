"""Scheduling through Kafka: every refusal code, touching versus overlapping, travel buffers, daylight saving."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from devkit.ids import email
from devkit.payloads import morning
from devkit.payloads import schedule_workshop as workshop_data
from devkit.processes import ServiceProcess
from tests.integration.workshops.conftest import DLQ, Client, iso

pytestmark = pytest.mark.usefixtures("workshops_service")

CET = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))


async def test_a_scheduled_workshop_is_announced_with_its_times_on_oslos_clock(client: Client) -> None:
    data = workshop_data(start=datetime(2090, 1, 15, 8, tzinfo=UTC), end=datetime(2090, 1, 15, 14, tzinfo=UTC))
    command_id = await client.send("ScheduleWorkshop", data)
    (event,) = await client.answer(command_id)
    assert event.ce_type == "workshops.WorkshopScheduled.v1"
    assert event.key == data["workshop_id"]
    assert event.headers["ce_subject"] == data["workshop_id"]
    assert event.data["starts_at"] == "2090-01-15T09:00:00+01:00"
    assert event.data["ends_at"] == "2090-01-15T15:00:00+01:00"
    assert event.data["location"] == data["location"]
    assert event.data["facilitators"] == data["facilitators"]


async def test_every_reason_is_reported_at_once_and_a_time_without_offset_is_refused_not_dead_lettered(
    client: Client,
) -> None:
    data = workshop_data(hosting_cluster="nce-atlantis", capacity=0)
    data["starts_at"] = "2090-02-03T09:00:00"
    command_id = await client.send("ScheduleWorkshop", data)
    (answer,) = await client.answer(command_id)
    assert answer.ce_type == "workshops.CommandRejected.v1"
    assert answer.data["command_type"] == "workshops.ScheduleWorkshop.v1"
    assert answer.data["subject"] == data["workshop_id"]
    assert sorted(r["code"] for r in answer.data["reasons"]) == ["invalid_capacity", "invalid_time", "unknown_cluster"]
    assert client.log.where(lambda r: r.topic == DLQ and r.ce_id == command_id) == []


@pytest.mark.parametrize(
    ("start_offset", "length", "field"),
    [
        (timedelta(days=10), timedelta(0), "ends_at"),  # end not after start
        (timedelta(days=10), -timedelta(hours=1), "ends_at"),
        (timedelta(days=10), timedelta(days=3, minutes=1), "ends_at"),  # longer than 3 days
        (-timedelta(hours=1), timedelta(hours=3), "starts_at"),  # start not after the command's time
        (timedelta(0), timedelta(hours=3), "starts_at"),
    ],
)
async def test_invalid_times_are_refused(
    client: Client, start_offset: timedelta, length: timedelta, field: str
) -> None:
    sent_at = datetime(2090, 3, 1, 12, tzinfo=UTC)
    start = sent_at + start_offset
    (answer,) = await client.ask("ScheduleWorkshop", workshop_data(start=start, end=start + length), at=sent_at)
    assert [(r["code"], r["field"]) for r in answer.data["reasons"]] == [("invalid_time", field)]


async def test_a_workshop_id_is_scheduled_once(client: Client) -> None:
    data = await client.schedule()
    again = workshop_data(workshop_id=data["workshop_id"], start=morning(60))
    assert await client.refusal("ScheduleWorkshop", again) == ["duplicate_workshop"]


async def test_a_facilitator_may_go_straight_to_the_next_workshop_in_the_same_town_but_not_overlap(
    client: Client,
) -> None:
    leif = email("leif")
    start = morning(40)
    await client.schedule(start=start, end=start + timedelta(hours=3), facilitators=[leif])
    touching = workshop_data(start=start + timedelta(hours=3), end=start + timedelta(hours=4), facilitators=[leif])
    (answer,) = await client.ask("ScheduleWorkshop", touching)
    assert answer.ce_type == "workshops.WorkshopScheduled.v1"
    overlapping = workshop_data(
        start=start + timedelta(hours=2, minutes=59), end=start + timedelta(hours=5), facilitators=["x@y.example", leif]
    )
    (refusal,) = await client.ask("ScheduleWorkshop", overlapping)
    assert [(r["code"], r["field"]) for r in refusal.data["reasons"]] == [
        ("facilitator_double_booked", "facilitators.1")
    ]


async def test_a_facilitator_moving_to_another_town_needs_the_travel_buffer(client: Client) -> None:
    leif = email("leif")
    start = morning(41)
    end = start + timedelta(hours=2)
    await client.schedule(start=start, end=end, facilitators=[leif])
    halden = {"town": "Halden", "venue": f"Tista {uuid.uuid4().hex[:6]}"}
    too_soon = workshop_data(start=end + timedelta(minutes=89), location=halden, facilitators=[leif])
    assert await client.refusal("ScheduleWorkshop", too_soon) == ["facilitator_double_booked"]
    before_too_late = workshop_data(
        start=start - timedelta(hours=3), end=start - timedelta(minutes=89), location=halden, facilitators=[leif]
    )
    assert await client.refusal("ScheduleWorkshop", before_too_late) == ["facilitator_double_booked"]
    in_time = workshop_data(start=end + timedelta(minutes=90), location=halden, facilitators=[leif])
    (answer,) = await client.ask("ScheduleWorkshop", in_time)
    assert answer.ce_type == "workshops.WorkshopScheduled.v1"


async def test_a_venue_is_not_booked_twice_but_touching_times_and_another_town_are_fine(client: Client) -> None:
    start = morning(42)
    first = await client.schedule(start=start, end=start + timedelta(hours=3))
    venue = first["location"]["venue"]
    overlapping = workshop_data(
        start=start + timedelta(hours=1), location={"town": " raufoss", "venue": venue.upper()}
    )  # same place, other spelling
    assert await client.refusal("ScheduleWorkshop", overlapping) == ["venue_double_booked"]
    touching = workshop_data(start=start + timedelta(hours=3), location=first["location"])
    (answer,) = await client.ask("ScheduleWorkshop", touching)
    assert answer.ce_type == "workshops.WorkshopScheduled.v1"
    elsewhere = workshop_data(start=start, location={"town": "Kongsberg", "venue": venue})
    (answer,) = await client.ask("ScheduleWorkshop", elsewhere)
    assert answer.ce_type == "workshops.WorkshopScheduled.v1"


async def test_a_cancelled_workshop_blocks_neither_venue_nor_facilitator(client: Client) -> None:
    first = await client.schedule(start=morning(43))
    (cancelled,) = await client.ask("CancelWorkshop", {"workshop_id": first["workshop_id"], "reason": "ill"})
    assert cancelled.ce_type == "workshops.WorkshopCancelled.v1"
    same_slot = workshop_data(start=morning(43), location=first["location"], facilitators=first["facilitators"])
    (answer,) = await client.ask("ScheduleWorkshop", same_slot)
    assert answer.ce_type == "workshops.WorkshopScheduled.v1"


async def test_the_hour_that_happens_twice_in_october_is_two_hours(client: Client) -> None:
    # 31 October 2027 at 03:00 CEST clocks go back to 02:00 CET.
    leif = email("leif")
    first = workshop_data(
        start=datetime(2027, 10, 31, 2, 0, tzinfo=CEST),
        end=datetime(2027, 10, 31, 2, 45, tzinfo=CEST),
        facilitators=[leif],
    )
    sent_at = datetime(2027, 10, 1, tzinfo=UTC)
    (answer,) = await client.ask("ScheduleWorkshop", first, at=sent_at)
    assert answer.ce_type == "workshops.WorkshopScheduled.v1"
    second = workshop_data(
        start=datetime(2027, 10, 31, 2, 15, tzinfo=CET),
        end=datetime(2027, 10, 31, 2, 45, tzinfo=CET),
        location=first["location"],
        facilitators=[leif],
    )
    (answer,) = await client.ask("ScheduleWorkshop", second, at=sent_at)
    assert answer.ce_type == "workshops.WorkshopScheduled.v1"
    assert answer.data["starts_at"] == "2027-10-31T02:15:00+01:00"
    # The same wall-clock times in the other offset do overlap the first.
    third = workshop_data(
        start=datetime(2027, 10, 31, 2, 30, tzinfo=CEST),
        end=datetime(2027, 10, 31, 2, 40, tzinfo=CEST),
        location=first["location"],
        facilitators=[leif],
    )
    assert sorted(await client.refusal("ScheduleWorkshop", third, at=sent_at)) == [
        "facilitator_double_booked",
        "venue_double_booked",
    ]


async def test_the_hour_missing_in_march_makes_a_short_workshop_that_still_overlaps(client: Client) -> None:
    # 28 March 2027 at 02:00 CET clocks go forward to 03:00 CEST: 01:30 CET to 03:30 CEST is one hour.
    leif = email("leif")
    sent_at = datetime(2027, 3, 1, tzinfo=UTC)
    first = workshop_data(
        start=datetime(2027, 3, 28, 1, 30, tzinfo=CET),
        end=datetime(2027, 3, 28, 3, 30, tzinfo=CEST),
        facilitators=[leif],
    )
    await client.ask("ScheduleWorkshop", first, at=sent_at)
    second = workshop_data(
        start=datetime(2027, 3, 28, 3, 29, tzinfo=CEST), end=datetime(2027, 3, 28, 4, tzinfo=CEST), facilitators=[leif]
    )
    assert await client.refusal("ScheduleWorkshop", second, at=sent_at) == ["facilitator_double_booked"]
    after = workshop_data(
        start=datetime(2027, 3, 28, 1, 30, tzinfo=UTC), end=datetime(2027, 3, 28, 4, tzinfo=CEST), facilitators=[leif]
    )
    (answer,) = await client.ask("ScheduleWorkshop", after, at=sent_at)
    assert answer.ce_type == "workshops.WorkshopScheduled.v1"
    assert answer.data["starts_at"] == "2027-03-28T03:30:00+02:00"


async def test_reschedule_refusals(client: Client) -> None:
    unknown = {
        "workshop_id": str(uuid.uuid4()),
        "starts_at": iso(morning(50)),
        "ends_at": iso(morning(50) + timedelta(hours=1)),
    }
    assert await client.refusal("RescheduleWorkshop", unknown) == ["unknown_workshop"]

    leif = email("leif")
    other = await client.schedule(start=morning(51), facilitators=[leif])
    moving = await client.schedule(start=morning(52), facilitators=[leif])
    onto_other = {
        "workshop_id": moving["workshop_id"],
        "starts_at": other["starts_at"],
        "ends_at": other["ends_at"],
        "location": other["location"],
    }
    assert sorted(await client.refusal("RescheduleWorkshop", onto_other)) == [
        "facilitator_double_booked",
        "venue_double_booked",
    ]
    bad_time = {"workshop_id": moving["workshop_id"], "starts_at": "2090-01-01T09:00:00", "ends_at": other["ends_at"]}
    assert await client.refusal("RescheduleWorkshop", bad_time) == ["invalid_time"]

    finished_at = morning(52) + timedelta(hours=3, seconds=1)
    later = {
        "workshop_id": moving["workshop_id"],
        "starts_at": iso(morning(53)),
        "ends_at": iso(morning(53) + timedelta(hours=1)),
    }
    assert await client.refusal("RescheduleWorkshop", later, at=finished_at) == ["workshop_closed"]
    await client.ask("CancelWorkshop", {"workshop_id": other["workshop_id"], "reason": "no room"})
    back = {
        "workshop_id": other["workshop_id"],
        "starts_at": iso(morning(54)),
        "ends_at": iso(morning(54) + timedelta(hours=1)),
    }
    assert await client.refusal("RescheduleWorkshop", back) == ["workshop_closed"]


async def test_a_workshop_never_conflicts_with_itself_and_its_participants_are_told_of_the_move(client: Client) -> None:
    start = morning(55)
    data = await client.schedule(start=start, capacity=1)
    confirmed, _, _ = await client.register(data["workshop_id"], person="first@example.no")
    waitlisted, _, _ = await client.register(data["workshop_id"], person="second@example.no")
    half_hour_later = {
        "workshop_id": data["workshop_id"],
        "starts_at": iso(start + timedelta(minutes=30)),
        "ends_at": iso(start + timedelta(hours=3, minutes=30)),
    }
    command_id = await client.send("RescheduleWorkshop", half_hour_later)
    (event,) = await client.answer(command_id)
    assert event.ce_type == "workshops.WorkshopRescheduled.v1"
    assert event.data["previous_starts_at"] == iso(start)
    assert event.data["location"] == data["location"]
    told = await client.wait_notifications(command_id, count=2)
    assert {(n.data["recipient"]["email"], n.data["params"]["registration_id"]) for n in told} == {
        ("first@example.no", confirmed),
        ("second@example.no", waitlisted),
    }
    assert {n.data["template"] for n in told} == {"workshops.rescheduled"}
    assert {n.key for n in told} == {"first@example.no", "second@example.no"}


async def test_cancel_refusals_and_notifications(client: Client) -> None:
    assert await client.refusal("CancelWorkshop", {"workshop_id": str(uuid.uuid4()), "reason": "x"}) == [
        "unknown_workshop"
    ]
    data = await client.schedule(start=morning(56), capacity=1)
    await client.register(data["workshop_id"])
    await client.register(data["workshop_id"])
    command_id = await client.send("CancelWorkshop", {"workshop_id": data["workshop_id"], "reason": "snow"})
    (event,) = await client.answer(command_id)
    assert event.data == {"workshop_id": data["workshop_id"], "reason": "snow"}
    told = await client.wait_notifications(command_id, count=2)
    assert {n.data["template"] for n in told} == {"workshops.cancelled"}
    assert {n.data["audience"] for n in told} == {"participant"}
    assert await client.refusal("CancelWorkshop", {"workshop_id": data["workshop_id"], "reason": "again"}) == [
        "workshop_closed"
    ]


async def test_capacity_refusals(client: Client) -> None:
    assert await client.refusal("ChangeWorkshopCapacity", {"workshop_id": str(uuid.uuid4()), "capacity": 5}) == [
        "unknown_workshop"
    ]
    data = await client.schedule(start=morning(57), capacity=3)
    await client.register(data["workshop_id"])
    await client.register(data["workshop_id"])
    change = {"workshop_id": data["workshop_id"], "capacity": 1}
    assert await client.refusal("ChangeWorkshopCapacity", change) == ["capacity_below_registrations"]
    assert await client.refusal("ChangeWorkshopCapacity", {**change, "capacity": 1001}) == ["invalid_capacity"]
    finished = morning(57) + timedelta(days=1)
    assert await client.refusal("ChangeWorkshopCapacity", {**change, "capacity": 5}, at=finished) == ["workshop_closed"]
    (event,) = await client.ask("ChangeWorkshopCapacity", {**change, "capacity": 2})
    assert event.data == {"workshop_id": data["workshop_id"], "capacity": 2, "previous_capacity": 3}


async def test_an_unreadable_command_is_dead_lettered_and_refused_as_malformed(
    client: Client, workshops_service: ServiceProcess
) -> None:
    data = workshop_data(capacity="25")  # a string where the schema wants an integer
    command_id = await client.send("ScheduleWorkshop", data)
    (answer,) = await client.answer(command_id)
    assert answer.ce_type == "workshops.CommandRejected.v1"
    assert [r["code"] for r in answer.data["reasons"]] == ["malformed"]
    letters = await client.log.wait_for(lambda r: r.topic == DLQ and r.ce_id == command_id)
    assert letters[0].headers["x-error-code"] == "schema_violation"
    assert await workshops_service.ready_status() == 200
