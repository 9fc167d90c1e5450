"""The yearly programme report: the three services' figures for a year, gathered through their look-ups, as tables.

Each table is plain rows (text and whole numbers) so that the same figures print, go to CSV and
draw as charts (report_html). Years are Oslo's: applications by when they were submitted,
workshops by when they started, money by the programme year funding booked it in.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.cli.report_lookups import LookupClient

Cell = str | int | float
GRANTED_STATUSES = frozenset({"approved", "running", "lapsed", "completed"})
FINAL_REPORT_ACCEPTED = "applications.FinalReportAccepted.v1"
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")


@dataclass(frozen=True)
class Table:
    name: str  # the CSV file's name, without .csv
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    year: int
    tables: dict[str, Table]


@dataclass(frozen=True)
class Clients:
    applications: LookupClient
    workshops: LookupClient
    funding: LookupClient


async def gather(year: int, clients: Clients) -> Report:
    """Read the year's figures from the three services' look-ups and lay them out as the report's tables."""
    budget = await clients.funding.get(f"/v1/budgets/{year}") or {}
    applications = await clients.applications.pages("/v1/applications", {"year": year, "limit": 500})
    workshops = await clients.workshops.pages(
        "/v1/workshops", {"from": f"{year}-01-01", "to": f"{year}-12-31", "limit": 1000}
    )
    # Held: not cancelled, and over or its attendance recorded (which the workshop allows once it has begun).
    held = [w for w in workshops if w["cancelled_at"] is None and (w["past"] or w["attended"] > 0)]
    # Companies once per cluster and town over all its workshops: the look-up counts them, a sum could not.
    activity = await clients.workshops.get("/v1/activity", {"from": f"{year}-01-01", "to": f"{year}-12-31"}) or {}
    completed = [a for a in applications if a["status"] == "completed"]
    results: list[tuple[Cell, ...]] = []
    for done in completed:
        record = await clients.applications.get(f"/v1/applications/{done['application_id']}")
        results.extend(_results(done, record or {}))
    tables = (
        _summary(budget, applications, workshops, held),
        _budget_by_month(budget),
        _demand(applications, budget),
        _path(applications, held),
        _activity("clusters", "Activity by cluster", "cluster", activity.get("clusters", []), applications),
        _activity("towns", "Activity by town", "town", activity.get("towns", []), None),
        _focus_areas(applications),
        Table(
            "results",
            "Results of completed projects: target beside achieved",
            ("application_id", "title", "indicator", "target", "achieved"),
            results,
        ),
    )
    return Report(year, {table.name: table for table in tables})


def number(text: str) -> float | None:
    """The first number in a target or a result (`-50 %`, `12 new products`), for drawing them side by side."""
    found = _NUMBER.search(text)
    return float(found.group().replace(",", ".")) if found else None


def _granted(application: dict[str, Any]) -> int:
    return int(application["approved_nok"] or 0) if application["status"] in GRANTED_STATUSES else 0


def _summary(
    budget: dict[str, Any],
    applications: list[dict[str, Any]],
    workshops: list[dict[str, Any]],
    held: list[dict[str, Any]],
) -> Table:
    rows: list[tuple[Cell, ...]] = [
        ("budget allocated (NOK)", budget.get("allocated_nok", 0)),
        ("granted (NOK)", budget.get("granted_nok", 0)),
        ("released back (NOK)", budget.get("released_nok", 0)),
        ("paid (NOK)", budget.get("paid_nok", 0)),
        ("remaining (NOK)", budget.get("remaining_nok", 0)),
        ("grants", budget.get("grants", 0)),
        ("applications submitted", len(applications)),
        ("requested (NOK)", sum(a["requested_nok"] for a in applications)),
        ("workshops scheduled", sum(1 for w in workshops if w["cancelled_at"] is None)),
        ("workshops held", len(held)),
        ("participants", sum(w["attended"] for w in held)),
    ]
    return Table("summary", "The year in figures", ("figure", "value"), rows)


def _budget_by_month(budget: dict[str, Any]) -> Table:
    by_month = {m["month"]: m for m in budget.get("months", [])}
    allocated = int(budget.get("allocated_nok", 0))
    rows: list[tuple[Cell, ...]] = []
    used = 0
    for month in range(1, 13):
        seen = by_month.get(month, {"granted_nok": 0, "released_nok": 0})
        used += seen["granted_nok"] - seen["released_nok"]
        rows.append((month, seen["granted_nok"], seen["released_nok"], used, allocated))
    columns = ("month", "granted_nok", "released_nok", "used_to_date_nok", "allocated_nok")
    return Table("budget_by_month", "Budget use through the year against the allocation", columns, rows)


def _demand(applications: list[dict[str, Any]], budget: dict[str, Any]) -> Table:
    requested = sum(a["requested_nok"] for a in applications)
    granted = sum(_granted(a) for a in applications)
    declined = sum(a["requested_nok"] for a in applications if a["status"] == "declined")
    waiting = sum(a["requested_nok"] for a in applications if a["status"] in {"submitted", "ready_for_decision"})
    rows: list[tuple[Cell, ...]] = [
        ("requested", requested),
        ("granted", granted),
        ("declined", declined),
        # A grant refused for lack of budget leaves the application waiting for a decision.
        ("not decided (incl. refused for lack of budget)", waiting),
        ("budget allocated", int(budget.get("allocated_nok", 0))),
    ]
    return Table("demand", "Demand against budget (NOK)", ("measure", "nok"), rows)


def _path(applications: list[dict[str, Any]], held: list[dict[str, Any]]) -> Table:
    clarified = sum(w["attended"] for w in held if w["kind"] == "clarification")
    rows: list[tuple[Cell, ...]] = [
        ("clarification (attended)", clarified),
        ("application", len(applications)),
        ("ready for decision", sum(1 for a in applications if a["ready_at"] is not None)),
        ("granted", sum(1 for a in applications if a["status"] in GRANTED_STATUSES)),
        ("completed", sum(1 for a in applications if a["status"] == "completed")),
    ]
    return Table("path", "The path: clarification to completed project", ("stage", "count"), rows)


def _activity(
    name: str,
    title: str,
    label: str,
    places: list[dict[str, Any]],
    applications: list[dict[str, Any]] | None,
) -> Table:
    """Workshops held, participants and companies per place; per cluster also the applications it led."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for place in places:
        counts[place["name"]].update({key: place[key] for key in ("workshops_held", "participants", "companies")})
    for application in applications or ():
        led = counts[application["lead_cluster"]]
        led["applications"] += 1
        led["granted_nok"] += _granted(application)
    columns = ("workshops_held", "participants", "companies") + (
        ("applications", "granted_nok") if applications is not None else ()
    )
    rows: list[tuple[Cell, ...]] = [(key, *(counts[key][c] for c in columns)) for key in sorted(counts)]
    return Table(name, title, (label, *columns), rows)


def _focus_areas(applications: Iterable[dict[str, Any]]) -> Table:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for application in applications:
        for area in application.get("focus_areas", []):
            counts[area]["applications"] += 1
            counts[area]["requested_nok"] += application["requested_nok"]
            counts[area]["granted_nok"] += _granted(application)
    columns = ("applications", "requested_nok", "granted_nok")
    rows: list[tuple[Cell, ...]] = [(area, *(counts[area][c] for c in columns)) for area in sorted(counts)]
    return Table("focus_areas", "Applications by focus area", ("focus_area", *columns), rows)


def _results(application: dict[str, Any], record: dict[str, Any]) -> Sequence[tuple[Cell, ...]]:
    accepted = [e for e in record.get("history", []) if e["type"] == FINAL_REPORT_ACCEPTED]
    if not accepted:
        return ()
    return [
        (application["application_id"], application["title"], r["indicator"], r["target"], r["achieved"])
        for r in accepted[-1]["data"]["results"]
    ]
