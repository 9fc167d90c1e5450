"""What each field of the contract means, for the exported schemas: one sentence an integrator can read.

A field's own ``Field(description=...)`` wins; these fill in the rest. The same name means the
same thing across types, so most entries are by field name; where a name means different things
in different objects (a ``name``, a ``reason``), the entry is by (object, field). A test fails
when a property of an exported schema has no description, so a new field needs a line here or
a description on the model.
"""

from __future__ import annotations

from typing import Final

BY_NAME: Final[dict[str, str]] = {
    # ids
    "application_id": "the application's id (UUID), chosen by the sender of SubmitApplication; the record key",
    "workshop_id": "the workshop's id (UUID), chosen by the sender of ScheduleWorkshop; the record key",
    "registration_id": "the registration's id (UUID), chosen by the sender of RegisterParticipant",
    "allocation_id": "the allocation's id (UUID), chosen by its sender; an allocation counts once",
    "erasure_id": "this erasure's id (UUID); the record key, so that the e-mail never travels",
    "notification_id": (
        "the notification's id (UUID), derived from the fact it tells of: the same fact gives the same id, "
        "so a notification sender deduplicates on it"
    ),
    # applications
    "applicant": "the applying organisation and its contact person",
    "organisation_number": "the organisation's 9-digit Norwegian organisation number (mod-11 check digit)",
    "size": "the organisation's size class: micro, small, medium or large",
    "contact": "the person the programme writes to about the application",
    "lead_cluster": "the id of the cluster that leads the project",
    "partner_clusters": "ids of the other clusters in the project (never the lead cluster)",
    "project_type": "company_project (for SMEs only), cluster_project or competence_programme",
    "why": "why the project is needed: at least 30 characters",
    "what": "the project's objectives, 1 to 10",
    "how": "the project plan; absent or null while there is none (a plan is a precondition for a decision)",
    "focus_areas": (
        "the focus areas: at least one of system_innovation or productivity; also digitalisation, new_technology"
    ),
    "budget": "the project's budget in whole NOK",
    "period": "the project's period",
    "management_sponsor": "the person in the organisation's management who backs the project",
    "objective": "what the project will achieve",
    "indicator": "how achieving it is measured",
    "target": "the value of the indicator that counts as achieved",
    "achieved": "the value of the indicator the project reached",
    "results": "each objective's indicator, its target and what was achieved",
    "total_cost_nok": "the project's total cost, whole NOK",
    "requested_nok": "the amount applied for, whole NOK; at most the total cost",
    "own_contribution_nok": "what the organisation pays itself, whole NOK",
    "start": "first day of the project (YYYY-MM-DD)",
    "end": "last day of the project (YYYY-MM-DD), after the start and at most 36 months later",
    "changes": "the fields that change, each replacing the whole field; only those given change",
    "version": "the application's content version: 1 at submission, one more with each amendment",
    "confirmed_by": "who in management confirmed the commitment",
    "confirmed_at": "when the commitment was confirmed (RFC 3339 with an offset)",
    "applicant_name": "the applying organisation's name",
    "status_before": "the application's status when it was withdrawn",
    "amount_nok": "the amount, whole NOK",
    # workshops
    "kind": "the kind of workshop: clarification, competence or cluster_meeting",
    "hosting_cluster": "the id of the cluster that hosts the workshop",
    "location": "where the workshop takes place",
    "town": "the town the workshop is in",
    "venue": "the venue's name and address",
    "starts_at": "when the workshop starts (RFC 3339 with an offset)",
    "ends_at": "when the workshop ends (RFC 3339 with an offset), after the start",
    "previous_starts_at": "when the workshop was to start before it was rescheduled",
    "previous_ends_at": "when the workshop was to end before it was rescheduled",
    "capacity": "how many confirmed seats the workshop has",
    "previous_capacity": "the capacity before the change",
    "facilitators": "the facilitators' e-mails; one facilitator is never double-booked",
    "participant": "the person who registers",
    "attended": "ids of the registrations that attended",
    "attended_at": "when the attendance was recorded (RFC 3339 with an offset)",
    "position": "place on the waitlist, 1-based",
    "previous_status": "the registration's status before it was cancelled: confirmed or waitlisted",
    "registrations": "how many registrations were erased",
    # funding
    "programme_year": "the programme year (a calendar year) the money belongs to",
    "total_nok": "the year's total allocated budget after this, whole NOK",
    "remaining_nok": "what is left of the year's budget after this, whole NOK",
    "budget_remaining_nok": "what is left of the year's budget after this, whole NOK",
    "outcome": "the decision: grant or decline",
    "decided_by": "the case handler who decided",
    "threshold": "which threshold was crossed: low (under 10 % of the total left) or exhausted (nothing left)",
    "accepted_at": "when the company accepted the grant (RFC 3339 with an offset)",
    # refusals
    "command_id": "the refused command's ce_id",
    "command_type": "the refused command's ce_type",
    "subject": "the refused command's record key",
    "reasons": "every reason the command was refused, at least one",
    "code": "a stable code saying why (see the enum)",
    "field": "the path of the field the reason is about (dotted, list items by index), or null",
    "message": "a readable explanation, for people; do not parse it",
    # notifications
    "audience": "who the notification is for: staff, applicant or participant",
    "recipient": "the e-mail or the staff role to send it to",
    "template": "the template to render, <service>.<what>; its params are listed in contract/notifications.md",
    "locale": "the language to render it in",
    "params": "the values the template needs; per template in contract/notifications.md",
    "about": "the key of the thing the notification is about (an application, a workshop, a budget year)",
    # the follow-up of a grant
    "report_id": "the progress report's id (UUID), chosen by its sender; the same id with the same content is the "
    "same report",
    "period_to": "the last day the progress report covers (YYYY-MM-DD)",
    "summary": "what the project did in the period the report covers (free text)",
    "indicators": "each indicator of the application's `what` reported on, with its value so far",
    "value": "the indicator's value at the end of the period the report covers (free text)",
    "effects": "the project's effects on the organisation beyond its indicators (free text)",
    "accepted_by": "who accepted it: the case handler, or for a grant the company's signatory",
    "payment_id": "the payment's id (UUID), chosen by the case-handling tool; the same id with the same content is "
    "the same payment",
}

IN_OBJECT: Final[dict[tuple[str, str], str]] = {
    ("Applicant", "name"): "the organisation's registered name",
    ("Contact", "name"): "the contact person's full name",
    ("Contact", "email"): "the contact person's e-mail; the applicant's notifications go there",
    ("Sponsor", "name"): "the sponsor's full name",
    ("Sponsor", "role"): "the sponsor's role in the organisation's management",
    ("Sponsor", "email"): "the sponsor's e-mail",
    ("ConfirmedBy", "name"): "the full name of who confirmed",
    ("ConfirmedBy", "role"): "their role in the organisation's management",
    ("Participant", "name"): "the participant's full name",
    ("Participant", "email"): "the participant's e-mail; their notifications go there, and it is their erasure key",
    ("Participant", "organisation_number"): "the participant's organisation's number, when they come for one",
    ("EraseParticipantData", "email"): "the e-mail whose registrations are erased; the record key",
    ("Recipient", "email"): "the person's e-mail, for an applicant or a participant",
    ("Recipient", "role"): "the staff role, for staff: case-handlers, programme-office, finance or cluster:<id>",
    ("SubmitApplication", "title"): "the project's title",
    ("ApplicationSubmitted", "title"): "the project's title",
    ("ApplicationReadyForDecision", "title"): "the project's title",
    ("FundingCaseOpened", "title"): "the project's title",
    ("ScheduleWorkshop", "title"): "the workshop's title",
    ("WorkshopScheduled", "title"): "the workshop's title",
    ("ApplicationSubmitted", "status"): "the application's status: submitted",
    ("AllocateBudget", "source"): "where the money comes from (free text)",
    ("WithdrawApplication", "reason"): "why the application is withdrawn (free text)",
    ("ApplicationWithdrawn", "reason"): "why the application was withdrawn (free text)",
    ("ApplicationDeclined", "reason"): "the funding decision's reason (free text)",
    ("DecideFunding", "reason"): "the reason for the decision, told to the applicant (free text)",
    ("FundingDeclined", "reason"): "the reason for the decline (free text)",
    ("CancelWorkshop", "reason"): "why the workshop is cancelled, told to the participants (free text)",
    ("WorkshopCancelled", "reason"): "why the workshop was cancelled (free text)",
    ("DecideFunding", "amount_nok"): "the amount granted, whole NOK; only on a grant",
    ("ApplicationApproved", "amount_nok"): "the amount granted, whole NOK",
    ("FundingGranted", "amount_nok"): "the amount granted, whole NOK",
    ("AllocateBudget", "amount_nok"): "the amount added to the year's budget, whole NOK, positive",
    ("BudgetAllocated", "amount_nok"): "the amount added to the year's budget, whole NOK",
    ("FundingReleased", "amount_nok"): "the amount returned to the year's budget, whole NOK",
    ("GrantLapsed", "amount_nok"): "the amount returned to the year's budget, whole NOK",
    ("GrantAccepted", "amount_nok"): "the amount granted, whole NOK",
    ("ReturnFinalReport", "reason"): "why the final report is returned, told to the applicant (free text)",
    ("FinalReportReturned", "reason"): "why the final report was returned (free text)",
    ("AmendApplication", "changes"): "the fields that change, at least one; each replaces the whole field",
    ("ApplicationAmended", "changes"): "the fields that changed, each as a whole",
}


def describe(obj: str, field: str) -> str | None:
    """The description of ``field`` in the object (model) named ``obj``, or None when there is none."""
    return IN_OBJECT.get((obj, field)) or BY_NAME.get(field)
