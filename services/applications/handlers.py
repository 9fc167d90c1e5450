"""What the applications service reads: one route per command or event type, each calling its use case."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from applications import usecases
from applications.upstream import AttendanceRecorded, FundingDeclined, FundingGranted
from applications.usecases import Cause
from shared.consumer import Incoming, Route, Subscription
from shared.contract.applications import (
    AmendApplication,
    ConfirmManagementCommitment,
    SubmitApplication,
    WithdrawApplication,
)
from shared.db import Connection
from shared.outbox import Recorder
from shared.topics import FUNDING_EVENTS, WORKSHOPS_EVENTS, commands_topic


def _cause(msg: Incoming[Any]) -> Cause:
    return Cause(message_id=msg.envelope.id, at=msg.envelope.time)


async def on_amend_application(conn: Connection, msg: Incoming[AmendApplication], out: Recorder) -> None:
    await usecases.amend(conn, out, command=msg.data, cause=_cause(msg))


async def on_confirm_management_commitment(
    conn: Connection, msg: Incoming[ConfirmManagementCommitment], out: Recorder
) -> None:
    await usecases.confirm_commitment(conn, out, command=msg.data, cause=_cause(msg))


async def on_withdraw_application(conn: Connection, msg: Incoming[WithdrawApplication], out: Recorder) -> None:
    await usecases.withdraw(conn, out, command=msg.data, cause=_cause(msg))


async def on_attendance_recorded(conn: Connection, msg: Incoming[AttendanceRecorded], out: Recorder) -> None:
    await usecases.record_attendance(conn, out, attendance=msg.data, cause=_cause(msg))


async def on_funding_granted(conn: Connection, msg: Incoming[FundingGranted], out: Recorder) -> None:
    await usecases.funding_granted(
        conn, out, application_id=msg.data.application_id, amount_nok=msg.data.amount_nok, cause=_cause(msg)
    )


async def on_funding_declined(conn: Connection, msg: Incoming[FundingDeclined], out: Recorder) -> None:
    await usecases.funding_declined(
        conn, out, application_id=msg.data.application_id, reason=msg.data.reason, cause=_cause(msg)
    )


def subscriptions(clusters: Collection[str]) -> list[Subscription]:
    known = frozenset(clusters)

    async def on_submit_application(conn: Connection, msg: Incoming[SubmitApplication], out: Recorder) -> None:
        await usecases.submit(conn, out, command=msg.data, cause=_cause(msg), clusters=known)

    return [
        Subscription(
            topic=commands_topic("applications"),
            routes={
                SubmitApplication.ce_type: Route(SubmitApplication, on_submit_application),
                AmendApplication.ce_type: Route(AmendApplication, on_amend_application),
                ConfirmManagementCommitment.ce_type: Route(
                    ConfirmManagementCommitment, on_confirm_management_commitment
                ),
                WithdrawApplication.ce_type: Route(WithdrawApplication, on_withdraw_application),
            },
            commands=True,
            description="applications from submission to outcome (key application_id)",
        ),
        Subscription(
            topic=WORKSHOPS_EVENTS,
            routes={AttendanceRecorded.ce_type: Route(AttendanceRecorded, on_attendance_recorded)},
            commands=False,
            description="clarification attendance completes the company's open applications, or waits for them",
        ),
        Subscription(
            topic=FUNDING_EVENTS,
            routes={
                FundingGranted.ce_type: Route(FundingGranted, on_funding_granted),
                FundingDeclined.ce_type: Route(FundingDeclined, on_funding_declined),
            },
            commands=False,
            description="funding decisions approve or decline applications ready for decision",
        ),
    ]
