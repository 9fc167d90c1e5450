"""The notification templates as a downstream sender needs them: who gets each, when, and its params with types.

The templates themselves (name, audience, role, param names) are the services' contract modules'
``TEMPLATES``; this adds what a sender renders from: a sentence on when it comes and a JSON
Schema fragment per param. A test fails when a template or a param has no entry here, and
`programme contract export` writes the catalogue (`contract/notifications.md`) and a params
schema per template (`contract/notifications/<template>.params.json`) from both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from shared.contract import applications, funding, workshops
from shared.contract.base import Template
from shared.contract.schemas import DIALECT, ID_PREFIX
from shared.contract.workshops import WORKSHOP_PARAMS

_UUID: Final = {"type": "string", "format": "uuid"}
_TEXT: Final = {"type": "string"}
_NOK: Final = {"type": "integer", "description": "whole NOK"}
_LOCAL_TIME: Final = {
    "type": "string",
    "format": "date-time",
    "description": "RFC 3339, on the programme's clock (Europe/Oslo offset)",
}


@dataclass(frozen=True)
class Param:
    schema: dict[str, Any]
    meaning: str
    # Personal data: only ever the recipient's own (their name in a letter to them), never a third party's.
    personal: bool = False


PARAMS: Final[dict[str, Param]] = {
    "application_id": Param(_UUID, "the application's id"),
    "title": Param(_TEXT, "the project's or the workshop's title"),
    "applicant_name": Param(_TEXT, "the applying organisation's name"),
    "contact_name": Param(_TEXT, "the contact person's name", personal=True),
    "missing": Param(
        {"type": "array", "items": {"enum": ["plan", "commitment", "clarification"]}},
        "what the application still lacks: a project plan, management's commitment, clarification attendance",
    ),
    "organisation_number": Param(_TEXT, "the organisation's number"),
    "lead_cluster": Param(_TEXT, "the id of the cluster that leads the project"),
    "project_type": Param(
        {"enum": ["company_project", "cluster_project", "competence_programme"]}, "the kind of project"
    ),
    "requested_nok": Param(_NOK, "the amount applied for"),
    "total_cost_nok": Param(_NOK, "the project's total cost"),
    "amount_nok": Param(_NOK, "the amount granted, or asked for"),
    "reason": Param(_TEXT, "the reason given (free text)"),
    "workshop_id": Param(_UUID, "the workshop's id"),
    "kind": Param({"enum": ["clarification", "competence", "cluster_meeting"]}, "the kind of workshop"),
    "payment_kind": Param(
        {"enum": ["interim", "final"]}, "interim: against costs documented so far; final: closes the case"
    ),
    "hosting_cluster": Param(_TEXT, "the id of the cluster that hosts the workshop"),
    "town": Param(_TEXT, "the town the workshop is in"),
    "venue": Param(_TEXT, "the venue"),
    "starts_at": Param(_LOCAL_TIME, "when the workshop starts"),
    "ends_at": Param(_LOCAL_TIME, "when the workshop ends"),
    "previous_starts_at": Param(_LOCAL_TIME, "when it was to start before"),
    "previous_ends_at": Param(_LOCAL_TIME, "when it was to end before"),
    "registration_id": Param(_UUID, "the recipient's registration"),
    "position": Param({"type": "integer", "minimum": 1}, "the place on the waitlist, 1-based"),
    "programme_year": Param({"type": "integer"}, "the programme year"),
    "threshold": Param({"enum": ["low", "exhausted"]}, "low: under the low share of the total left; exhausted: none"),
    "remaining_nok": Param(_NOK, "what is left of the year's budget"),
    "total_nok": Param(_NOK, "the year's total budget"),
    "codes": Param(
        {"type": "array", "items": {"type": "string"}},
        "the refusal codes the money decided (insufficient_budget, de_minimis_exceeded)",
    ),
    "final_report_due": Param(_LOCAL_TIME, "when the project's final report is due"),
    "accept_by": Param(_LOCAL_TIME, "the end of the grant's acceptance period"),
    "payment_id": Param(_UUID, "the payment's id, as the case-handling tool gave it"),
    "paid_total_nok": Param(_NOK, "what the grant has paid in all, this payment included"),
    "remaining_grant_nok": Param(_NOK, "what of the grant is not paid yet"),
    "paid_nok": Param(_NOK, "what the grant had paid before the withdrawal"),
    "released_nok": Param(_NOK, "the unpaid rest of the grant, given back to the year's budget"),
}


def _described(name: str) -> dict[str, Any]:
    param = PARAMS[name]
    return {**param.schema, "description": param.meaning}


PARAMS["workshops"] = Param(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {name: _described(name) for name in WORKSHOP_PARAMS},
            "required": list(WORKSHOP_PARAMS),
        },
    },
    "the upcoming clarification workshops, the lead cluster's first; empty when none is scheduled",
)

# When each template is asked for: what the sender may tell the recipient it is about.
WHEN: Final[dict[str, str]] = {
    "applications.received": "an application was submitted: its receipt",
    "applications.preconditions_missing": (
        "at submission, when a project plan, management's commitment or clarification attendance is still missing"
    ),
    "applications.ready_for_decision": "an application has all three preconditions: once, when it becomes ready",
    "applications.declined": "funding declined the application",
    "workshops.registered": "a registration got a seat",
    "workshops.waitlisted": "a registration went on the waitlist, at its position",
    "workshops.promoted": "a waitlisted registration got a seat",
    "workshops.rescheduled": "the workshop moved: to everyone registered or waitlisted",
    "workshops.cancelled": "the workshop was cancelled: to everyone registered or waitlisted",
    "workshops.reminder": "before the workshop starts (24 h by default): once, to each confirmed participant",
    "workshops.clarification_invitation": (
        "an application was submitted by an organisation with no clarification attendance: the upcoming ones"
    ),
    "funding.budget_threshold": "a year's remaining budget fell below the low share, or to zero: once each per year",
    "funding.decision_refused": "a grant was refused because of the money (budget or de minimis), not the input",
    "funding.grant_awaiting_acceptance": "a grant was decided: it waits for the company's acceptance until `accept_by`",
    "funding.grant_lapsed": "a grant was not accepted by its deadline and lapsed: once",
    "funding.payment_approved": "a payment of the grant was approved: once per payment",
    "funding.payment_order": "a payment was approved: the order to pay it, once per payment",
    "funding.withdrawn_after_payments": (
        "an application was withdrawn after payments: paid money may have to be claimed back; once"
    ),
    "applications.final_report_due_soon": "before the final report is due (14 days by default), none waiting: once",
    "applications.final_report_returned": "staff returned the final report: it may be submitted again",
    "applications.project_completed": "the final payment closed the funding case: the project is completed",
    "applications.final_report_overdue": "the final report is due and none was submitted: once",
    "applications.final_report_to_review": "a final report was submitted and waits for staff to accept or return it",
}

_WHO: Final[dict[str, str]] = {
    "staff": "staff with role `{role}`",
    "applicant": "the applicant's contact person (`recipient.email`)",
    "participant": "the participant (`recipient.email`)",
}


def templates() -> tuple[Template, ...]:
    """Every template of the contract, by service."""
    return (*applications.TEMPLATES, *workshops.TEMPLATES, *funding.TEMPLATES)


def who(template: Template) -> str:
    return _WHO[template.audience].format(role=template.role)


def params_schema(template: Template) -> dict[str, Any]:
    """The JSON Schema of a template's `params`: open, as later releases may add params."""
    return {
        "$schema": DIALECT,
        "$id": f"{ID_PREFIX}programme.NotificationRequested.v1:params:{template.name}",
        "title": f"params of {template.name}",
        "description": f"To {who(template)}, when {WHEN[template.name]}.",
        "type": "object",
        "properties": {name: _described(name) for name in template.params},
        "required": list(template.params),
    }


def _type_of(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    if schema.get("type") == "array":
        return f"list of {_type_of(schema['items'])}"
    return str(schema.get("format", schema.get("type", "any")))


def catalogue() -> str:
    """contract/notifications.md: every template, who gets it, when, and its params."""
    lines = [
        "# Notification templates",
        "",
        "Generated from the code by `make contract` (`shared/contract/notifications.py` and each service's",
        "`TEMPLATES`); a test fails when this file and the code differ. Do not edit it by hand.",
        "",
        "Every `programme.NotificationRequested.v1` on `programme.notifications.v1` names one of these",
        "templates, with its `params` as listed; the locale is `nb`. **`notification_id` is the",
        "deduplication key**: it derives from the fact the notification tells of, so the same fact",
        "always gives the same id, and a record delivered twice (Kafka delivers at least once) must be",
        "sent once. The record key is the recipient's e-mail or role, so one recipient's notifications",
        "keep their order. Params may gain entries in later releases: ignore those you do not use.",
        "Personal data in `params` is only ever the recipient's own (marked below).",
        "",
        "A JSON Schema of each template's `params` is in `contract/notifications/<template>.params.json`.",
        "",
    ]
    for template in templates():
        lines += [
            f"## `{template.name}`",
            "",
            f"- **To**: {who(template)}",
            f"- **When**: {WHEN[template.name]}",
            f"- **`about`**: the key of what it is about; **audience**: `{template.audience}`",
            "",
            "| param | type | meaning |",
            "|---|---|---|",
        ]
        for name in template.params:
            param = PARAMS[name]
            personal = " (personal: the recipient's own)" if param.personal else ""
            lines.append(f"| `{name}` | {_type_of(param.schema)} | {param.meaning}{personal} |")
        lines.append("")
    return "\n".join(lines)
