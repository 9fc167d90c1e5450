"""Reminders: planned when a seat is confirmed or the workshop moves, settled when due (sent while they still stand)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, NamedTuple
from uuid import UUID

from shared.contract import workshops as contract
from shared.outcome import NOTHING, Outcome
from workshops.domain.calendar import Workshop
from workshops.domain.notices import tell

if TYPE_CHECKING:
    from workshops.domain.registrations import Registration

Settled = Literal["sent", "withdrawn"]


class Planned(NamedTuple):
    """A reminder to send: the registration's, when it is due."""

    registration_id: UUID
    due_at: datetime


class DueReminder(NamedTuple):
    """A planned reminder whose time has come: the registration's, for the schedule version it was planned for."""

    registration_id: UUID
    plan_version: int

    @property
    def fact(self) -> str:
        """Names the reminder: what settling it records derives its ids from this, so it is recorded once."""
        return f"reminder/{self.registration_id}/{self.plan_version}"


def due(*, starts_at: datetime, confirmed_at: datetime, lead: timedelta) -> datetime | None:
    """When to remind: ``lead`` before start; none when confirmed at or after that (the confirmation said it)."""
    at = starts_at - lead
    return at if confirmed_at < at else None


def plan(workshop: Workshop, confirmed: Sequence[tuple[UUID, datetime]], *, lead: timedelta) -> tuple[Planned, ...]:
    """A reminder for each (registration, confirmed at) that was confirmed before it would be due."""
    return tuple(
        Planned(registration_id, at)
        for registration_id, confirmed_at in confirmed
        if (at := due(starts_at=workshop.starts_at, confirmed_at=confirmed_at, lead=lead)) is not None
    )


def sendable(reminder: DueReminder, registration: Registration, workshop: Workshop) -> bool:
    """A reminder still stands while its seat is confirmed and its person not erased, and the workshop as planned."""
    return (
        registration.status == "confirmed"
        and not registration.erased
        and not workshop.cancelled
        and workshop.schedule_version == reminder.plan_version
    )


def settle(reminder: DueReminder, registration: Registration | None, workshop: Workshop | None) -> Outcome[Settled]:
    """A due reminder is sent while it still stands, else withdrawn; None when its registration is gone."""
    if registration is None or workshop is None:
        return NOTHING
    if not sendable(reminder, registration, workshop):
        return Outcome("withdrawn")
    return Outcome("sent", tell(contract.REMINDER, workshop, registration))
