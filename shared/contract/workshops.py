"""The workshops service's part of the contract: its commands and the events it publishes.

Events carry ids and the organisation number, never a participant's name or e-mail: what goes
on Kafka cannot be erased, so personal data stays in the service's database (and in the
notification requests addressed to the person).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, StrictInt

from shared.contract.base import EARLIEST_YEAR, LATEST_YEAR, AwareDatetime, Command, Event, Template, within_years

WorkshopKind = Literal["clarification", "competence", "cluster_meeting"]
RegistrationStatus = Literal["confirmed", "waitlisted"]

_WIRE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$")


def _wire_time(value: object) -> object:
    """Only RFC 3339 text: no Unix numbers, no bare dates. A missing offset passes here: the domain refuses it."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _WIRE_TIME.fullmatch(value):
        msg = "a time is RFC 3339 text, YYYY-MM-DDTHH:MM:SS with an offset"
        raise ValueError(msg)
    return value


# A time as a command sends it. One without an offset is read, then refused as `invalid_time`
# with the rest of the command's reasons, rather than dead-lettered as unreadable.
WireTime = Annotated[
    datetime,
    BeforeValidator(_wire_time),
    AfterValidator(within_years),
    Field(
        description=f"RFC 3339 with an offset; a time without one, or outside the years {EARLIEST_YEAR} to "
        f"{LATEST_YEAR}, is refused with invalid_time"
    ),
]


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    town: str = Field(min_length=1, max_length=200)
    venue: str = Field(min_length=1, max_length=500)


class Participant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=500)
    email: EmailStr
    organisation_number: str | None = Field(default=None, max_length=50)


# commands (key: workshop_id, except EraseParticipantData)


class ScheduleWorkshop(Command):
    """Put a workshop on the programme."""

    ce_type: ClassVar[str] = "workshops.ScheduleWorkshop.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    kind: WorkshopKind
    title: str = Field(min_length=1, max_length=500)
    hosting_cluster: str = Field(min_length=1, max_length=200)
    location: Location
    starts_at: WireTime
    ends_at: WireTime
    capacity: StrictInt
    facilitators: list[Annotated[str, Field(min_length=1, max_length=320)]] = Field(max_length=50)


class RescheduleWorkshop(Command):
    """Move a workshop in time, and optionally to another place."""

    ce_type: ClassVar[str] = "workshops.RescheduleWorkshop.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    starts_at: WireTime
    ends_at: WireTime
    location: Location | None = None


class CancelWorkshop(Command):
    """Call a workshop off."""

    ce_type: ClassVar[str] = "workshops.CancelWorkshop.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    reason: str = Field(max_length=5_000)


class ChangeWorkshopCapacity(Command):
    """Set a workshop's number of seats."""

    ce_type: ClassVar[str] = "workshops.ChangeWorkshopCapacity.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    capacity: StrictInt


class RegisterParticipant(Command):
    """Register a person for a workshop: a seat when one is free, else a place on the waitlist."""

    ce_type: ClassVar[str] = "workshops.RegisterParticipant.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    registration_id: UUID
    participant: Participant


class CancelRegistration(Command):
    """Withdraw a registration or a waitlist place."""

    ce_type: ClassVar[str] = "workshops.CancelRegistration.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    registration_id: UUID


class RecordAttendance(Command):
    """Who came: the registrations that attended a workshop that has started."""

    ce_type: ClassVar[str] = "workshops.RecordAttendance.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    attended: list[UUID] = Field(min_length=1, max_length=1_000)


class EraseParticipantData(Command):
    """Erase a person's name and e-mail from every registration (key: the e-mail)."""

    ce_type: ClassVar[str] = "workshops.EraseParticipantData.v1"
    key_template: ClassVar[str] = "{email}"
    personal_key: ClassVar[bool] = True

    email: str = Field(min_length=1, max_length=320)


# events (key: workshop_id, except ParticipantDataErased: its erasure_id)


class LocationOut(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    town: str
    venue: str


class DoubleBooking(BaseModel):
    """One workshop a refused slot clashed with: a facilitator's other booking, or the venue's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Literal["facilitator_double_booked", "venue_double_booked"] = Field(description="the refusal's code")
    field: str = Field(description="the command's field the refusal names: facilitators.<index> or location")
    workshop_id: UUID = Field(description="the workshop it clashed with")
    travel_gap_needed_minutes: int | None = Field(
        description=(
            "for a facilitator booked in another town: the travel buffer the earlier of the two workshops "
            "needs after it, in minutes; null when the two overlap, and for the venue"
        )
    )
    travel_gap_minutes: int | None = Field(
        description="for a facilitator booked in another town: the time between the two workshops, in minutes"
    )


class ClashBasis(BaseModel):
    """The basis of a double-booking refusal (`CommandRejected.basis`): every workshop the slot clashed with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    clashes: list[DoubleBooking] = Field(description="facilitators' clashes in the command's order, then the venue's")


class WorkshopScheduled(Event):
    """A workshop was put on the programme; times in Europe/Oslo's offset."""

    ce_type: ClassVar[str] = "workshops.WorkshopScheduled.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    kind: WorkshopKind
    title: str
    hosting_cluster: str
    location: LocationOut
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: int
    facilitators: list[str]


class WorkshopRescheduled(Event):
    """A workshop moved; its participants were told and their reminders planned anew."""

    ce_type: ClassVar[str] = "workshops.WorkshopRescheduled.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    location: LocationOut
    previous_starts_at: AwareDatetime
    previous_ends_at: AwareDatetime


class WorkshopCancelled(Event):
    """A workshop was called off; its participants were told."""

    ce_type: ClassVar[str] = "workshops.WorkshopCancelled.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    reason: str


class WorkshopCapacityChanged(Event):
    """A workshop's number of seats changed; promotions from the waitlist follow as their own events."""

    ce_type: ClassVar[str] = "workshops.WorkshopCapacityChanged.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    capacity: int
    previous_capacity: int


class ParticipantRegistered(Event):
    """A registration got a seat."""

    ce_type: ClassVar[str] = "workshops.ParticipantRegistered.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    registration_id: UUID
    organisation_number: str | None


class ParticipantWaitlisted(Event):
    """A registration went on the waitlist, at a 1-based position."""

    ce_type: ClassVar[str] = "workshops.ParticipantWaitlisted.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    registration_id: UUID
    position: int
    organisation_number: str | None


class ParticipantPromoted(Event):
    """A waitlisted registration got a seat that was freed or added."""

    ce_type: ClassVar[str] = "workshops.ParticipantPromoted.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    registration_id: UUID
    organisation_number: str | None


class RegistrationCancelled(Event):
    """A registration or waitlist place was withdrawn."""

    ce_type: ClassVar[str] = "workshops.RegistrationCancelled.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    registration_id: UUID
    previous_status: RegistrationStatus


class AttendanceRecorded(Event):
    """A confirmed registration attended; the applications service waits for this on clarification workshops."""

    ce_type: ClassVar[str] = "workshops.AttendanceRecorded.v1"
    key_template: ClassVar[str] = "{workshop_id}"

    workshop_id: UUID
    registration_id: UUID
    kind: WorkshopKind
    hosting_cluster: str
    organisation_number: str | None
    attended_at: AwareDatetime


class ParticipantDataErased(Event):
    """Names and e-mails of a person's registrations were erased; the e-mail is not in the event."""

    ce_type: ClassVar[str] = "workshops.ParticipantDataErased.v1"
    key_template: ClassVar[str] = "{erasure_id}"

    erasure_id: UUID
    registrations: int


COMMANDS: tuple[type[Command], ...] = (
    ScheduleWorkshop,
    RescheduleWorkshop,
    CancelWorkshop,
    ChangeWorkshopCapacity,
    RegisterParticipant,
    CancelRegistration,
    RecordAttendance,
    EraseParticipantData,
)

PUBLISHED: tuple[type[Event], ...] = (
    WorkshopScheduled,
    WorkshopRescheduled,
    WorkshopCancelled,
    WorkshopCapacityChanged,
    ParticipantRegistered,
    ParticipantWaitlisted,
    ParticipantPromoted,
    RegistrationCancelled,
    AttendanceRecorded,
    ParticipantDataErased,
)

# notifications: a workshop's params name it, never the person (the recipient's e-mail is the one personal datum)

WORKSHOP_PARAMS = ("workshop_id", "kind", "title", "hosting_cluster", "town", "venue", "starts_at", "ends_at")
_REGISTRATION = (*WORKSHOP_PARAMS, "registration_id")
REGISTERED = Template("workshops.registered", "participant", _REGISTRATION)
WAITLISTED = Template("workshops.waitlisted", "participant", (*_REGISTRATION, "position"))
PROMOTED = Template("workshops.promoted", "participant", _REGISTRATION)
RESCHEDULED = Template(
    "workshops.rescheduled", "participant", (*_REGISTRATION, "previous_starts_at", "previous_ends_at")
)
CANCELLED = Template("workshops.cancelled", "participant", (*_REGISTRATION, "reason"))
REMINDER = Template("workshops.reminder", "participant", _REGISTRATION)
CLARIFICATION_INVITATION = Template(
    "workshops.clarification_invitation", "applicant", ("application_id", "lead_cluster", "workshops")
)

TEMPLATES: tuple[Template, ...] = (
    REGISTERED,
    WAITLISTED,
    PROMOTED,
    RESCHEDULED,
    CANCELLED,
    REMINDER,
    CLARIFICATION_INVITATION,
)
