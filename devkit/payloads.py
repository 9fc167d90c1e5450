"""Payloads of the applications service's commands, valid unless a test changes them."""

from __future__ import annotations

import uuid
from typing import Any

from devkit.ids import organisation_number


def submission(organisation: str | None = None, **changes: Any) -> dict[str, Any]:
    """A valid SubmitApplication: a new application id, and a new company unless one is given."""
    data: dict[str, Any] = {
        "application_id": str(uuid.uuid4()),
        "applicant": {
            "organisation_number": organisation or organisation_number(),
            "name": "Kongsberg Maritim Teknikk AS",
            "size": "small",
            "contact": {"name": "Kari Nordmann", "email": "kari@example.no"},
        },
        "lead_cluster": "nce-systems-engineering",
        "partner_clusters": ["nce-raufoss"],
        "project_type": "company_project",
        "title": "Digital twin for the machining line",
        "why": "Our machining line loses a fifth of its capacity to unplanned stops.",
        "what": [{"objective": "Fewer stops", "indicator": "unplanned stops per month", "target": "-50 %"}],
        "how": None,
        "focus_areas": ["system_innovation", "digitalisation"],
        "budget": {"total_cost_nok": 2_000_000, "requested_nok": 800_000, "own_contribution_nok": 1_200_000},
        "period": {"start": "2027-01-01", "end": "2027-12-31"},
        "management_sponsor": {"name": "Ola Nordmann", "role": "CEO", "email": "ola@example.no"},
    }
    data.update(changes)
    return data
