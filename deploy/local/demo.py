"""`make demo`: a short programme story sent to the running system, told back as a timeline of its events.

A budget for the year; a clarification workshop at Raufoss; two companies apply, register,
confirm their management's commitment and attend; both become ready for decision; one is
granted, one declined. The grant goes on: the company accepts it and the project starts; half
its costs documented earn an interim payment; it reports its progress, then its final results,
which staff accept; the final payment closes the case, releases the unpaid rest and completes
the project. Every record the story causes is printed as it arrives, and at the end the year's
programme report, read from the services' look-ups.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from deploy.local import kafka as local_kafka
from deploy.local.services import service_process
from devkit import payloads
from devkit.driver import Record, Sender, TopicLog
from devkit.ids import organisation_number
from shared.cli import report_tables
from shared.cli.report import Clients, gather
from shared.cli.report_lookups import LOCAL_LOOKUP_TOKEN, LookupClient, LookupUnavailableError
from shared.topics import (
    APPLICATIONS_COMMANDS,
    APPLICATIONS_EVENTS,
    FUNDING_COMMANDS,
    FUNDING_EVENTS,
    NOTIFICATIONS,
    SERVICES,
    WORKSHOPS_COMMANDS,
    WORKSHOPS_EVENTS,
)

STORY_TIMEOUT_S = 60.0
COMPANIES = (("Kongsberg Maritim Teknikk AS", "nce-systems-engineering"), ("Raufoss Presisjon AS", "nce-raufoss"))


def describe(ce_type: str, data: dict[str, Any]) -> str:
    """A line a person reads: the fact, with its most telling fields; names and e-mails left out."""
    name = ce_type.split(".")[1]
    if name == "NotificationRequested":
        who = data.get("recipient", {}).get("role") or data.get("audience")
        return f"notify {who}: {data.get('template')}"
    if name == "CommandRejected":
        return f"REFUSED {data.get('command_type')}: {[r.get('code') for r in data.get('reasons', [])]}"
    keep = (
        "status",
        "version",
        "amount_nok",
        "programme_year",
        "remaining_nok",
        "total_nok",
        "reason",
        "position",
        "threshold",
        "kind",
        "requested_nok",
        "budget_remaining_nok",
        "paid_total_nok",
        "remaining_grant_nok",
        "final_report_due",
    )
    shown = {k: v for k, v in data.items() if k in keep}
    return f"{name} {json.dumps(shown, ensure_ascii=False)}" if shown else name


class Timeline:
    """The story's voice and ears: what it sends is noted, and every record that follows from it is printed."""

    def __init__(self, bootstrap: str) -> None:
        self.started = time.monotonic()
        self._ours: set[str] = set()  # the ce_ids the story sent: a chain's correlation id is one of them
        self._sender = Sender(bootstrap, source="/demo")
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self._log = TopicLog(
            bootstrap, (APPLICATIONS_EVENTS, WORKSHOPS_EVENTS, FUNDING_EVENTS, NOTIFICATIONS), on_record=self._show
        )

    async def __aenter__(self) -> Self:
        await self._sender.start()
        await self._log.start()
        await self._admin.start()
        print(f"{'time':>7}  {'service':12} {'about':8}  fact")
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._admin.close()
        await self._log.stop()
        await self._sender.stop()

    async def tell(self, topic: str, ce_type: str, key: str, data: dict[str, Any]) -> None:
        ce_id = str(uuid.uuid4())
        self._ours.add(ce_id)  # before it leaves: its first answer may come before the broker's acknowledgement
        await self._sender.send(topic, ce_type, key, data, ce_id=ce_id)

    async def wait(self, ce_type: str, applications: set[str]) -> bool:
        """Whether every one of the applications has had a `ce_type` event before the story's deadline."""
        deadline = time.monotonic() + STORY_TIMEOUT_S
        while time.monotonic() < deadline:
            seen = {r.data.get("application_id") for r in self._log.where(lambda r: r.ce_type == ce_type)}
            if applications <= seen:
                return True
            await asyncio.sleep(0.1)
        return False

    async def handled(self, group: str, ce_type: str, application_id: str) -> bool:
        """Whether the consumer group has handled the application's `ce_type` event before the story's deadline.

        A reaction that gives no event shows only here: the services commit a record's offset
        after handling it.
        """
        record = self._log.where(lambda r: r.ce_type == ce_type and r.data.get("application_id") == application_id)[0]
        partition = TopicPartition(record.topic, record.partition)
        deadline = time.monotonic() + STORY_TIMEOUT_S
        while time.monotonic() < deadline:
            committed = await self._admin.list_consumer_group_offsets(group, partitions=[partition])
            if partition in committed and committed[partition].offset > record.offset:
                return True
            await asyncio.sleep(0.1)
        return False

    def _show(self, record: Record) -> None:
        if record.correlation_id not in self._ours:
            return
        data = record.data
        notification = record.topic == NOTIFICATIONS
        service = "notify" if notification else record.topic.split(".", maxsplit=1)[0]
        # A notification is keyed by its recipient's e-mail: show what it is about instead.
        key = str(data.get("about") if notification else record.headers.get("ce_subject") or "")[:8]
        print(f"{time.monotonic() - self.started:6.2f}s  {service:12} {key:8}  {describe(record.ce_type, data)}")


async def story(bootstrap: str) -> int:
    async with Timeline(bootstrap) as timeline:
        applications = await _apply_and_attend(timeline)
        if not await timeline.wait("funding.FundingCaseOpened.v1", set(applications)):
            print("the cases did not open in time; is the system running (make up)?", file=sys.stderr)
            return 1
        granted, declined = applications
        grant = payloads.decide_funding(
            granted, amount_nok=800_000, reason="clear why and what, anchored in management", decided_by="case handler"
        )
        decline = payloads.decide_funding(
            declined,
            outcome="decline",
            reason="the objectives do not yet measure productivity",
            decided_by="case handler",
        )
        await timeline.tell(FUNDING_COMMANDS, "funding.DecideFunding.v1", granted, grant)
        await timeline.tell(FUNDING_COMMANDS, "funding.DecideFunding.v1", declined, decline)
        await timeline.wait("applications.ApplicationDeclined.v1", {declined})
        if not await timeline.wait("applications.ApplicationApproved.v1", {granted}) or not await _follow_up(
            timeline, granted
        ):
            print("the story stopped short of a completed project; see the timeline above", file=sys.stderr)
            return 1
        await asyncio.sleep(1.0)  # the last notifications
    took = time.monotonic() - timeline.started
    print(f"\nThe story took {took:.1f} s; `programme tail --from-beginning` shows it all again.")
    return await _print_report(datetime.now(payloads.OSLO).year)


async def _print_report(year: int) -> int:
    """The story's year as `programme report --year` prints it, read from the running services' look-ups."""
    url = {name: service_process(name).url for name in SERVICES}
    clients = Clients(
        applications=LookupClient(url["applications"], LOCAL_LOOKUP_TOKEN),
        workshops=LookupClient(url["workshops"], LOCAL_LOOKUP_TOKEN),
        funding=LookupClient(url["funding"], LOCAL_LOOKUP_TOKEN),
    )
    try:
        report = await gather(year, clients)
    except LookupUnavailableError as error:
        print(f"\nno report: {error}", file=sys.stderr)
        return 1
    print("\n" + report_tables.text(report))
    print(f"\n`programme report --year {year} --html report.html` draws it as charts.")
    return 0


async def _apply_and_attend(timeline: Timeline) -> list[str]:
    """A budget, a workshop starting in seconds, the companies' applications, registrations and attendance."""
    year = datetime.now(payloads.OSLO).year
    allocation = payloads.allocate_budget(year, 5_000_000, source="state budget, cluster programmes for restructuring")
    await timeline.tell(FUNDING_COMMANDS, "funding.AllocateBudget.v1", f"budget-{year}", allocation)
    starts_at = datetime.now(UTC) + timedelta(seconds=4)
    workshop = payloads.schedule_workshop(starts_at)
    workshop_id = workshop["workshop_id"]
    await timeline.tell(WORKSHOPS_COMMANDS, "workshops.ScheduleWorkshop.v1", workshop_id, workshop)
    applications, registrations = [], []
    for company, lead in COMPANIES:
        org = organisation_number()
        submit = payloads.submit_application(org, how=payloads.PLAN, lead_cluster=lead, partner_clusters=[])
        submit["applicant"]["name"] = company
        application_id = submit["application_id"]
        await timeline.tell(APPLICATIONS_COMMANDS, "applications.SubmitApplication.v1", application_id, submit)
        register = payloads.register_participant(workshop_id, organisation=org)
        await timeline.tell(WORKSHOPS_COMMANDS, "workshops.RegisterParticipant.v1", workshop_id, register)
        confirm = payloads.confirm_management_commitment(application_id, name="Daglig leder")
        await timeline.tell(
            APPLICATIONS_COMMANDS, "applications.ConfirmManagementCommitment.v1", application_id, confirm
        )
        applications.append(application_id)
        registrations.append(register["registration_id"])
    await asyncio.sleep(max(0.0, (starts_at - datetime.now(UTC)).total_seconds() + 0.2))
    attended = payloads.record_attendance(workshop_id, registrations)
    await timeline.tell(WORKSHOPS_COMMANDS, "workshops.RecordAttendance.v1", workshop_id, attended)
    return applications


async def _follow_up(timeline: Timeline, application_id: str) -> bool:
    """The grant accepted, paid half, reported on, paid in full: whether the project completed in time."""
    steps: tuple[tuple[str, str, dict[str, Any], str], ...] = (
        (
            FUNDING_COMMANDS,
            "funding.AcceptGrant.v1",
            payloads.accept_grant(application_id, name="Daglig leder"),
            "applications.ProjectStarted.v1",
        ),
        # Half the total cost documented: half the grant paid.
        (
            FUNDING_COMMANDS,
            "funding.ApprovePayment.v1",
            payloads.approve_payment(application_id, kind="interim", documented_costs_nok=1_000_000),
            "funding.PaymentApproved.v1",
        ),
        (
            APPLICATIONS_COMMANDS,
            "applications.SubmitProgressReport.v1",
            payloads.submit_progress_report(application_id),
            "applications.ProgressReportSubmitted.v1",
        ),
        (
            APPLICATIONS_COMMANDS,
            "applications.SubmitFinalReport.v1",
            payloads.submit_final_report(application_id),
            "applications.FinalReportSubmitted.v1",
        ),
        (
            APPLICATIONS_COMMANDS,
            "applications.AcceptFinalReport.v1",
            payloads.accept_final_report(application_id),
            "applications.FinalReportAccepted.v1",
        ),
    )
    for topic, ce_type, data, until in steps:
        await timeline.tell(topic, ce_type, application_id, data)
        if not await timeline.wait(until, {application_id}):
            return False
    # Funding takes the accepted report in without an event; the final payment waits until it has.
    if not await timeline.handled("funding", "applications.FinalReportAccepted.v1", application_id):
        return False
    # 90 % of the total cost documented: 90 % of the grant paid in all, the rest released.
    final = payloads.approve_payment(application_id, kind="final", documented_costs_nok=1_800_000)
    await timeline.tell(FUNDING_COMMANDS, "funding.ApprovePayment.v1", application_id, final)
    return await timeline.wait("applications.ProjectCompleted.v1", {application_id})


def main() -> None:
    # The broker `make up` started, on PROGRAMME_KAFKA_PORT, unless another is named.
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or local_kafka.kafka_bootstrap(local_kafka.kafka_port())
    sys.exit(asyncio.run(story(bootstrap)))


if __name__ == "__main__":
    main()
