"""What the applications service reads: one route per command or event type, each to its use case."""

from __future__ import annotations

from applications.usecases import UseCases
from shared.consumer import Route, Subscription, by_type
from shared.contract.applications import (
    AmendApplication,
    ConfirmManagementCommitment,
    SubmitApplication,
    WithdrawApplication,
)
from shared.contract.funding import FundingDeclined, FundingGranted
from shared.contract.workshops import AttendanceRecorded
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
            ),
            commands=True,
            description="applications from submission to outcome (key application_id)",
        ),
        Subscription(
            topic=WORKSHOPS_EVENTS,
            routes=by_type(Route(AttendanceRecorded, cases.clarify)),
            commands=False,
            description="clarification attendance completes the company's open applications, or waits for them",
        ),
        Subscription(
            topic=FUNDING_EVENTS,
            routes=by_type(Route(FundingGranted, cases.approve), Route(FundingDeclined, cases.decline)),
            commands=False,
            description="funding decisions approve or decline applications ready for decision",
        ),
    ]
