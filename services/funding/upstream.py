"""Tolerant readings of the applications service's events that funding acts on: unknown fields are ignored."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field, StrictInt

from shared.contract.base import TolerantEvent

PositiveNOK = Annotated[StrictInt, Field(gt=0)]


class ApplicationReadyForDecision(TolerantEvent):
    ce_type: ClassVar[str] = "applications.ApplicationReadyForDecision.v1"

    application_id: UUID
    organisation_number: str
    applicant_name: str
    size: str
    lead_cluster: str
    project_type: str
    title: str
    requested_nok: PositiveNOK
    total_cost_nok: PositiveNOK


class ApplicationWithdrawn(TolerantEvent):
    ce_type: ClassVar[str] = "applications.ApplicationWithdrawn.v1"

    application_id: UUID
    reason: str | None = None
