"""Two replicas side by side: a company's clarification attendance racing its submissions still counts once each."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import applications as service
import asyncpg
import pytest
from applications.domain.policy import Policy
from applications.usecases import UseCases

from devkit.ids import organisation_number
from devkit.payloads import submit_application as submission
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.cause import Cause
from shared.contract.applications import SubmitApplication
from shared.contract.reference import CLUSTERS
from shared.contract.workshops import AttendanceRecorded
from shared.db import Connection
from shared.outbox import Recorder
from tests.integration.applications.conftest import Portal

CLARIFIED = "applications.ClarificationCompleted.v1"
READY = "applications.ApplicationReadyForDecision.v1"
COMPANIES = 15
MIGRATIONS = service.SERVICE.migrations
CASES = UseCases(Policy(clusters=frozenset(CLUSTERS)))


@pytest.fixture(scope="module")
async def second_replica(system: System, applications: ServiceProcess) -> AsyncIterator[ServiceProcess]:
    proc = system.process("applications", RETRY_BACKOFF_MAX_S="0.5", HANDLER_MAX_ATTEMPTS="2")
    proc.start()
    await proc.wait_ready()
    yield proc
    proc.stop()


async def test_attendance_racing_submissions_completes_each_application_once_and_readies_it_once(
    portal: Portal, second_replica: ServiceProcess
) -> None:
    companies = [organisation_number() for _ in range(COMPANIES)]
    applications = {
        number: [submission(number, how="A plan."), submission(number, how="A plan.")] for number in companies
    }
    # Submissions (commands topic) and attendances (workshops topic) at once: consumed by different
    # subscribers, possibly in different replicas, so they race for each company.
    await asyncio.gather(
        *(portal.submit(data) for apps in applications.values() for data in apps),
        *(portal.attend(number) for number in companies),
    )
    every = [data["application_id"] for apps in applications.values() for data in apps]
    for app in every:
        await portal.wait_event(app, CLARIFIED)
    await asyncio.gather(*(portal.confirm(app) for app in every))
    for app in every:
        await portal.wait_event(app, READY)
    await portal.attend(companies[0])  # and once more, after all is settled
    await portal.log.settle(1.5)

    for app in every:
        events = portal.events(app)
        assert events.count(CLARIFIED) == 1, events
        assert events.count(READY) == 1, events
        assert events[-1] == READY
        templates = sorted(n.template for n in portal.notifications(app))
        assert templates == [
            "applications.preconditions_missing",
            "applications.ready_for_decision",
            "applications.received",
        ]


# The same race made certain: one transaction held open while the other runs, on real Postgres.


@pytest.fixture(scope="module")
async def pool(system: System) -> AsyncIterator[asyncpg.Pool]:
    """Connections as the applications role, on its migrated schema."""
    pool = await system.migrated_pool("applications", migrations=MIGRATIONS, max_size=4)
    yield pool
    await pool.close()


def recorder(command_type: str | None = None) -> Recorder:
    message_id = str(uuid.uuid4())
    return Recorder(
        service="applications",
        events_topic="applications.events.v1",
        seed=f"test/{message_id}",
        time=datetime.now(UTC),
        correlation_id=message_id,
        causation_id=message_id,
        command_type=command_type,
    )


def event_types(out: Recorder) -> list[str]:
    return [row.ce_type for row in out.rows if row.topic == "applications.events.v1"]


def cause(out: Recorder) -> Cause:
    return Cause(message_id=out.causation_id or "", at=datetime.now(UTC), source="/tests")


async def _submit(conn: Connection, out: Recorder, data: dict[str, Any]) -> None:
    await CASES.submit(conn, SubmitApplication.model_validate_json(json.dumps(data)), cause(out), out)


async def _attend(conn: Connection, out: Recorder, number: str) -> None:
    attendance = AttendanceRecorded(
        workshop_id=uuid.uuid4(),
        registration_id=uuid.uuid4(),
        kind="clarification",
        hosting_cluster="nce-raufoss",
        organisation_number=number,
        attended_at=datetime.now(UTC),
    )
    await CASES.clarify(conn, attendance, cause(out), out)


Work = Callable[[Connection, Recorder], Awaitable[None]]


async def _first_held_open_then(pool: asyncpg.Pool, first: Work, second: Work) -> tuple[Recorder, Recorder]:
    """Run ``first`` and keep its transaction open while ``second`` starts; commit ``first`` only then."""
    out_first, out_second = recorder(SubmitApplication.ce_type), recorder(SubmitApplication.ce_type)

    async def run_second() -> None:
        async with pool.acquire() as conn, conn.transaction():
            await second(conn, out_second)

    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        await first(conn, out_first)
        racing = asyncio.create_task(run_second())
        await asyncio.sleep(0.5)
        assert not racing.done(), "the second transaction did not wait for the company's lock"
        await transaction.commit()
    await asyncio.wait_for(racing, 10)
    return out_first, out_second


async def test_an_attendance_waits_for_a_submission_of_the_same_company_in_flight_and_then_counts(
    pool: asyncpg.Pool,
) -> None:
    number = organisation_number()
    data = submission(number, how="A plan.")
    submitted, attended = await _first_held_open_then(
        pool, lambda conn, out: _submit(conn, out, data), lambda conn, out: _attend(conn, out, number)
    )
    assert event_types(submitted) == ["applications.ApplicationSubmitted.v1"]
    assert event_types(attended) == ["applications.ClarificationCompleted.v1"]


async def test_a_submission_waits_for_an_attendance_of_the_same_company_in_flight_and_then_counts_it(
    pool: asyncpg.Pool,
) -> None:
    number = organisation_number()
    data = submission(number, how="A plan.")
    attended, submitted = await _first_held_open_then(
        pool, lambda conn, out: _attend(conn, out, number), lambda conn, out: _submit(conn, out, data)
    )
    assert event_types(attended) == []
    assert event_types(submitted) == [
        "applications.ApplicationSubmitted.v1",
        "applications.ClarificationCompleted.v1",
    ]
