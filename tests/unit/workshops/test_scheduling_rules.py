"""The scheduling rules on their own: times, daylight saving, overlaps, travel buffers, capacity, refusals."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from workshops.domain import calendar, invitations, registrations, reminders
from workshops.domain.policy import Policy

from shared.contract.base import Reason

CET = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))
NOW = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
POLICY = Policy(clusters=frozenset({"nce-raufoss", "nce-systems-engineering"}))
BUFFER = timedelta(minutes=90)


def codes(reasons: list[Reason]) -> list[str]:
    return [r.code for r in reasons]


def slot(start: datetime, end: datetime, town: str = "Raufoss", venue: str = "Sal 2") -> calendar.Slot:
    return calendar.Slot(start, end, town, venue)


def booking(
    start: datetime, end: datetime, town: str = "Raufoss", buffer: timedelta = BUFFER
) -> calendar.FacilitatorBooking:
    return calendar.FacilitatorBooking(
        uuid.uuid4(), "leif@nce-se.example", calendar.name_key(town), start, end, end + buffer
    )


# times


def test_a_time_without_an_offset_is_refused_for_each_field() -> None:
    naive_start, naive_end = datetime(2027, 2, 3, 9), datetime(2027, 2, 3, 15)  # noqa: DTZ001 - the case under test
    reasons = calendar.time_refusals(naive_start, naive_end, now=NOW)
    assert codes(reasons) == ["invalid_time", "invalid_time"]
    assert [r.field for r in reasons] == ["starts_at", "ends_at"]


def test_an_end_not_after_the_start_is_refused() -> None:
    start = datetime(2027, 2, 3, 9, tzinfo=CET)
    assert codes(calendar.time_refusals(start, start, now=NOW)) == ["invalid_time"]
    assert codes(calendar.time_refusals(start, start - timedelta(minutes=1), now=NOW)) == ["invalid_time"]


def test_a_start_not_after_the_commands_time_is_refused_even_when_equal() -> None:
    assert codes(calendar.time_refusals(NOW, NOW + timedelta(hours=1), now=NOW)) == ["invalid_time"]
    assert calendar.time_refusals(NOW + timedelta(seconds=1), NOW + timedelta(hours=1), now=NOW) == []


def test_an_end_before_the_start_and_a_start_in_the_past_are_both_reported() -> None:
    reasons = calendar.time_refusals(NOW - timedelta(hours=1), NOW - timedelta(hours=2), now=NOW)
    assert [r.field for r in reasons] == ["ends_at", "starts_at"]


def test_three_days_are_counted_on_oslos_calendar_across_the_spring_change() -> None:
    start = datetime(2027, 3, 26, 9, tzinfo=CET)  # clocks go forward on 28 March
    three_days = datetime(2027, 3, 29, 9, tzinfo=CEST)
    assert three_days - start == timedelta(hours=71)
    assert calendar.time_refusals(start, three_days, now=NOW) == []
    half_an_hour_more = datetime(2027, 3, 29, 8, 30, tzinfo=CET)  # 71.5 h, still under 72 h
    assert codes(calendar.time_refusals(start, half_an_hour_more, now=NOW)) == ["invalid_time"]


def test_three_days_are_counted_on_oslos_calendar_across_the_autumn_change() -> None:
    start = datetime(2027, 10, 29, 9, tzinfo=CEST)  # clocks go back on 31 October
    three_days = datetime(2027, 11, 1, 9, tzinfo=CET)
    assert three_days - start == timedelta(hours=73)
    assert calendar.time_refusals(start, three_days, now=NOW) == []
    assert codes(calendar.time_refusals(start, three_days + timedelta(minutes=1), now=NOW)) == ["invalid_time"]


def test_the_same_instant_in_other_offsets_is_the_same_time() -> None:
    oslo = datetime(2027, 2, 3, 9, tzinfo=CET)
    utc = datetime(2027, 2, 3, 8, 30, tzinfo=UTC)  # 09:30 in Oslo
    assert calendar.overlaps(oslo, oslo + timedelta(hours=1), utc, utc + timedelta(hours=1))
    assert not calendar.overlaps(oslo, oslo + timedelta(hours=1), utc + timedelta(minutes=30), utc + timedelta(hours=1))
    assert calendar.local_time(datetime(2027, 7, 1, 7, tzinfo=UTC)).isoformat() == "2027-07-01T09:00:00+02:00"


# overlaps

# hypothesis takes naive bounds and adds the zone itself
aware_times = st.datetimes(
    min_value=datetime(2027, 1, 1),  # noqa: DTZ001
    max_value=datetime(2030, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
durations = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=3))


@given(aware_times, durations, durations)
def test_touching_intervals_never_overlap(start: datetime, first: timedelta, second: timedelta) -> None:
    middle = start + first
    assert not calendar.overlaps(start, middle, middle, middle + second)
    assert not calendar.overlaps(middle, middle + second, start, middle)


@given(aware_times, durations, aware_times, durations)
def test_overlap_is_symmetric_and_matches_a_shared_instant(
    a: datetime, a_length: timedelta, b: datetime, b_length: timedelta
) -> None:
    forward = calendar.overlaps(a, a + a_length, b, b + b_length)
    assert forward == calendar.overlaps(b, b + b_length, a, a + a_length)
    assert forward == (max(a, b) < min(a + a_length, b + b_length))


def test_a_wall_clock_hour_that_happens_twice_is_two_different_hours() -> None:
    # 31 October 2027: 02:00-03:00 runs first in CEST, then again in CET.
    first = slot(datetime(2027, 10, 31, 2, 0, tzinfo=CEST), datetime(2027, 10, 31, 2, 45, tzinfo=CEST))
    second = booking(datetime(2027, 10, 31, 2, 15, tzinfo=CET), datetime(2027, 10, 31, 2, 45, tzinfo=CET))
    assert not calendar.facilitator_clashes(first, second, travel_buffer=BUFFER)


def test_a_wall_clock_gap_in_spring_hides_an_overlap_that_instants_show() -> None:
    # 28 March 2027: 02:00 CET becomes 03:00 CEST, so 01:30 CET to 03:30 CEST is one hour long.
    first = slot(datetime(2027, 3, 28, 1, 30, tzinfo=CET), datetime(2027, 3, 28, 3, 30, tzinfo=CEST))
    second = booking(datetime(2027, 3, 28, 3, 15, tzinfo=CEST), datetime(2027, 3, 28, 4, 0, tzinfo=CEST))
    assert calendar.facilitator_clashes(first, second, travel_buffer=BUFFER)


# facilitators and venues

NINE = datetime(2027, 2, 3, 9, tzinfo=CET)


def test_a_facilitator_in_the_same_town_may_go_straight_from_one_workshop_to_the_next() -> None:
    assert not calendar.facilitator_clashes(
        slot(NINE + timedelta(hours=3), NINE + timedelta(hours=4)),
        booking(NINE, NINE + timedelta(hours=3)),
        travel_buffer=BUFFER,
    )


def test_a_facilitator_in_the_same_town_is_double_booked_by_a_one_minute_overlap() -> None:
    assert calendar.facilitator_clashes(
        slot(NINE + timedelta(hours=3) - timedelta(minutes=1), NINE + timedelta(hours=4)),
        booking(NINE, NINE + timedelta(hours=3)),
        travel_buffer=BUFFER,
    )


@pytest.mark.parametrize(("gap_minutes", "clash"), [(0, True), (89, True), (90, False), (240, False)])
def test_a_facilitator_moving_to_another_town_needs_the_travel_buffer_either_way(gap_minutes: int, clash: bool) -> None:
    earlier = (NINE, NINE + timedelta(hours=2))
    later_start = earlier[1] + timedelta(minutes=gap_minutes)
    later = (later_start, later_start + timedelta(hours=2))
    # The new workshop after the booked one, and before it.
    assert calendar.facilitator_clashes(slot(*later, town="Halden"), booking(*earlier), travel_buffer=BUFFER) is clash
    assert calendar.facilitator_clashes(slot(*earlier, town="Halden"), booking(*later), travel_buffer=BUFFER) is clash


def test_town_names_compare_without_case_or_extra_spaces() -> None:
    assert not calendar.facilitator_clashes(
        slot(NINE + timedelta(hours=3), NINE + timedelta(hours=4), town="  raufoss "),
        booking(NINE, NINE + timedelta(hours=3), town="Raufoss"),
        travel_buffer=BUFFER,
    )


def test_clash_refusals_name_each_double_booked_facilitator_and_the_venue() -> None:
    start, end = NINE, NINE + timedelta(hours=2)
    around = calendar.Surroundings(
        facilitator_bookings=[booking(start, end)],
        venue_workshops=[uuid.uuid4()],
    )
    reasons = list(
        calendar.clashes(
            slot(start, end), ["ola@x.example", "Leif@NCE-SE.example"], around, travel_buffer=BUFFER
        ).reasons
    )
    assert codes(reasons) == ["facilitator_double_booked", "venue_double_booked"]
    assert reasons[0].field == "facilitators.1"


# refusals all at once


def test_a_schedule_with_every_fault_gets_every_reason() -> None:
    naive = datetime(2027, 2, 3, 9)  # noqa: DTZ001 - the case under test
    timing = calendar.time_refusals(naive, datetime(2027, 2, 3, 15, tzinfo=CET), now=NOW)
    reasons = calendar.schedule_refusals(
        exists=True, hosting_cluster="nce-nowhere", capacity=0, timing=timing, clashes=[], policy=POLICY
    )
    assert codes(reasons) == ["duplicate_workshop", "unknown_cluster", "invalid_time", "invalid_capacity"]


@pytest.mark.parametrize(("capacity", "ok"), [(0, False), (1, True), (1000, True), (1001, False), (-5, False)])
def test_capacity_is_one_to_a_thousand(capacity: int, ok: bool) -> None:
    assert (calendar.capacity_refusals(capacity) == []) is ok


def workshop(**changes: Any) -> calendar.Workshop:
    base = calendar.Workshop(
        workshop_id=uuid.uuid4(),
        kind="clarification",
        title="Why before how",
        hosting_cluster="nce-raufoss",
        town="Raufoss",
        venue="Sal 2",
        starts_at=NINE,
        ends_at=NINE + timedelta(hours=6),
        capacity=2,
        seats_taken=0,
        facilitators=("leif@nce-se.example",),
        cancelled=False,
        schedule_version=1,
    )
    return replace(base, **changes)


def test_a_workshop_is_closed_when_cancelled_or_once_its_end_is_before_the_commands_time() -> None:
    w = workshop()
    assert calendar.open_workshop_refusals(w, now=w.ends_at) == []
    assert codes(calendar.open_workshop_refusals(w, now=w.ends_at + timedelta(seconds=1))) == ["workshop_closed"]
    assert codes(calendar.open_workshop_refusals(workshop(cancelled=True), now=NOW)) == ["workshop_closed"]
    assert codes(calendar.open_workshop_refusals(None, now=NOW)) == ["unknown_workshop"]


def test_capacity_below_the_confirmed_seats_is_refused_with_the_range_rule_too() -> None:
    w = workshop(capacity=10, seats_taken=5)
    assert codes(calendar.capacity_change_refusals(w, 4, now=NOW)) == ["capacity_below_registrations"]
    assert calendar.capacity_change_refusals(w, 5, now=NOW) == []
    assert codes(calendar.capacity_change_refusals(w, 0, now=NOW)) == [
        "invalid_capacity",
        "capacity_below_registrations",
    ]


def test_a_registration_gets_every_reason_at_once() -> None:
    reasons = registrations.registration_refusals(
        workshop(cancelled=True), now=NOW, email_taken=True, id_taken=True, organisation_number="123456789"
    )
    assert codes(reasons) == [
        "workshop_closed",
        "already_registered",
        "already_registered",
        "invalid_organisation_number",
    ]


def test_a_registration_without_an_organisation_number_is_fine() -> None:
    assert (
        registrations.registration_refusals(
            workshop(), now=NOW, email_taken=False, id_taken=False, organisation_number=None
        )
        == []
    )


def test_attendance_is_refused_before_the_start_and_for_registrations_of_other_workshops() -> None:
    w = workshop()
    stranger = uuid.uuid4()
    reasons = registrations.attendance_refusals(w, now=w.starts_at - timedelta(seconds=1), unknown=[stranger])
    assert codes(reasons) == ["workshop_not_started", "unknown_registration"]
    assert registrations.attendance_refusals(w, now=w.starts_at, unknown=[]) == []


# the waitlist


def test_a_full_workshop_waitlists_and_a_free_seat_confirms() -> None:
    assert registrations.placement(workshop(capacity=2, seats_taken=1)) == "confirmed"
    assert registrations.placement(workshop(capacity=2, seats_taken=2)) == "waitlisted"


@given(
    capacity=st.integers(1, 20),
    seats_taken=st.integers(0, 20),
    waitlist=st.lists(st.uuids(), unique=True, max_size=30),
)
def test_promotion_takes_the_head_of_the_waitlist_as_far_as_seats_go(
    capacity: int, seats_taken: int, waitlist: list[uuid.UUID]
) -> None:
    promoted = registrations.promotions(capacity=capacity, seats_taken=min(seats_taken, capacity), waitlist=waitlist)
    free = capacity - min(seats_taken, capacity)
    assert promoted == waitlist[: len(promoted)]
    assert len(promoted) == min(free, len(waitlist))


def test_no_promotion_once_a_workshop_is_cancelled_or_finished() -> None:
    assert registrations.waitlist_moves(workshop(), now=NOW)
    assert not registrations.waitlist_moves(workshop(cancelled=True), now=NOW)
    assert not registrations.waitlist_moves(workshop(), now=NINE + timedelta(days=1))


# reminders and invitations


def test_a_reminder_is_due_the_lead_before_start_unless_confirmed_at_or_after_that() -> None:
    lead = timedelta(hours=24)
    assert reminders.due(starts_at=NINE, confirmed_at=NINE - timedelta(days=3), lead=lead) == NINE - lead
    assert reminders.due(starts_at=NINE, confirmed_at=NINE - lead, lead=lead) is None
    assert reminders.due(starts_at=NINE, confirmed_at=NINE - timedelta(hours=2), lead=lead) is None


def test_a_reminder_across_the_spring_change_is_24_real_hours_before() -> None:
    start = datetime(2027, 3, 28, 10, tzinfo=CEST)
    due = reminders.due(starts_at=start, confirmed_at=NOW, lead=timedelta(hours=24))
    assert due is not None
    assert calendar.local_time(due).isoformat() == "2027-03-27T09:00:00+01:00"


def test_the_invitation_lists_the_lead_clusters_workshops_first_then_by_start() -> None:
    early_other = workshop(hosting_cluster="nce-raufoss", starts_at=NINE)
    late_lead = workshop(hosting_cluster="nce-systems-engineering", starts_at=NINE + timedelta(days=9))
    early_lead = workshop(hosting_cluster="nce-systems-engineering", starts_at=NINE + timedelta(days=2))
    ordered = invitations.invitation_order([early_other, late_lead, early_lead], lead_cluster="nce-systems-engineering")
    assert ordered == [early_lead, late_lead, early_other]


def test_facilitators_are_counted_once_whatever_their_case() -> None:
    assert calendar.distinct_facilitators(["Leif@X.example", "leif@x.example ", "kari@x.example"]) == (
        "leif@x.example",
        "kari@x.example",
    )
