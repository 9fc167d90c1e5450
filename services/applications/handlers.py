"""What the applications service reads: one route per command or event type, each to its use case."""

from __future__ import annotations

from typing import Any

from applications.domain.deadlines import DueDeadline
from applications.settings import ApplicationsSettings
from applications.usecases import UseCases
from shared.consumer import Route, Subscription, by_type
from shared.contract.applications import (
    AcceptFinalReport,
    AmendApplication,
    ConfirmManagementCommitment,
    ReturnFinalReport,
    SubmitApplication,
    SubmitFinalReport,
    SubmitProgressReport,
    WithdrawApplication,
)
from shared.contract.funding import FundingCaseClosed, FundingDeclined, FundingGranted, GrantAccepted, GrantLapsed
from shared.contract.workshops import AttendanceRecorded
from shared.scheduler import Job
from shared.topics import APPLICATIONS_COMMANDS, FUNDING_EVENTS, WORKSHOPS_EVENTS


def subscriptions(cases: UseCases) -> list[Subscription]:
    return [
        Subscription(
            topic=APPLICATIONS_COMMANDS,
            routes=by_type(
                Route(SubmitApplication, cases.submit),
                Route(AmendApplication, cases.amend),
                Route(ConfirmManagementCommitment, cases.confirm_commitment),
                Route(WithdrawApplication, cases.withdraw),
                Route(SubmitProgressReport, cases.submit_progress_report),
                Route(SubmitFinalReport, cases.submit_final_report),
                Route(AcceptFinalReport, cases.accept_final_report),
                Route(ReturnFinalReport, cases.return_final_report),
            ),
            commands=True,
            description="applications from submission to outcome, and the project's reports (key application_id)",
        ),
        Subscription(
            topic=WORKSHOPS_EVENTS,
            routes=by_type(Route(AttendanceRecorded, cases.clarify)),
            commands=False,
            description="clarification attendance completes the company's open applications, or waits for them",
        ),
        Subscription(
            topic=FUNDING_EVENTS,
            routes=by_type(
                Route(FundingGranted, cases.approve),
                Route(FundingDeclined, cases.decline),
                Route(GrantAccepted, cases.start_project),
                Route(GrantLapsed, cases.lapse),
                Route(FundingCaseClosed, cases.close),
            ),
            commands=False,
            description="funding decisions; an accepted, lapsed or completed grant moves the project on",
        ),
    ]


def jobs(cases: UseCases, settings: ApplicationsSettings) -> list[Job[Any]]:
    """The final report's deadline: the applicant's reminder and the staff's overdue notice, each when it comes due."""
    reminders: Job[DueDeadline] = Job(
        name="final_report_reminders",
        due=cases.due_reminders,
        fact=lambda deadline: deadline.fact,
        settle=cases.settle_deadline,
        poll_interval_s=settings.deadline_poll_interval_s,
        batch_size=settings.deadline_batch_size,
    )
    overdue: Job[DueDeadline] = Job(
        name="final_report_overdue",
        due=cases.due_overdue_notices,
        fact=lambda deadline: deadline.fact,
        settle=cases.settle_deadline,
        poll_interval_s=settings.deadline_poll_interval_s,
        batch_size=settings.deadline_batch_size,
    )
    return [reminders, overdue]
