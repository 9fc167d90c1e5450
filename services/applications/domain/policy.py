"""What a deployment of the applications service configures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Policy:
    """The programme's clusters (reference data, so a new cluster needs no release) and the final report's deadline.

    The final report is due ``final_report_due_after`` after the end of the project period's last
    day; the applicant is reminded ``final_report_reminder_lead`` before that.
    """

    clusters: frozenset[str]
    final_report_due_after: timedelta = timedelta(days=60)
    final_report_reminder_lead: timedelta = timedelta(days=14)
