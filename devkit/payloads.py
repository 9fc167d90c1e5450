"""Valid payloads of the programme's commands, one builder a command: fresh ids, and any field changed by keyword."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from devkit.ids import email, organisation_number

OSLO = ZoneInfo("Europe/Oslo")
# A plan (`how`): without one an application never becomes ready for decision.
PLAN = "A digital twin of the machining line, built in three steps with the cluster."


def submit_application(organisation: str | None = None, **changes: Any) -> dict[str, Any]:
    """A valid SubmitApplication: a new application id, a new company unless one is given, no plan yet."""
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


def confirm_management_commitment(
    application_id: str, *, confirmed_at: datetime | None = None, name: str = "Ola Nordmann"
) -> dict[str, Any]:
    """The management's commitment to the application, confirmed now unless a time is given."""
    return {
        "application_id": application_id,
        "confirmed_by": {"name": name, "role": "CEO"},
        "confirmed_at": (confirmed_at or datetime.now(UTC)).isoformat(),
    }


def morning(days_ahead: int = 30) -> datetime:
    """09:00 in Oslo, some days from now: a time commands sent now may schedule."""
    day = (datetime.now(OSLO) + timedelta(days=days_ahead)).date()
    return datetime(day.year, day.month, day.day, 9, tzinfo=OSLO)


def schedule_workshop(start: datetime | None = None, end: datetime | None = None, **changes: Any) -> dict[str, Any]:
    """A valid ScheduleWorkshop: a clarification workshop at Raufoss in a fresh venue with a fresh facilitator.

    It starts 30 days ahead at 09:00 unless `start` is given, and lasts three hours unless `end` is.
    """
    starts_at = start or morning()
    data: dict[str, Any] = {
        "workshop_id": str(uuid.uuid4()),
        "kind": "clarification",
        "title": "Why before how",
        "hosting_cluster": "nce-raufoss",
        "location": {"town": "Raufoss", "venue": f"Sal {uuid.uuid4().hex[:8]}"},
        "starts_at": starts_at.isoformat(),
        "ends_at": (end or starts_at + timedelta(hours=3)).isoformat(),
        "capacity": 25,
        "facilitators": [email("facilitator")],
    }
    data.update(changes)
    return data


def register_participant(
    workshop_id: str,
    *,
    registration_id: str | None = None,
    organisation: str | None = None,
    person: str | None = None,
) -> dict[str, Any]:
    """Someone registers for the workshop: a fresh registration and e-mail unless given; a company if given."""
    participant: dict[str, Any] = {"name": "Kari Nordmann", "email": person or email()}
    if organisation is not None:
        participant["organisation_number"] = organisation
    return {
        "workshop_id": workshop_id,
        "registration_id": registration_id or str(uuid.uuid4()),
        "participant": participant,
    }


def record_attendance(workshop_id: str, registrations: list[str]) -> dict[str, Any]:
    return {"workshop_id": workshop_id, "attended": registrations}


def allocate_budget(
    programme_year: int, amount_nok: int, *, allocation_id: str | None = None, source: str | None = None
) -> dict[str, Any]:
    """Money for a programme year, under a fresh allocation id unless one is given."""
    return {
        "allocation_id": allocation_id or str(uuid.uuid4()),
        "programme_year": programme_year,
        "amount_nok": amount_nok,
        "source": source or "statsbudsjettet kap. 2421 post 76",
    }


def decide_funding(
    application_id: str, *, outcome: str = "grant", amount_nok: int | None = None, **changes: Any
) -> dict[str, Any]:
    """A case handler's decision: a grant (of the amount, when given) or a decline, with a reason fitting it."""
    data: dict[str, Any] = {
        "application_id": application_id,
        "outcome": outcome,
        "reason": "strong restructuring case" if outcome == "grant" else "too little systems innovation",
        "decided_by": "case-handler-17",
    }
    if amount_nok is not None:
        data["amount_nok"] = amount_nok
    data.update(changes)
    return data


# the follow-up of a grant


def accept_grant(
    application_id: str, *, accepted_at: datetime | None = None, name: str = "Ola Nordmann"
) -> dict[str, Any]:
    """The company's acceptance of its grant, now unless a time is given."""
    return {
        "application_id": application_id,
        "accepted_by": {"name": name, "role": "CEO"},
        "accepted_at": (accepted_at or datetime.now(UTC)).isoformat(),
    }


def approve_payment(application_id: str, *, kind: str, documented_costs_nok: int, **changes: Any) -> dict[str, Any]:
    """Staff's approval of a payment (`interim` or `final`) against the costs documented so far, under a fresh id."""
    data: dict[str, Any] = {
        "payment_id": str(uuid.uuid4()),
        "application_id": application_id,
        "kind": kind,
        "documented_costs_nok": documented_costs_nok,
        "approved_by": "case-handler-17",
    }
    data.update(changes)
    return data


def submit_progress_report(application_id: str, **changes: Any) -> dict[str, Any]:
    """A progress report, under a fresh report id, on the indicator `submit_application` names."""
    data: dict[str, Any] = {
        "report_id": str(uuid.uuid4()),
        "application_id": application_id,
        "period_to": "2027-06-30",
        "summary": "Half the machines are modelled.",
        "indicators": [{"indicator": "unplanned stops per month", "value": "-20 %"}],
    }
    data.update(changes)
    return data


def submit_final_report(application_id: str, **changes: Any) -> dict[str, Any]:
    """A final report with a result for the indicator `submit_application` names."""
    data: dict[str, Any] = {
        "application_id": application_id,
        "summary": "The twin runs on every machine.",
        "results": [{"indicator": "unplanned stops per month", "achieved": "-55 %"}],
        "effects": "Two new hires in maintenance.",
    }
    data.update(changes)
    return data


def accept_final_report(application_id: str, *, accepted_by: str = "case-handler-17") -> dict[str, Any]:
    return {"application_id": application_id, "accepted_by": accepted_by}
