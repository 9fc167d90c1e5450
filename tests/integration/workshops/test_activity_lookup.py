"""The workshops' activity look-up on the running service: held workshops by cluster and town, companies once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from devkit.ids import email, organisation_number
from devkit.payloads import morning
from tests.integration.workshops.conftest import LOOKUP_AUTH, Client


async def held_workshop(client: Client, start: datetime, cluster: str, town: str, orgs: list[str]) -> None:
    """A workshop in the past, scheduled and registered for before it began, each org's participant attending."""
    before = start - timedelta(days=10)
    workshop = await client.schedule(
        start=start, at=before, hosting_cluster=cluster, location={"town": town, "venue": "Sal A"}
    )
    registered = [
        (await client.register(workshop["workshop_id"], person=email("p"), org=org, at=before))[0] for org in orgs
    ]
    answers = await client.ask(
        "RecordAttendance",
        {"workshop_id": workshop["workshop_id"], "attended": registered},
        at=start,
        count=len(registered),
    )
    assert {answer.ce_type for answer in answers} == {"workshops.AttendanceRecorded.v1"}


async def activity(http: httpx.AsyncClient, period: dict[str, str]) -> dict[str, Any]:
    response = await http.get("/v1/activity", params=period, headers=LOOKUP_AUTH)
    assert response.status_code == httpx.codes.OK, response.text
    body: dict[str, Any] = response.json()
    return body


def place(places: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [p for p in places if p["name"] == name]
    return found


async def test_activity_counts_held_workshops_participants_and_each_company_once_per_place(
    client: Client, http: httpx.AsyncClient
) -> None:
    # The town is this test's alone; the cluster is one of the programme's, shared: what the test added to it.
    cluster, town = "nce-smart-energy-markets", f"Lillehammer {organisation_number()}"
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
    period = {"from": (start - timedelta(days=1)).date().isoformat(), "to": morning(60).date().isoformat()}
    before = await activity(http, period)
    a, b, c = (organisation_number() for _ in range(3))
    await held_workshop(client, start, cluster, town, [a, b])
    await held_workshop(client, start + timedelta(days=1), cluster, town, [a, c])
    await client.schedule(start=morning(40), hosting_cluster=cluster, location={"town": town, "venue": "Sal B"})

    after = await activity(http, period)

    # Two held (the upcoming one is not), four participants, three companies (a attended both).
    expected = {"workshops_held": 2, "participants": 4, "companies": 3}
    assert place(after["towns"], town) == {"name": town, **expected}
    was = place(before["clusters"], cluster) if any(p["name"] == cluster for p in before["clusters"]) else {}
    now = place(after["clusters"], cluster)
    assert {key: now[key] - was.get(key, 0) for key in expected} == expected


async def test_activity_refuses_a_period_ending_before_it_starts_and_a_caller_without_a_token(
    http: httpx.AsyncClient,
) -> None:
    backwards = await http.get("/v1/activity", params={"from": "2027-02-01", "to": "2027-01-01"}, headers=LOOKUP_AUTH)
    assert backwards.status_code == httpx.codes.BAD_REQUEST
    assert (await http.get("/v1/activity")).status_code == httpx.codes.UNAUTHORIZED
