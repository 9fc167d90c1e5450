"""Every code a service's `CommandRejected` can carry, with what it means: the catalogue integrators read.

The domain modules define the codes they return; this catalogue says them once per service, for
the exported schemas, the AsyncAPI documents and the integrators' page. A test keeps the two in
step: a code the domain returns and this catalogue lacks fails it.
"""

from __future__ import annotations

from typing import Final

# Every service refuses an unreadable command (no usable envelope, unknown type, data that fails the schema).
MALFORMED: Final = "malformed"
_MALFORMED_MEANING: Final = (
    "the command could not be read: broken envelope, unknown type, invalid JSON or data that fails its schema; "
    "`field` names the offending field where known; the record itself is in the service's DLQ topic"
)

REFUSAL_CODES: Final[dict[str, dict[str, str]]] = {
    "applications": {
        MALFORMED: _MALFORMED_MEANING,
        "invalid_organisation_number": "the organisation number is not 9 digits or its mod-11 check digit is wrong",
        "unknown_cluster": "the lead or a partner cluster is not a cluster of the programme",
        "lead_cluster_in_partners": "the lead cluster is also listed among the partner clusters",
        "not_sme": "a company project applied for by a large company (company projects are for SMEs)",
        "missing_why": "`why` is empty or shorter than 30 characters",
        "missing_what": "no objective, more than 10, or an objective without text",
        "missing_focus_area": "the focus areas name neither system_innovation nor productivity, or an unknown value",
        "invalid_budget": (
            "an amount is not a positive whole number of NOK, or requested or requested plus own contribution "
            "exceeds the total cost"
        ),
        "invalid_period": "the period ends before it starts, or lasts longer than 36 months",
        "duplicate_application": "an application with this id exists with other content",
        "already_submitted": "the same application was submitted before with the same content: nothing changed",
        "application_locked": "the application is ready for decision or further: it can no longer be amended",
        "unknown_application": "no application was submitted with this id",
        "application_closed": "the application is declined or withdrawn",
        "already_confirmed": "the management commitment was confirmed before: nothing changed",
    },
    "workshops": {
        MALFORMED: _MALFORMED_MEANING,
        "unknown_cluster": "the hosting cluster is not a cluster of the programme",
        "invalid_time": (
            "a time without an offset, an end not after the start, longer than the maximum days, "
            "or a start not after the command's ce_time"
        ),
        "invalid_capacity": "the capacity is outside the allowed range",
        "facilitator_double_booked": "a facilitator runs another workshop at an overlapping time",
        "venue_double_booked": "the venue is booked at an overlapping time",
        "duplicate_workshop": "a workshop with this id exists",
        "unknown_workshop": "no workshop was scheduled with this id",
        "workshop_closed": "the workshop is cancelled or finished",
        "capacity_below_registrations": "the new capacity is under the count of confirmed seats",
        "already_registered": "the e-mail holds an active registration or waitlist place at this workshop",
        "invalid_organisation_number": "the participant's organisation number is not 9 digits or its check digit fails",
        "unknown_registration": "no registration with this id at this workshop",
        "workshop_not_started": "attendance recorded before the workshop starts (the command's ce_time is earlier)",
        "attendance_already_recorded": "attendance was recorded before for every registration named: nothing changed",
    },
    "funding": {
        MALFORMED: _MALFORMED_MEANING,
        "invalid_amount": "the amount is missing (on a grant) or not a positive whole number of NOK",
        "duplicate_allocation": "this allocation id was applied before; an allocation counts once",
        "case_not_open": "no open funding case: never ready for decision, already decided, or withdrawn",
        "exceeds_requested": "the granted amount is more than the amount requested",
        "aid_intensity_exceeded": "the grant is more than the maximum aid intensity for the applicant's size class",
        "insufficient_budget": "the year's remaining budget cannot cover the grant, or no budget exists for the year",
        "de_minimis_exceeded": "the grant would take the organisation's aid over the de minimis cap in 3 years",
    },
}


def refusal_codes(service: str) -> dict[str, str]:
    """The codes a service's `CommandRejected` may carry, each with its meaning; KeyError for an unknown service."""
    return REFUSAL_CODES[service]
