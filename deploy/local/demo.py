"""`make demo`: a short programme story sent to the running system, told back as a timeline of its events.

A budget for the year; a clarification workshop at Raufoss; two companies apply, register,
confirm their management's commitment and attend; both become ready for decision; one is
granted, one declined. Every record the story causes is printed as it arrives.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.chain import Driver, schedule_workshop, submit_application
from devkit.ids import organisation_number
from shared.topics import APPLICATIONS_COMMANDS, FUNDING_COMMANDS, WORKSHOPS_COMMANDS

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
    )
    shown = {k: v for k, v in data.items() if k in keep}
    return f"{name} {json.dumps(shown, ensure_ascii=False)}" if shown else name


async def story(bootstrap: str) -> int:
    started = time.monotonic()

    def show(topic: str, headers: dict[str, str], data: dict[str, Any]) -> None:
        # A chain's correlation id is the ce_id of the command that began it: one of ours.
        if headers.get("ce_correlationid") not in driver.sent:
            return
        service = topic.split(".", maxsplit=1)[0] if not topic.startswith("programme.") else "notify"
        # A notification is keyed by its recipient's e-mail: show what it is about instead.
        key = str(data.get("about") if topic.startswith("programme.") else headers.get("ce_subject") or "")[:8]
        print(f"{time.monotonic() - started:6.2f}s  {service:12} {key:8}  {describe(headers.get('ce_type', ''), data)}")

    driver = Driver(bootstrap, on_record=show)
    await driver.start()
    print(f"{'time':>7}  {'service':12} {'about':8}  fact")
    try:
        year = datetime.now(UTC).year
        allocation = {
            "allocation_id": str(uuid.uuid4()),
            "programme_year": year,
            "amount_nok": 5_000_000,
            "source": "state budget, cluster programmes for restructuring",
        }
        await driver.send(FUNDING_COMMANDS, "funding.AllocateBudget.v1", f"budget-{year}", allocation)
        workshop_id = str(uuid.uuid4())
        starts_at = datetime.now(UTC) + timedelta(seconds=4)
        await driver.send(
            WORKSHOPS_COMMANDS,
            "workshops.ScheduleWorkshop.v1",
            workshop_id,
            schedule_workshop(workshop_id, 1, starts_at),
        )
        driver.workshops.append((workshop_id, starts_at))
        apps = []
        for n, (company, lead) in enumerate(COMPANIES):
            application_id, org = str(uuid.uuid4()), organisation_number()
            submit = submit_application(application_id, org, n, lead=lead)
            submit["applicant"]["name"] = company
            await driver.send(APPLICATIONS_COMMANDS, "applications.SubmitApplication.v1", application_id, submit)
            registration_id = str(uuid.uuid4())
            register = {
                "workshop_id": workshop_id,
                "registration_id": registration_id,
                "participant": {
                    "name": f"Deltaker {n}",
                    "email": f"deltaker{n}@demo.example",
                    "organisation_number": org,
                },
            }
            await driver.send(WORKSHOPS_COMMANDS, "workshops.RegisterParticipant.v1", workshop_id, register)
            confirm = {
                "application_id": application_id,
                "confirmed_by": {"name": "Daglig leder", "role": "CEO"},
                "confirmed_at": datetime.now(UTC).isoformat(),
            }
            await driver.send(
                APPLICATIONS_COMMANDS, "applications.ConfirmManagementCommitment.v1", application_id, confirm
            )
            apps.append((application_id, registration_id))
        await asyncio.sleep(max(0.0, (starts_at - datetime.now(UTC)).total_seconds() + 0.2))
        attended = {"workshop_id": workshop_id, "attended": [registration for _, registration in apps]}
        await driver.send(WORKSHOPS_COMMANDS, "workshops.RecordAttendance.v1", workshop_id, attended)
        opened = await _wait(driver, "funding.FundingCaseOpened.v1", {a for a, _ in apps})
        if not opened:
            print("the cases did not open in time; is the system running (make up)?", file=sys.stderr)
            return 1
        grant = {
            "application_id": apps[0][0],
            "outcome": "grant",
            "amount_nok": 800_000,
            "reason": "clear why and what, anchored in management",
            "decided_by": "case handler",
        }
        decline = {
            "application_id": apps[1][0],
            "outcome": "decline",
            "reason": "the objectives do not yet measure productivity",
            "decided_by": "case handler",
        }
        await driver.send(FUNDING_COMMANDS, "funding.DecideFunding.v1", apps[0][0], grant)
        await driver.send(FUNDING_COMMANDS, "funding.DecideFunding.v1", apps[1][0], decline)
        await _wait(driver, "applications.ApplicationDeclined.v1", {apps[1][0]})
        await _wait(driver, "applications.ApplicationApproved.v1", {apps[0][0]})
        await asyncio.sleep(1.0)  # the last notifications
    finally:
        await driver.stop()
    print(f"\nThe story took {time.monotonic() - started:.1f} s; `programme tail --from-beginning` shows it all again.")
    return 0


async def _wait(driver: Driver, ce_type: str, subjects: set[str]) -> bool:
    deadline = time.monotonic() + STORY_TIMEOUT_S
    while time.monotonic() < deadline:
        seen = {s.subject_id for s in driver.seen if s.ce_type == ce_type}
        if subjects <= seen:
            return True
        await asyncio.sleep(0.1)
    return False


def main() -> None:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    sys.exit(asyncio.run(story(bootstrap)))


if __name__ == "__main__":
    main()
