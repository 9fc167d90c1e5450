"""The rules of an application's content, each with the contract's refusal code: pure, no I/O.

Every rule reports every breach it finds, with the field's path, so that a refusal can name all
of them at once. A submission is checked whole; an amendment only in the fields it names.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Sequence
from datetime import date
from typing import Final

from shared.contract.applications import ApplicationChanges, ApplicationContent, Budget, Objective, Period
from shared.contract.base import ORGANISATION_NUMBER_PATTERN, Reason, organisation_number_is_valid

# Refusal codes: the contract's words.
INVALID_ORGANISATION_NUMBER: Final = "invalid_organisation_number"
UNKNOWN_CLUSTER: Final = "unknown_cluster"
LEAD_CLUSTER_IN_PARTNERS: Final = "lead_cluster_in_partners"
NOT_SME: Final = "not_sme"
MISSING_WHY: Final = "missing_why"
MISSING_WHAT: Final = "missing_what"
MISSING_FOCUS_AREA: Final = "missing_focus_area"
INVALID_BUDGET: Final = "invalid_budget"
INVALID_PERIOD: Final = "invalid_period"

MIN_WHY_CHARACTERS: Final = 30
MAX_OBJECTIVES: Final = 10
MAX_PERIOD_MONTHS: Final = 36
# Far beyond any project, far below bigint: an amount past it is a typo, not a budget.
MAX_NOK: Final = 1_000_000_000_000
ANCHOR_FOCUS_AREAS: Final = ("system_innovation", "productivity")
FOCUS_AREAS: Final = frozenset({*ANCHOR_FOCUS_AREAS, "digitalisation", "new_technology"})


def content_refusals(content: ApplicationContent, *, clusters: Collection[str]) -> list[Reason]:
    """Every rule of the contract that the content breaks, in the order of its fields."""
    reasons = organisation_number_refusals(content.applicant.organisation_number)
    reasons += cluster_refusals(content.lead_cluster, content.partner_clusters, clusters=clusters)
    if content.project_type == "company_project" and content.applicant.size == "large":
        reasons.append(
            Reason(code=NOT_SME, field="applicant.size", message="a company project is for SMEs, not large companies")
        )
    reasons += why_refusals(content.why)
    reasons += what_refusals(content.what)
    reasons += focus_area_refusals(content.focus_areas)
    reasons += budget_refusals(content.budget)
    reasons += period_refusals(content.period)
    return reasons


def changes_refusals(changes: ApplicationChanges) -> list[Reason]:
    """The same rules as at submission, for the fields an amendment names."""
    given = changes.model_fields_set
    reasons: list[Reason] = []
    if "why" in given:
        reasons += why_refusals(changes.why or "", prefix="changes.")
    if "what" in given:
        reasons += what_refusals(changes.what or [], prefix="changes.")
    if "focus_areas" in given:
        reasons += focus_area_refusals(changes.focus_areas or [], prefix="changes.")
    if changes.budget is not None:
        reasons += budget_refusals(changes.budget, prefix="changes.")
    if changes.period is not None:
        reasons += period_refusals(changes.period, prefix="changes.")
    return reasons


def organisation_number_refusals(number: str) -> list[Reason]:
    if organisation_number_is_valid(number):
        return []
    nine_digits = ORGANISATION_NUMBER_PATTERN.fullmatch(number) is not None
    message = "check digit does not match" if nine_digits else "an organisation number is 9 digits"
    return [Reason(code=INVALID_ORGANISATION_NUMBER, field="applicant.organisation_number", message=message)]


def cluster_refusals(lead: str, partners: Sequence[str], *, clusters: Collection[str]) -> list[Reason]:
    reasons = []
    if lead not in clusters:
        reasons.append(Reason(code=UNKNOWN_CLUSTER, field="lead_cluster", message="not a cluster of the programme"))
    reasons += [
        Reason(code=UNKNOWN_CLUSTER, field=f"partner_clusters.{i}", message="not a cluster of the programme")
        for i, partner in enumerate(partners)
        if partner not in clusters
    ]
    if lead in partners:
        reasons.append(
            Reason(
                code=LEAD_CLUSTER_IN_PARTNERS,
                field="partner_clusters",
                message="the lead cluster cannot also be a partner",
            )
        )
    return reasons


def why_refusals(why: str, *, prefix: str = "") -> list[Reason]:
    length = len(why.strip())
    if length >= MIN_WHY_CHARACTERS:
        return []
    message = "why is empty" if length == 0 else f"why needs at least {MIN_WHY_CHARACTERS} characters, got {length}"
    return [Reason(code=MISSING_WHY, field=f"{prefix}why", message=message)]


def what_refusals(what: Sequence[Objective], *, prefix: str = "") -> list[Reason]:
    if not what:
        return [Reason(code=MISSING_WHAT, field=f"{prefix}what", message="at least one objective is needed")]
    reasons = []
    if len(what) > MAX_OBJECTIVES:
        reasons.append(
            Reason(
                code=MISSING_WHAT,
                field=f"{prefix}what",
                message=f"at most {MAX_OBJECTIVES} objectives, got {len(what)}",
            )
        )
    reasons += [
        Reason(code=MISSING_WHAT, field=f"{prefix}what.{i}.objective", message="the objective is empty")
        for i, objective in enumerate(what[:MAX_OBJECTIVES])
        if not objective.objective.strip()
    ]
    return reasons


def focus_area_refusals(focus_areas: Sequence[str], *, prefix: str = "") -> list[Reason]:
    reasons = [
        Reason(
            code=MISSING_FOCUS_AREA,
            field=f"{prefix}focus_areas.{i}",
            message=f"not a focus area; allowed: {', '.join(sorted(FOCUS_AREAS))}",
        )
        for i, area in enumerate(focus_areas)
        if area not in FOCUS_AREAS
    ]
    if not any(area in ANCHOR_FOCUS_AREAS for area in focus_areas):
        reasons.append(
            Reason(
                code=MISSING_FOCUS_AREA,
                field=f"{prefix}focus_areas",
                message=f"a project names at least one of {' or '.join(ANCHOR_FOCUS_AREAS)}",
            )
        )
    return reasons


def budget_refusals(budget: Budget, *, prefix: str = "") -> list[Reason]:
    path = f"{prefix}budget"
    amounts = {
        "total_cost_nok": budget.total_cost_nok,
        "requested_nok": budget.requested_nok,
        "own_contribution_nok": budget.own_contribution_nok,
    }
    reasons = [
        Reason(code=INVALID_BUDGET, field=f"{path}.{name}", message="must be a positive whole number of NOK")
        for name, amount in amounts.items()
        if amount <= 0
    ]
    reasons += [
        Reason(code=INVALID_BUDGET, field=f"{path}.{name}", message=f"more than {MAX_NOK} NOK")
        for name, amount in amounts.items()
        if amount > MAX_NOK
    ]
    if budget.requested_nok > budget.total_cost_nok:
        reasons.append(Reason(code=INVALID_BUDGET, field=f"{path}.requested_nok", message="more than the total cost"))
    if budget.requested_nok + budget.own_contribution_nok > budget.total_cost_nok:
        reasons.append(
            Reason(
                code=INVALID_BUDGET,
                field=path,
                message="requested plus own contribution is more than the total cost",
            )
        )
    return reasons


def period_refusals(period: Period, *, prefix: str = "") -> list[Reason]:
    path = f"{prefix}period"
    if period.end <= period.start:
        return [Reason(code=INVALID_PERIOD, field=f"{path}.end", message="the end must be after the start")]
    latest = add_months(period.start, MAX_PERIOD_MONTHS)
    if latest is not None and period.end > latest:
        return [Reason(code=INVALID_PERIOD, field=f"{path}.end", message=f"longer than {MAX_PERIOD_MONTHS} months")]
    return []


def add_months(day: date, months: int) -> date | None:
    """The same day ``months`` later, the month's last day where it is shorter; None past the calendar's end."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if year > date.max.year:
        return None
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
