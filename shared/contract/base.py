"""Base models of the contract: commands, events, refusals and notification requests."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, Self
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, ValidationError, model_validator
from pydantic_core import PydanticCustomError

# Values at the edges. What Postgres or Python cannot hold would otherwise fail in the middle of a
# transaction (a bigint overflow, a NUL in text, a year 9999 moved to UTC) and be retried as if it
# might pass. They are refused while the command is read, with the code the contract gives the rule
# (an amount, a time) or as malformed (text). The bounds are rules, not shapes: like every rule
# with a refusal code they are not in the exported schema, whose descriptions say them.
MAX_NOK = 10**15  # far beyond any budget (a domain may cap lower), and sums of it stay far inside bigint
# The upper bound leaves a day of room: any offset still moves the time to UTC inside the calendar.
EARLIEST_YEAR, LATEST_YEAR = 1900, 9998
INVALID_AMOUNT = "invalid_amount"
INVALID_BUDGET = "invalid_budget"
INVALID_TIME = "invalid_time"
# The refusal codes a command's schema may raise; a command refused only for these gets its
# refusal alone, like any rule's, and is not dead-lettered as unreadable.
READ_RULES = frozenset({INVALID_AMOUNT, INVALID_BUDGET, INVALID_TIME})
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def _amount_within(code: str) -> AfterValidator:
    def check(value: int) -> int:
        if not -MAX_NOK <= value <= MAX_NOK:
            raise PydanticCustomError(code, "an amount is at most {limit} NOK either way", {"limit": MAX_NOK})
        return value

    return AfterValidator(check)


_AMOUNT_TEXT = f"whole Norwegian kroner, at most {MAX_NOK} either way"
NOK = Annotated[StrictInt, _amount_within(INVALID_AMOUNT), Field(description=_AMOUNT_TEXT)]
# An application's budget line: out of range it is refused as the budget rule's (`invalid_budget`).
BudgetNOK = Annotated[StrictInt, _amount_within(INVALID_BUDGET), Field(description=_AMOUNT_TEXT)]


def within_years(value: datetime) -> datetime:
    """A time between the years the programme can mean; beyond them it is refused as `invalid_time`.

    A year 9999 with a negative offset cannot even be moved to UTC.
    """
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise PydanticCustomError(
            INVALID_TIME,
            "a time must fall in the years {earliest} to {latest}",
            {"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR},
        )
    return value


def _require_offset(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        msg = "a time must carry an offset (RFC 3339)"
        raise ValueError(msg)
    return value


AwareDatetime = Annotated[
    datetime,
    AfterValidator(_require_offset),
    AfterValidator(within_years),
    Field(description=f"RFC 3339 with an offset, in the years {EARLIEST_YEAR} to {LATEST_YEAR}"),
]
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
    """What another system asks of a service. Strict: a command with unknown fields is refused.

    No text anywhere in it, nested parts included, may hold a NUL character or a lone surrogate:
    Postgres stores neither, and such a command would fail at its first write instead of being refused.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=20_000)

    @model_validator(mode="after")
    def _storable_text(self) -> Self:
        for path, text in _texts(self, ()):
            if _NOT_TEXT.search(text):
                raise PydanticCustomError(
                    "string_not_storable",
                    "text at {field} holds a NUL character or a lone surrogate",
                    {"field": ".".join(path) or "<root>"},
                )
        return self


def _texts(value: object, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every string in a validated value, with the path to it."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, BaseModel):
        for name, item in value.__dict__.items():
            yield from _texts(item, (*path, name))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _texts(key, path)
            yield from _texts(item, (*path, str(key)))
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            yield from _texts(item, (*path, str(index)))


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


def read_rule_refusals(error: ValidationError) -> tuple[Reason, ...]:
    """The refusals when every error in reading a command is a rule's (an amount, a time); else none."""
    errors = error.errors(include_url=False, include_input=False)
    if not errors or any(e["type"] not in READ_RULES for e in errors):
        return ()
    return tuple(
        Reason(code=e["type"], field=".".join(str(part) for part in e["loc"]) or None, message=e["msg"][:300])
        for e in errors
    )


class CommandRejected(Event):
    """The one answer to a command that a rule refused or that could not be read; ce_type set per service."""

    key_template: ClassVar[str] = "{subject}"

    command_id: str
    command_type: str
    subject: str
    reasons: list[Reason]
    # One shared refusal type for every command, so its basis is an object whose shape the command's
    # service documents (typed there); absent (null) when no rule on figures refused.
    basis: dict[str, Any] | None = Field(
        default=None,
        description=(
            "The figures the refusing rules used, for explaining the refusal; null when no rule on figures "
            "refused. funding.DecideFunding: a DecisionBasis, as on funding.FundingGranted. "
            "workshops.ScheduleWorkshop and workshops.RescheduleWorkshop refused as double-booked: a "
            "ClashBasis, {clashes: [{code, field, workshop_id, travel_gap_needed_minutes, "
            "travel_gap_minutes}]}, one entry per workshop the slot clashed with."
        ),
    )


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
