"""The invitation on a submitted application: the upcoming clarification workshops, the lead cluster's first. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from shared.contract import workshops as contract
from shared.contract.applications import ApplicationSubmitted
from shared.outcome import NOTHING, Notice, Outcome
from workshops.domain.calendar import Workshop
from workshops.domain.notices import workshop_params


def invitation_order(workshops: Iterable[Workshop], *, lead_cluster: str) -> list[Workshop]:
    """The lead cluster's workshops first, then the rest; each part by start."""
    return sorted(workshops, key=lambda w: (w.hosting_cluster != lead_cluster, w.starts_at, str(w.workshop_id)))


def invite(submitted: ApplicationSubmitted, *, attended: bool, upcoming: Sequence[Workshop]) -> Outcome[Any]:
    """An applicant whose company has attended no clarification workshop is told of the upcoming ones.

    It is sent even when none is scheduled: the applicant learns that one is needed.
    """
    if attended:
        return NOTHING
    listed = invitation_order(upcoming, lead_cluster=submitted.lead_cluster)
    notice = Notice(
        contract.CLARIFICATION_INVITATION,
        about=str(submitted.application_id),
        params={
            "application_id": str(submitted.application_id),
            "lead_cluster": submitted.lead_cluster,
            "workshops": [workshop_params(w) for w in listed],
        },
        email=submitted.applicant.contact.email,
        fact=str(submitted.application_id),
    )
    return Outcome(messages=(notice,))
