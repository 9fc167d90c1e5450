"""A running project's state: its final report's deadline and the final report itself, and its progress reports.

Data and the small rules over it only; the decisions are in `followup` (reports, start, lapse,
completion) and `deadlines` (the reminder and the overdue notice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from shared.contract.applications import IndicatorValue, Result

# The programme runs on Oslo time: a period's last day ends at midnight there.
OSLO: Final = ZoneInfo("Europe/Oslo")

FinalReportStatus = Literal["submitted", "returned", "accepted"]


@dataclass(frozen=True, slots=True)
class FinalReport:
    """The project's final report as last submitted, and where its review stands."""

    summary: str
    results: tuple[Result, ...]
    effects: str
    status: FinalReportStatus
    submissions: int  # how many times it was submitted: each submission is a fact of its own
    accepted_by: str | None = None

    @property
    def outstanding(self) -> bool:
        """Nothing waits for review and nothing was accepted: the applicant still owes the report."""
        return self.status == "returned"


@dataclass(frozen=True, slots=True)
class Project:
    """From the accepted grant on: when the final report is due, the deadline's two messages, the report."""

    final_report_due: datetime
    reminder_at: datetime
    reminded_at: datetime | None = None  # when the reminder was settled (sent, or found not needed)
    overdue_at: datetime | None = None  # when the overdue notice was settled (sent, or found not needed)
    final_report: FinalReport | None = None

    @property
    def final_report_outstanding(self) -> bool:
        """No final report submitted yet, or the last one was returned."""
        return self.final_report is None or self.final_report.outstanding


@dataclass(frozen=True, slots=True)
class ProgressReport:
    """A progress report as submitted: a report id used again is compared with it."""

    report_id: UUID
    application_id: UUID
    period_to: date
    summary: str
    indicators: tuple[IndicatorValue, ...]


def final_report_due(period_end: date, *, due_after: timedelta) -> datetime:
    """The end of the period's last day in Oslo (midnight after it), plus the due period."""
    return datetime.combine(period_end + timedelta(days=1), time(0), tzinfo=OSLO) + due_after


def plan(period_end: date, *, due_after: timedelta, reminder_lead: timedelta) -> Project:
    due = final_report_due(period_end, due_after=due_after)
    return Project(final_report_due=due, reminder_at=due - reminder_lead)
