"""Base models of the contract: commands, events, refusals and notification requests."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

NOK = Annotated[StrictInt, Field(description="whole Norwegian kroner")]


def _require_offset(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        msg = "a time must carry an offset (RFC 3339)"
        raise ValueError(msg)
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_require_offset)]
Date = date

# ASCII digits only: `\d` would also take other scripts' digits, which int() reads but no register issues.
ORGANISATION_NUMBER_PATTERN = re.compile(r"^[0-9]{9}$")
_MOD11_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def mod11_check_digit(first_eight: str) -> int | None:
    """The check digit for the first eight digits (weights 3 2 7 6 5 4 3 2); None when no digit can be valid."""
    remainder = sum(int(digit) * weight for digit, weight in zip(first_eight, _MOD11_WEIGHTS, strict=True)) % 11
    check = 0 if remainder == 0 else 11 - remainder
    return None if check == 10 else check  # noqa: PLR2004 - 10 means no valid check digit exists


def organisation_number_is_valid(number: str) -> bool:
    """Norway's 9-digit organisation number: the last digit is a mod-11 check digit."""
    if not ORGANISATION_NUMBER_PATTERN.fullmatch(number):
        return False
    return mod11_check_digit(number[:8]) == int(number[8])


class Message(BaseModel):
    """A message on the wire. ``ce_type`` is the CloudEvents type it travels as.

    ``key_template`` is the record key the contract gives the type, over its fields
    (``"{application_id}"``, ``"budget-{programme_year}"``); ``personal_key`` says the key names a
    person (an e-mail), so it never goes to a log.
    """

    ce_type: ClassVar[str]
    key_template: ClassVar[str]
    personal_key: ClassVar[bool] = False

    @classmethod
    def key_from(cls, data: Mapping[str, Any]) -> str:
        """The record key of a message of this type with this data; KeyError when the data lacks its field."""
        return cls.key_template.format_map(data)

    def record_key(self) -> str:
        return self.key_from(self.__dict__)


class Command(Message):
    """What another system asks of a service. Strict: a command with unknown fields is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=20_000)


class Event(Message):
    """A fact a service publishes. Producers write all fields; consumers read them tolerantly (`Route.read`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TolerantEvent(Message):
    """A consumer's reading of another service's event: unknown fields ignored, so additive changes never break it."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Reason(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    field: str | None = None
    message: str


class CommandRejected(Event):
    """The one answer to a command that a rule refused or that could not be read; ce_type set per service."""

    key_template: ClassVar[str] = "{subject}"

    command_id: str
    command_type: str
    subject: str
    reasons: list[Reason]


class Recipient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    email: str | None = None
    role: str | None = Field(default=None, description="case-handlers | programme-office | finance | cluster:<id>")


Audience = Literal["staff", "applicant", "participant"]


@dataclass(frozen=True, slots=True)
class Template:
    """A notification the programme asks for, as data: its name, who it is for, and the params it carries.

    ``role`` is the staff role it goes to; a template without one goes to the e-mail of the person
    the fact is about.
    """

    name: str
    audience: Audience
    params: tuple[str, ...]
    role: str | None = None


class NotificationRequested(Event):
    ce_type: ClassVar[str] = "programme.NotificationRequested.v1"

    notification_id: UUID
    audience: Literal["staff", "applicant", "participant"]
    recipient: Recipient
    template: str
    locale: Literal["nb"] = "nb"
    params: dict[str, Any]
    about: str

    def record_key(self) -> str:
        """The record key: the recipient's e-mail, else their role."""
        return self.recipient.email or self.recipient.role or self.about
