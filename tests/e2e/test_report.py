"""The yearly report against a known scenario: one application's whole life sent through Kafka to the three
running services, then `programme report` read from their look-ups, as a table, CSV files and a page with charts.

The suite shares the year with other tests, so the scenario's figures are checked as what it added:
the report before it, and after.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from devkit import payloads
from devkit.driver import Sender, TopicLog
from devkit.ids import organisation_number
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.cli.report import Clients, Report, gather
from shared.cli.report_lookups import LookupClient
from shared.lookups import token_hash
from tests.chromium import chart_marks
from tests.e2e.test_whole_life import (
    GRANT_NOK,
    Life,
    _accepted_and_started,
    _invited_clarified_and_granted,
    _paid_an_interim_instalment,
    _paid_in_full_and_completed,
    _reported_on,
)

TOKEN = "a-token-for-the-yearly-report"  # noqa: S105 - a test token
ALLOCATED = 10_000_000  # what the whole life allocates
PAID = 720_000  # 90 % of the total cost documented: 90 % of the grant
CLI_TIMEOUT_S = 120.0


@pytest.fixture(scope="module")
async def services(system: System) -> AsyncIterator[dict[str, ServiceProcess]]:
    names = ("applications", "workshops", "funding")
    async with system.running(names, LOOKUP_TOKEN_SHA256=token_hash(TOKEN)) as procs:
        yield procs


def clients(services: dict[str, ServiceProcess], token: str = TOKEN) -> Clients:
    return Clients(
        LookupClient(services["applications"].url, token),
        LookupClient(services["workshops"].url, token),
        LookupClient(services["funding"].url, token),
    )


def table(report: Report, name: str) -> dict[Any, tuple[Any, ...]]:
    """A table's rows by their first cell."""
    return {row[0]: row[1:] for row in report.tables[name].rows}


def added(before: Report, after: Report, name: str, key: Any) -> tuple[int, ...]:
    """What the scenario added to one row of a table: after less before (a row before it absent counts as 0)."""
    now = table(after, name)[key]
    then = table(before, name).get(key, tuple(0 for _ in now))
    return tuple(int(a) - int(b) for a, b in zip(now, then, strict=True))


def programme_report(
    services: dict[str, ServiceProcess], *args: str, token: str = TOKEN
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PROGRAMME_APPLICATIONS_URL": services["applications"].url,
        "PROGRAMME_WORKSHOPS_URL": services["workshops"].url,
        "PROGRAMME_FUNDING_URL": services["funding"].url,
        "PROGRAMME_LOOKUP_TOKEN": token,
    }
    return subprocess.run(
        [sys.executable, "-m", "programme", "report", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


async def test_the_report_counts_a_whole_life_and_draws_it(
    services: dict[str, ServiceProcess], sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool, tmp_path: Path
) -> None:
    submission = payloads.submit_application(
        organisation_number(random.Random()), how=payloads.PLAN, lead_cluster="nce-raufoss", partner_clusters=[]
    )
    applicant = submission["applicant"]
    life = Life(
        sender, topic_log, submission["application_id"], applicant["organisation_number"], applicant["contact"]["email"]
    )
    year = datetime.now(UTC).year  # the whole life's programme year
    before = await gather(year, clients(services))

    assert (await _invited_clarified_and_granted(life, submission))[0] == year
    await _accepted_and_started(life, admin_db)
    await _paid_an_interim_instalment(life)
    await _reported_on(life, admin_db)
    await _paid_in_full_and_completed(life)
    after = await gather(year, clients(services))

    released = GRANT_NOK - PAID
    assert added(before, after, "summary", "budget allocated (NOK)") == (ALLOCATED,)
    assert added(before, after, "summary", "granted (NOK)") == (GRANT_NOK,)
    assert added(before, after, "summary", "paid (NOK)") == (PAID,)
    assert added(before, after, "summary", "released back (NOK)") == (released,)
    assert added(before, after, "summary", "remaining (NOK)") == (ALLOCATED - GRANT_NOK + released,)
    assert added(before, after, "summary", "applications submitted") == (1,)
    assert added(before, after, "summary", "requested (NOK)") == (GRANT_NOK,)
    assert added(before, after, "summary", "workshops held") == (1,)
    assert added(before, after, "summary", "participants") == (1,)
    month = datetime.now(payloads.OSLO).month
    assert added(before, after, "budget_by_month", month)[:2] == (GRANT_NOK, released)
    for stage in ("clarification (attended)", "application", "ready for decision", "granted", "completed"):
        assert added(before, after, "path", stage) == (1,), stage
    assert added(before, after, "towns", "Raufoss") == (1, 1, 1)  # workshops held, participants, companies
    assert added(before, after, "clusters", "nce-raufoss") == (1, 1, 1, 1, GRANT_NOK)
    for area in submission["focus_areas"]:
        assert added(before, after, "focus_areas", area) == (1, GRANT_NOK, GRANT_NOK)
    results = [row for row in after.tables["results"].rows if row[0] == life.application_id]
    assert results == [(life.application_id, submission["title"], "unplanned stops per month", "-50 %", "-55 %")]

    # The CLI prints the same, writes the tables and a page on which Chromium finds every chart drawn.
    done = programme_report(
        services, "--year", str(year), "--csv", str(tmp_path / "csv"), "--html", str(tmp_path / "report.html")
    )
    assert done.returncode == 0, done.stderr
    assert f"Programme report {year}" in done.stdout
    assert submission["title"] in done.stdout
    with (tmp_path / "csv" / f"results-{year}.csv").open(encoding="utf-8") as file:
        assert [life.application_id, submission["title"], "unplanned stops per month", "-50 %", "-55 %"] in list(
            csv.reader(file)
        )
    marks = chart_marks(tmp_path / "report.html")
    assert sorted(marks) == sorted(["budget-use", "demand", "path", "clusters", "towns", "focus-areas", "results"])
    assert all(count > 0 for count in marks.values()), marks


async def test_the_report_refuses_clearly_without_a_valid_token(services: dict[str, ServiceProcess]) -> None:
    done = programme_report(services, "--year", "2027", token="not-a-token-any-service-knows")  # noqa: S106

    assert done.returncode == 3, done.stdout
    assert "answered 401" in done.stderr
    assert "PROGRAMME_LOOKUP_TOKEN" in done.stderr
