"""The final report's deadline: the applicant reminded before it, staff told when it passes; each once.

Both are planned when the project starts (`project.plan`) and settled by the scheduler when their
time comes. What to do is decided then, on the application as it stands: a project no longer
running, or with a final report waiting for review or accepted, needs neither message, and the
plan is settled without one. A returned report is owed again, so it counts as none submitted.
The due time itself cannot move while the project runs: the period it derives from is locked
against amendment from readiness for decision on (`lifecycle.amend`, `application_locked`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Literal, NamedTuple
from uuid import UUID

from applications.domain import followup, lifecycle
from applications.domain.lifecycle import Application, Decision
from applications.domain.project import OSLO, Project
from shared.contract import applications as contract
from shared.outcome import NOTHING, Notice, Outcome

Kind = Literal["reminder", "overdue"]


class DueDeadline(NamedTuple):
    """A planned message of an application's final-report deadline whose time has come."""

    application_id: UUID
    kind: Kind

    @property
    def fact(self) -> str:
        """Names the message: what settling it records derives its ids from this, so it is recorded once."""
        return f"final-report-{self.kind}/{self.application_id}"


def settle(application: Application | None, kind: Kind, *, at: datetime) -> Decision:
    """The reminder or the overdue notice, settled: sent if it still stands, else marked done without a message."""
    if application is None or application.project is None:
        return NOTHING
    project = application.project
    if kind == "reminder":
        if project.reminded_at is not None:
            return NOTHING
        settled = replace(application, project=replace(project, reminded_at=at))
        # Sent only before the deadline: once it has passed, the overdue notice says the rest.
        stands = _owed(application) and at < project.final_report_due
        return Outcome(settled, (_reminder(settled, project),) if stands else ())
    if project.overdue_at is not None:
        return NOTHING
    settled = replace(application, project=replace(project, overdue_at=at))
    return Outcome(settled, (_overdue(settled, project),) if _owed(application) else ())


def _owed(application: Application) -> bool:
    return (
        application.status == "running"
        and application.project is not None
        and application.project.final_report_outstanding
    )


def _due(project: Project) -> str:
    return project.final_report_due.astimezone(OSLO).isoformat()


def _reminder(application: Application, project: Project) -> Notice:
    return lifecycle.to_applicant(application, contract.FINAL_REPORT_DUE_SOON, final_report_due=_due(project))


def _overdue(application: Application, project: Project) -> Notice:
    return followup.to_staff(
        application, contract.FINAL_REPORT_OVERDUE, fact="final-report-overdue", final_report_due=_due(project)
    )
