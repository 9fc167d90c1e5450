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
        "project_not_running": "the project is not running: its grant is not accepted yet, or it lapsed, was "
        "withdrawn or completed",
        "unknown_indicator": "a result or value names an indicator that is not among the application's `what`",
        "missing_result": "the final report lacks a result for an indicator of the application's `what`",
        "duplicate_result": "the final report gives more than one result for one indicator",
        "no_final_report": "no final report waits for review: none was submitted, or it was accepted or returned",
        "duplicate_report": "a progress report with this `report_id` exists with other content",
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
        "unknown_grant": "no grant was decided for this application",
        "grant_not_open": "the grant lapsed, was withdrawn or is closed",
        "already_accepted": "the grant was accepted before: nothing changed",
        "acceptance_period_over": "the command's ce_time is past the grant's acceptance deadline",
        "grant_not_accepted": "the grant is not accepted yet: no payment before acceptance",
        "interim_cap_reached": "nothing is payable under the interim cap (75 % of the grant unless configured)",
        "final_report_not_accepted": "a final payment waits for the project's accepted final report",
        "duplicate_payment": "this payment id was used before with other content",
    },
}


def refusal_codes(service: str) -> dict[str, str]:
    """The codes a service's `CommandRejected` may carry, with their meanings; an unlisted service has `malformed`."""
    return REFUSAL_CODES.get(service, {MALFORMED: _MALFORMED_MEANING})


# Which codes each command can get, besides `malformed` (every command can): read off the domain's rules.
_CONTENT: Final = (
    "invalid_organisation_number",
    "unknown_cluster",
    "lead_cluster_in_partners",
    "not_sme",
    "missing_why",
    "missing_what",
    "missing_focus_area",
    "invalid_budget",
    "invalid_period",
)
_CHANGES: Final = ("missing_why", "missing_what", "missing_focus_area", "invalid_budget", "invalid_period")
_TIMES: Final = ("invalid_time", "facilitator_double_booked", "venue_double_booked")
_OPEN_WORKSHOP: Final = ("unknown_workshop", "workshop_closed")

BY_COMMAND: Final[dict[str, tuple[str, ...]]] = {
    "applications.SubmitApplication.v1": (*_CONTENT, "duplicate_application", "already_submitted"),
    "applications.AmendApplication.v1": ("unknown_application", "application_locked", *_CHANGES),
    "applications.ConfirmManagementCommitment.v1": ("unknown_application", "application_closed", "already_confirmed"),
    "applications.WithdrawApplication.v1": ("unknown_application", "application_closed"),
    "applications.SubmitProgressReport.v1": (
        "unknown_application",
        "project_not_running",
        "unknown_indicator",
        "duplicate_report",
        "already_submitted",
    ),
    "applications.SubmitFinalReport.v1": (
        "unknown_application",
        "project_not_running",
        "unknown_indicator",
        "missing_result",
        "duplicate_result",
        "already_submitted",
    ),
    "applications.AcceptFinalReport.v1": ("unknown_application", "project_not_running", "no_final_report"),
    "applications.ReturnFinalReport.v1": ("unknown_application", "project_not_running", "no_final_report"),
    "workshops.ScheduleWorkshop.v1": (*_TIMES, "duplicate_workshop", "unknown_cluster", "invalid_capacity"),
    "workshops.RescheduleWorkshop.v1": (*_OPEN_WORKSHOP, *_TIMES),
    "workshops.CancelWorkshop.v1": _OPEN_WORKSHOP,
    "workshops.ChangeWorkshopCapacity.v1": (*_OPEN_WORKSHOP, "invalid_capacity", "capacity_below_registrations"),
    "workshops.RegisterParticipant.v1": (*_OPEN_WORKSHOP, "already_registered", "invalid_organisation_number"),
    "workshops.CancelRegistration.v1": ("unknown_registration",),
    "workshops.RecordAttendance.v1": (
        *_OPEN_WORKSHOP,
        "workshop_not_started",
        "unknown_registration",
        "attendance_already_recorded",
    ),
    "workshops.EraseParticipantData.v1": (),
    "funding.AllocateBudget.v1": ("invalid_amount", "duplicate_allocation"),
    "funding.DecideFunding.v1": (
        "case_not_open",
        "invalid_amount",
        "exceeds_requested",
        "aid_intensity_exceeded",
        "insufficient_budget",
        "de_minimis_exceeded",
    ),
    "funding.AcceptGrant.v1": ("unknown_grant", "grant_not_open", "already_accepted", "acceptance_period_over"),
    "funding.ApprovePayment.v1": (
        "unknown_grant",
        "grant_not_accepted",
        "grant_not_open",
        "invalid_amount",
        "interim_cap_reached",
        "final_report_not_accepted",
        "duplicate_payment",
    ),
}


def command_refusals(ce_type: str) -> dict[str, str]:
    """The codes a command can be refused with, each with its meaning; `malformed` first, as any command can get it."""
    codes = refusal_codes(ce_type.split(".", 1)[0])
    return {code: codes[code] for code in (MALFORMED, *BY_COMMAND.get(ce_type, ()))}
