"""Tolerant readings of the workshops and funding events that applications acts on: unknown fields are ignored."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field, StrictInt

from shared.contract.base import AwareDatetime, TolerantEvent


class AttendanceRecorded(TolerantEvent):
    """Someone attended a workshop; only a clarification workshop with an organisation number matters here."""

    ce_type: ClassVar[str] = "workshops.AttendanceRecorded.v1"

    workshop_id: UUID
    registration_id: UUID | None = None
    kind: str
    organisation_number: str | None = None
    attended_at: AwareDatetime


# A granted amount is positive and fits the database's bigint; anything else is an unreadable event.
GrantedNOK = Annotated[StrictInt, Field(gt=0, lt=2**63)]


class FundingGranted(TolerantEvent):
    ce_type: ClassVar[str] = "funding.FundingGranted.v1"

    application_id: UUID
    amount_nok: GrantedNOK


class FundingDeclined(TolerantEvent):
    ce_type: ClassVar[str] = "funding.FundingDeclined.v1"

    application_id: UUID
    reason: str
