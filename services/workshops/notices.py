"""The notifications the workshops service asks for: templates, recipients and their parameters.

Parameters name the workshop and the registration, never the person: the recipient's e-mail is
the only personal datum in a request. Times are given on the programme's clock (Europe/Oslo).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal
from uuid import UUID

from shared.outbox import Recorder
from workshops import domain
from workshops.repository import Registration

ParticipantNotice = Literal["registered", "waitlisted", "promoted", "rescheduled", "cancelled", "reminder"]
INVITATION = "workshops.clarification_invitation"


def workshop_params(workshop: domain.Workshop) -> dict[str, Any]:
    return {
        "workshop_id": str(workshop.workshop_id),
        "kind": workshop.kind,
        "title": workshop.title,
        "hosting_cluster": workshop.hosting_cluster,
        "town": workshop.town,
        "venue": workshop.venue,
        "starts_at": domain.local_time(workshop.starts_at).isoformat(),
        "ends_at": domain.local_time(workshop.ends_at).isoformat(),
    }


def tell_participant(
    out: Recorder,
    notice: ParticipantNotice,
    *,
    workshop: domain.Workshop,
    registration_id: UUID,
    email: str,
    **extra: Any,
) -> None:
    """One notification per registration and fact: the cause (command or reminder) seeds its id."""
    out.notify(
        audience="participant",
        template=f"workshops.{notice}",
        about=str(workshop.workshop_id),
        params={**workshop_params(workshop), "registration_id": str(registration_id), **extra},
        email=email,
        fact=str(registration_id),
    )


def tell_registration(
    out: Recorder, notice: ParticipantNotice, *, workshop: domain.Workshop, registration: Registration, **extra: Any
) -> None:
    """Tell the person behind a stored registration; an erased one has nobody left to tell."""
    if not registration.erased:
        tell_participant(
            out,
            notice,
            workshop=workshop,
            registration_id=registration.registration_id,
            email=registration.email,
            **extra,
        )


def invite_applicant(
    out: Recorder, *, application_id: UUID, email: str, lead_cluster: str, workshops: Sequence[domain.Workshop]
) -> None:
    """The upcoming clarification workshops, the lead cluster's first, to the applicant's contact."""
    out.notify(
        audience="applicant",
        template=INVITATION,
        about=str(application_id),
        params={
            "application_id": str(application_id),
            "lead_cluster": lead_cluster,
            "workshops": [workshop_params(w) for w in workshops],
        },
        email=email,
        fact=str(application_id),
    )
