"""A double-booking refusal's basis: the workshops a slot clashed with and, across towns, the travel gap needed."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from workshops.domain import calendar

from shared.contract.workshops import ClashBasis, DoubleBooking

CET = timezone(timedelta(hours=1))
NINE = datetime(2027, 2, 3, 9, tzinfo=CET)
BUFFER = timedelta(minutes=90)
LEIF = "leif@nce-se.example"


def booking(
    start: datetime, end: datetime, *, town: str = "Raufoss", buffer: timedelta = BUFFER, who: str = LEIF
) -> calendar.FacilitatorBooking:
    return calendar.FacilitatorBooking(uuid.uuid4(), who, calendar.name_key(town), start, end, end + buffer)


def slot(start: datetime, end: datetime, town: str = "Raufoss") -> calendar.Slot:
    return calendar.Slot(start, end, town, "Sal 2")


def test_an_overlap_names_the_workshop_and_needs_no_travel_gap() -> None:
    other = booking(NINE, NINE + timedelta(hours=3))
    found = calendar.clashes(
        slot(NINE + timedelta(hours=2), NINE + timedelta(hours=4)),
        ["Ola@x.example", "Leif@NCE-SE.example"],
        calendar.Surroundings(facilitator_bookings=[other]),
        travel_buffer=BUFFER,
    )
    assert [r.field for r in found.reasons] == ["facilitators.1"]
    assert found.basis == ClashBasis(
        clashes=[
            DoubleBooking(
                code="facilitator_double_booked",
                field="facilitators.1",
                workshop_id=other.workshop_id,
                travel_gap_needed_minutes=None,
                travel_gap_minutes=None,
            )
        ]
    )


def test_after_a_workshop_in_another_town_the_gap_needed_is_that_workshops_own_buffer() -> None:
    earlier = booking(NINE, NINE + timedelta(hours=2), town="Halden", buffer=timedelta(minutes=120))
    found = calendar.clashes(
        slot(NINE + timedelta(hours=3), NINE + timedelta(hours=5)),
        [LEIF],
        calendar.Surroundings([earlier]),
        travel_buffer=BUFFER,
    )
    assert found.basis is not None
    (clash,) = found.basis.clashes
    assert (clash.workshop_id, clash.travel_gap_needed_minutes, clash.travel_gap_minutes) == (
        earlier.workshop_id,
        120,
        60,
    )


def test_before_a_workshop_in_another_town_the_gap_needed_is_the_travel_buffer_in_force() -> None:
    later = booking(NINE + timedelta(hours=2, minutes=30), NINE + timedelta(hours=5), town="Halden")
    found = calendar.clashes(
        slot(NINE, NINE + timedelta(hours=2)), [LEIF], calendar.Surroundings([later]), travel_buffer=BUFFER
    )
    assert found.basis is not None
    (clash,) = found.basis.clashes
    assert (clash.travel_gap_needed_minutes, clash.travel_gap_minutes) == (90, 30)


def test_a_gap_of_exactly_the_buffer_is_no_clash_and_gives_no_basis() -> None:
    later = booking(NINE + timedelta(hours=2, minutes=90), NINE + timedelta(hours=5), town="Halden")
    found = calendar.clashes(
        slot(NINE, NINE + timedelta(hours=2)), [LEIF], calendar.Surroundings([later]), travel_buffer=BUFFER
    )
    assert (found.reasons, found.basis) == ((), None)


def test_one_reason_per_facilitator_and_every_workshop_behind_it_then_the_venue() -> None:
    first = booking(NINE - timedelta(hours=1), NINE + timedelta(minutes=30))
    second = booking(NINE + timedelta(hours=2), NINE + timedelta(hours=4), town="Gjøvik")
    venue = uuid.uuid4()
    found = calendar.clashes(
        slot(NINE, NINE + timedelta(hours=2)),
        [LEIF],
        calendar.Surroundings(facilitator_bookings=[second, first], venue_workshops=[venue]),
        travel_buffer=BUFFER,
    )
    assert [(r.code, r.field) for r in found.reasons] == [
        ("facilitator_double_booked", "facilitators.0"),
        ("venue_double_booked", "location"),
    ]
    assert found.basis is not None
    assert [
        (c.code, c.workshop_id, c.travel_gap_needed_minutes, c.travel_gap_minutes) for c in found.basis.clashes
    ] == [
        ("facilitator_double_booked", first.workshop_id, None, None),
        ("facilitator_double_booked", second.workshop_id, 90, 0),
        ("venue_double_booked", venue, None, None),
    ]
