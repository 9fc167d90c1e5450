"""Other services' events as the workshops service reads them: tolerant, only the fields it needs."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.contract.base import TolerantEvent


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Contact(_Tolerant):
    email: str = Field(min_length=1, max_length=320)


class Applicant(_Tolerant):
    organisation_number: str = Field(min_length=1, max_length=50)
    contact: Contact


class ApplicationSubmitted(TolerantEvent):
    """`applications.ApplicationSubmitted.v1`: who applied, whom to write to, and the lead cluster."""

    ce_type: ClassVar[str] = "applications.ApplicationSubmitted.v1"

    application_id: UUID
    applicant: Applicant
    lead_cluster: str = Field(min_length=1, max_length=200)
