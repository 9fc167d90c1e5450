"""The final report's deadline, kept by the service's own scheduler: one reminder, one overdue notice.

The project period ends yesterday (Oslo) and the due period is set so that the report falls due
about 80 seconds after the test starts, the reminder 40 seconds before that: both come while the
test watches, with no message arriving then, from two replicas and across a restart.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from devkit.driver import Record, Sender, TopicLog
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.topics import NOTIFICATIONS
from tests.integration.applications.conftest import Portal
from tests.integration.applications.test_followup import FINAL, running_project

OSLO = ZoneInfo("Europe/Oslo")
DUE_IN = timedelta(seconds=80)
LEAD = timedelta(seconds=40)
DUE_SOON = "applications.final_report_due_soon"
OVERDUE = "applications.final_report_overdue"


def deadline_notices(portal: Portal, app: str) -> list[Record]:
    return portal.log.where(
        lambda r: r.topic == NOTIFICATIONS and r.data.get("about") == app and r.data["template"] in (DUE_SOON, OVERDUE)
    )


async def replicas(system: System, settings: dict[str, str]) -> list[ServiceProcess]:
    procs = [system.process("applications", **settings) for _ in range(2)]
    for proc in procs:
        proc.start()
    await asyncio.gather(*(proc.wait_ready() for proc in procs))
    return procs


def stop(procs: list[ServiceProcess]) -> None:
    for proc in procs:
        proc.stop()


async def test_the_applicant_is_reminded_and_staff_told_of_an_overdue_report_once_across_replicas_and_a_restart(
    system: System, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    portal = Portal(sender, topic_log)
    now = datetime.now(UTC)
    today = now.astimezone(OSLO).date()
    period_end = today - timedelta(days=1)
    period_ended = datetime.combine(today, time(0), tzinfo=OSLO)  # the end of the period's last day
    due = now + DUE_IN
    remind_at = due - LEAD
    settings = {
        "FINAL_REPORT_DUE_AFTER_S": str((due - period_ended).total_seconds()),
        "FINAL_REPORT_REMINDER_LEAD_S": str(LEAD.total_seconds()),
        "DEADLINE_POLL_INTERVAL_S": "0.5",
    }
    period = {"start": (period_end - timedelta(days=300)).isoformat(), "end": period_end.isoformat()}

    first = await replicas(system, settings)
    try:
        owing, reported, withdrawn = await asyncio.gather(*(running_project(portal, period=period) for _ in range(3)))
        [final] = await portal.answer(await portal.final_report(reported))  # a report: neither message is needed
        assert final.ce_type == FINAL
        await portal.answer(await portal.withdraw(withdrawn))  # no longer running: neither message
        assert datetime.now(UTC) < remind_at, "the set-up took longer than the margin before the reminder"
        [started] = portal.log.where(lambda r: r.key == owing and r.ce_type == "applications.ProjectStarted.v1")
        announced = datetime.fromisoformat(started.data["final_report_due"])
        assert abs(announced - due) < timedelta(seconds=1)

        [reminder] = await portal.log.wait_for(
            lambda r: r.topic == NOTIFICATIONS and r.data.get("about") == owing and r.data["template"] == DUE_SOON,
            timeout=DUE_IN.total_seconds(),
        )
        await portal.log.settle(2.0)
    finally:
        stop(first)

    second = await replicas(system, settings)  # a restart: the plan is in the database
    try:
        [overdue] = await portal.log.wait_for(
            lambda r: r.topic == NOTIFICATIONS and r.data.get("about") == owing and r.data["template"] == OVERDUE,
            timeout=DUE_IN.total_seconds(),
        )
        await portal.log.settle(3.0)
    finally:
        stop(second)

    assert [r.data["template"] for r in deadline_notices(portal, owing)] == [DUE_SOON, OVERDUE]
    assert deadline_notices(portal, reported) == []
    assert deadline_notices(portal, withdrawn) == []
    # each when its time came, not before
    assert datetime.fromisoformat(reminder.headers["ce_time"]) >= remind_at
    assert datetime.fromisoformat(overdue.headers["ce_time"]) >= due
    assert (reminder.key, reminder.data["audience"]) == ("kari@example.no", "applicant")
    assert (overdue.key, overdue.data["audience"], overdue.data["recipient"]["role"]) == (
        "case-handlers",
        "staff",
        "case-handlers",
    )
    assert reminder.data["params"]["final_report_due"] == started.data["final_report_due"]
    assert overdue.data["params"]["final_report_due"] == started.data["final_report_due"]

    rows = await admin_db.fetch(
        """SELECT application_id, final_report_reminder_settled_at IS NOT NULL AS reminded,
                  final_report_overdue_settled_at IS NOT NULL AS overdue
           FROM applications.applications WHERE application_id = ANY($1::uuid[])""",
        [uuid.UUID(a) for a in (owing, reported, withdrawn)],
    )
    settled = {str(r["application_id"]): (r["reminded"], r["overdue"]) for r in rows}
    # The reported project's plan was settled without a message; the withdrawn one's never came due.
    assert settled == {owing: (True, True), reported: (True, True), withdrawn: (False, False)}
