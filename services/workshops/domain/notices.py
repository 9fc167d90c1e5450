"""The notifications a workshop's participants get: its params, and the person behind a registration as recipient.

Parameters name the workshop and the registration, never the person: the recipient's e-mail is
the only personal datum in a request. Times are given on the programme's clock (Europe/Oslo).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.contract.base import Template
from shared.outcome import Notice
from workshops.domain.calendar import Workshop, local_time

if TYPE_CHECKING:
    from workshops.domain.registrations import Registration


def workshop_params(workshop: Workshop) -> dict[str, Any]:
    return {
        "workshop_id": str(workshop.workshop_id),
        "kind": workshop.kind,
        "title": workshop.title,
        "hosting_cluster": workshop.hosting_cluster,
        "town": workshop.town,
        "venue": workshop.venue,
        "starts_at": local_time(workshop.starts_at).isoformat(),
        "ends_at": local_time(workshop.ends_at).isoformat(),
    }


def tell(template: Template, workshop: Workshop, registration: Registration, **extra: Any) -> tuple[Notice, ...]:
    """One notification per registration and fact (the cause seeds its id); an erased one has nobody left to tell."""
    if registration.erased:
        return ()
    notice = Notice(
        template,
        about=str(workshop.workshop_id),
        params={**workshop_params(workshop), "registration_id": str(registration.registration_id), **extra},
        email=registration.email,
        fact=str(registration.registration_id),
    )
    return (notice,)
