"""What is where, when: workshops, their slots, and the rules of time, capacity and double booking. Pure, no I/O.

Times are compared as instants (offset-aware), so a wall-clock hour that happens twice in
October or not at all in March never confuses an overlap. The programme's own clock,
Europe/Oslo, counts the days of a workshop's length and is the offset events are written in.
Intervals are half-open: a workshop ending at 12:00 and one starting at 12:00 do not clash.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from uuid import UUID
from zoneinfo import ZoneInfo

from shared.contract.base import Reason
from shared.contract.workshops import ClashBasis, DoubleBooking, WorkshopKind
from workshops.domain.policy import Policy

OSLO: Final = ZoneInfo("Europe/Oslo")
MAX_LENGTH_DAYS: Final = 3
MIN_CAPACITY: Final = 1
MAX_CAPACITY: Final = 1000

# Refusal codes: the contract's words.
UNKNOWN_CLUSTER: Final = "unknown_cluster"
INVALID_TIME: Final = "invalid_time"
INVALID_CAPACITY: Final = "invalid_capacity"
FACILITATOR_DOUBLE_BOOKED: Final = "facilitator_double_booked"
VENUE_DOUBLE_BOOKED: Final = "venue_double_booked"
DUPLICATE_WORKSHOP: Final = "duplicate_workshop"
UNKNOWN_WORKSHOP: Final = "unknown_workshop"
WORKSHOP_CLOSED: Final = "workshop_closed"
CAPACITY_BELOW_REGISTRATIONS: Final = "capacity_below_registrations"


def name_key(text: str) -> str:
    """How names of towns, venues and facilitators compare: case and spacing do not matter."""
    return " ".join(text.split()).casefold()


def distinct_facilitators(facilitators: Iterable[str]) -> tuple[str, ...]:
    """Each facilitator once, by key, in the order given."""
    seen: dict[str, None] = {}
    for facilitator in facilitators:
        seen.setdefault(name_key(facilitator), None)
    return tuple(seen)


@dataclass(frozen=True, slots=True)
class Slot:
    """Where and when a workshop would take place."""

    starts_at: datetime
    ends_at: datetime
    town: str
    venue: str

    @property
    def town_key(self) -> str:
        return name_key(self.town)

    @property
    def venue_key(self) -> str:
        return name_key(self.venue)

    def moved(self, *, starts_at: datetime, ends_at: datetime, town: str | None, venue: str | None) -> Slot:
        """The slot at another time, and in another place when one is given."""
        return Slot(starts_at, ends_at, town or self.town, venue or self.venue)


@dataclass(frozen=True, slots=True)
class FacilitatorBooking:
    """Another workshop's hold on a facilitator: its time, its town, and until when travel from it takes."""

    workshop_id: UUID
    facilitator: str
    town_key: str
    starts_at: datetime
    ends_at: datetime
    travel_ends_at: datetime


@dataclass(frozen=True, slots=True)
class Surroundings:
    """What else holds a slot's facilitators and venue near its time."""

    facilitator_bookings: Sequence[FacilitatorBooking] = ()
    venue_workshops: Sequence[UUID] = ()


@dataclass(frozen=True, slots=True)
class Workshop:
    workshop_id: UUID
    kind: WorkshopKind
    title: str
    hosting_cluster: str
    town: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    seats_taken: int
    facilitators: tuple[str, ...]
    cancelled: bool
    schedule_version: int

    def is_finished(self, now: datetime) -> bool:
        return self.ends_at < now

    def has_started(self, now: datetime) -> bool:
        return self.starts_at <= now

    @property
    def has_free_seat(self) -> bool:
        return self.seats_taken < self.capacity

    @property
    def slot(self) -> Slot:
        return Slot(self.starts_at, self.ends_at, self.town, self.venue)


# time


def is_aware(at: datetime) -> bool:
    return at.tzinfo is not None and at.utcoffset() is not None


def local_time(at: datetime) -> datetime:
    """The same instant on the programme's clock."""
    return at.astimezone(OSLO)


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Strict overlap of half-open intervals: touching ends do not overlap."""
    return a_start < b_end and b_start < a_end


def latest_end(starts_at: datetime) -> datetime:
    """Three calendar days on Europe/Oslo's clock: across a daylight-saving change that is 71 or 73 hours."""
    return (local_time(starts_at) + timedelta(days=MAX_LENGTH_DAYS)).astimezone(UTC)


def bookable(slot: Slot, *, now: datetime) -> bool:
    """Its times break no rule: only then are its facilitators and venue looked up for clashes."""
    return not time_refusals(slot.starts_at, slot.ends_at, now=now)


def time_refusals(starts_at: datetime, ends_at: datetime, *, now: datetime) -> list[Reason]:
    """Every way the times break the rules: an offset each, end after start, at most 3 days, start after now."""
    reasons = [
        Reason(code=INVALID_TIME, field=name, message="a time must carry an offset (RFC 3339)")
        for name, value in (("starts_at", starts_at), ("ends_at", ends_at))
        if not is_aware(value)
    ]
    if reasons:
        return reasons
    if ends_at <= starts_at:
        reasons.append(Reason(code=INVALID_TIME, field="ends_at", message="the end must be after the start"))
    elif ends_at > latest_end(starts_at):
        reasons.append(
            Reason(code=INVALID_TIME, field="ends_at", message=f"a workshop lasts at most {MAX_LENGTH_DAYS} days")
        )
    if starts_at <= now:
        reasons.append(
            Reason(code=INVALID_TIME, field="starts_at", message="the start must be after the command's time")
        )
    return reasons


# scheduling


def capacity_refusals(capacity: int) -> list[Reason]:
    if MIN_CAPACITY <= capacity <= MAX_CAPACITY:
        return []
    message = f"capacity must be {MIN_CAPACITY} to {MAX_CAPACITY}"
    return [Reason(code=INVALID_CAPACITY, field="capacity", message=message)]


def cluster_refusals(hosting_cluster: str, policy: Policy) -> list[Reason]:
    if hosting_cluster in policy.clusters:
        return []
    return [Reason(code=UNKNOWN_CLUSTER, field="hosting_cluster", message="not a cluster of the programme")]


@dataclass(frozen=True, slots=True)
class TravelGap:
    """Between a facilitator's workshops in two towns: the buffer the earlier one needs, and the time there is."""

    needed: timedelta
    found: timedelta

    @property
    def too_short(self) -> bool:
        return self.found < self.needed


@dataclass(frozen=True, slots=True)
class BookingClash:
    """A facilitator's other booking that a slot clashes with; ``gap`` when the two do not overlap but are too close."""

    booking: FacilitatorBooking
    gap: TravelGap | None


def travel_gap(slot: Slot, booking: FacilitatorBooking, *, travel_buffer: timedelta) -> TravelGap:
    """The gap between a slot and a booking that do not overlap; the earlier workshop's buffer counts:
    the booking's own (kept with it), or this slot's."""
    if booking.ends_at <= slot.starts_at:
        return TravelGap(booking.travel_ends_at - booking.ends_at, slot.starts_at - booking.ends_at)
    return TravelGap(travel_buffer, booking.starts_at - slot.ends_at)


def facilitator_clash(slot: Slot, booking: FacilitatorBooking, *, travel_buffer: timedelta) -> BookingClash | None:
    """Overlapping anywhere, or in another town with less than the travel buffer between the two."""
    if overlaps(slot.starts_at, slot.ends_at, booking.starts_at, booking.ends_at):
        return BookingClash(booking, None)
    if booking.town_key == slot.town_key:
        return None
    gap = travel_gap(slot, booking, travel_buffer=travel_buffer)
    return BookingClash(booking, gap) if gap.too_short else None


def facilitator_clashes(slot: Slot, booking: FacilitatorBooking, *, travel_buffer: timedelta) -> bool:
    return facilitator_clash(slot, booking, travel_buffer=travel_buffer) is not None


@dataclass(frozen=True, slots=True)
class Clashes:
    """What double-books a slot: one reason per facilitator and one for the venue, and the workshops behind them."""

    reasons: tuple[Reason, ...] = ()
    basis: ClashBasis | None = None


def clashes(slot: Slot, facilitators: Sequence[str], around: Surroundings, *, travel_buffer: timedelta) -> Clashes:
    """Every facilitator's and the venue's clash with other workshops: the refusal's reasons and its basis."""
    wanted = set(distinct_facilitators(facilitators))
    found = [
        clash
        for booking in around.facilitator_bookings
        if booking.facilitator in wanted
        and (clash := facilitator_clash(slot, booking, travel_buffer=travel_buffer)) is not None
    ]
    found.sort(key=lambda c: (_index_of(facilitators, c.booking.facilitator), c.booking.starts_at))
    reasons: list[Reason] = []
    basis: list[DoubleBooking] = []
    for clash in found:
        field = f"facilitators.{_index_of(facilitators, clash.booking.facilitator)}"
        if field not in {r.field for r in reasons}:
            message = "the facilitator has another workshop at that time, or too close to it to travel"
            reasons.append(Reason(code=FACILITATOR_DOUBLE_BOOKED, field=field, message=message))
        basis.append(
            DoubleBooking(
                code=FACILITATOR_DOUBLE_BOOKED,
                field=field,
                workshop_id=clash.booking.workshop_id,
                travel_gap_needed_minutes=None if clash.gap is None else _minutes(clash.gap.needed),
                travel_gap_minutes=None if clash.gap is None else _minutes(clash.gap.found),
            )
        )
    if around.venue_workshops:
        reasons.append(
            Reason(code=VENUE_DOUBLE_BOOKED, field="location", message="the venue is booked at an overlapping time")
        )
        basis += [
            DoubleBooking(
                code=VENUE_DOUBLE_BOOKED,
                field="location",
                workshop_id=workshop_id,
                travel_gap_needed_minutes=None,
                travel_gap_minutes=None,
            )
            for workshop_id in around.venue_workshops
        ]
    return Clashes(tuple(reasons), ClashBasis(clashes=basis) if basis else None)


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


def _index_of(facilitators: Sequence[str], key: str) -> int:
    return next((i for i, name in enumerate(facilitators) if name_key(name) == key), 0)


def schedule_refusals(
    *,
    exists: bool,
    hosting_cluster: str,
    capacity: int,
    timing: Sequence[Reason],
    clashes: Sequence[Reason],
    policy: Policy,
) -> list[Reason]:
    """Every reason a new workshop is refused; ``timing`` and ``clashes`` are checked by the caller first."""
    reasons: list[Reason] = []
    if exists:
        reasons.append(Reason(code=DUPLICATE_WORKSHOP, field="workshop_id", message="a workshop with this id exists"))
    reasons += cluster_refusals(hosting_cluster, policy)
    reasons += timing
    reasons += capacity_refusals(capacity)
    reasons += clashes
    return reasons


def open_workshop_refusals(workshop: Workshop | None, *, now: datetime) -> list[Reason]:
    """A workshop that can still change: known, not cancelled, not finished."""
    if workshop is None:
        return [Reason(code=UNKNOWN_WORKSHOP, field="workshop_id", message="no workshop with this id")]
    if workshop.cancelled:
        return [Reason(code=WORKSHOP_CLOSED, field="workshop_id", message="the workshop is cancelled")]
    if workshop.is_finished(now):
        return [Reason(code=WORKSHOP_CLOSED, field="workshop_id", message="the workshop has finished")]
    return []


def capacity_change_refusals(workshop: Workshop | None, capacity: int, *, now: datetime) -> list[Reason]:
    reasons = open_workshop_refusals(workshop, now=now) + capacity_refusals(capacity)
    if workshop is not None and capacity < workshop.seats_taken:
        reasons.append(
            Reason(
                code=CAPACITY_BELOW_REGISTRATIONS,
                field="capacity",
                message=f"{workshop.seats_taken} seats are taken",
            )
        )
    return reasons


_LOST_RACE: Final = {
    FACILITATOR_DOUBLE_BOOKED: ("facilitators", "a facilitator was booked by another command at the same moment"),
    VENUE_DOUBLE_BOOKED: ("location", "the venue was booked by another command at the same moment"),
    DUPLICATE_WORKSHOP: ("workshop_id", "a workshop with this id was scheduled at the same moment"),
}


def lost_race(code: str) -> Reason:
    """The refusal for a booking rule that only the database caught: a racing command won."""
    field, message = _LOST_RACE[code]
    return Reason(code=code, field=field, message=message)
