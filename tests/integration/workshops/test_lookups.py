"""The workshops look-up over HTTP on the running service: figures by period, cluster and town, no personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from devkit.ids import email, organisation_number
from devkit.payloads import morning
from tests.integration.workshops.conftest import LOOKUP_AUTH, LOOKUP_TOKEN, Client

OSLO = ZoneInfo("Europe/Oslo")


async def listed(http: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Every workshop the look-up lists with these filters, page after page."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        response = await http.get(
            "/v1/workshops", params={**params, **({"cursor": cursor} if cursor else {})}, headers=LOOKUP_AUTH
        )
        assert response.status_code == httpx.codes.OK, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def day(at: datetime) -> str:
    return at.astimezone(OSLO).date().isoformat()


async def test_workshops_show_seats_taken_waitlist_and_attendance_and_never_a_name_or_email(
    client: Client, http: httpx.AsyncClient
) -> None:
    start = morning(91)
    town = f"Gjøvik {organisation_number()}"  # a town of this test alone
    workshop = await client.schedule(start=start, capacity=2, location={"town": town, "venue": "Fjellhallen"})
    other = await client.schedule(start=start + timedelta(days=2), location={"town": town, "venue": "Fjellhallen"})
    people = [email("seat") for _ in range(3)]
    org = organisation_number()
    first, _, _ = await client.register(workshop["workshop_id"], person=people[0], org=org)
    second, _, _ = await client.register(workshop["workshop_id"], person=people[1], org=org)
    await client.register(workshop["workshop_id"], person=people[2], org=organisation_number())  # waitlisted
    await client.ask(
        "RecordAttendance", {"workshop_id": workshop["workshop_id"], "attended": [first, second]}, at=start
    )

    response = await http.get("/v1/workshops", params={"town": f"  {town.upper()} "}, headers=LOOKUP_AUTH)

    assert response.status_code == httpx.codes.OK
    items = response.json()["items"]
    assert [item["workshop_id"] for item in items] == [workshop["workshop_id"], other["workshop_id"]]
    figures = items[0]
    assert (figures["capacity"], figures["seats_taken"], figures["waitlist"]) == (2, 2, 1)
    assert (figures["attended"], figures["companies_attended"]) == (2, 1)
    assert (figures["town"], figures["hosting_cluster"], figures["past"]) == (town, "nce-raufoss", False)
    assert (items[1]["seats_taken"], items[1]["waitlist"]) == (0, 0)
    text = response.text
    assert "Kari" not in text
    assert "@" not in text, "no participant's, nor facilitator's, e-mail"
    assert all(person not in text for person in people)


async def test_workshops_filter_by_period_in_oslo_days_and_by_cluster_and_page_without_repeats(
    client: Client, http: httpx.AsyncClient
) -> None:
    town = f"Hamar {organisation_number()}"
    past_start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
    past = await client.schedule(
        start=past_start, at=past_start - timedelta(days=10), location={"town": town, "venue": "Sal A"}
    )
    starts = [morning(100 + i) for i in range(4)]
    upcoming = [await client.schedule(start=at, location={"town": town, "venue": "Sal A"}) for at in starts]
    energy = await client.schedule(
        start=starts[1] + timedelta(hours=4),
        hosting_cluster="nce-smart-energy-markets",
        location={"town": town, "venue": "Sal B"},
    )

    everything = await listed(http, town=town, limit=2)
    assert [w["workshop_id"] for w in everything] == [
        past["workshop_id"],
        upcoming[0]["workshop_id"],
        upcoming[1]["workshop_id"],
        energy["workshop_id"],
        upcoming[2]["workshop_id"],
        upcoming[3]["workshop_id"],
    ]
    assert [w["past"] for w in everything] == [True, False, False, False, False, False]

    period = await listed(http, town=town, **{"from": day(starts[1]), "to": day(starts[2])})
    assert [w["workshop_id"] for w in period] == [
        upcoming[1]["workshop_id"],
        energy["workshop_id"],
        upcoming[2]["workshop_id"],
    ]
    by_cluster = await listed(http, town=town, cluster="nce-smart-energy-markets")
    assert [w["workshop_id"] for w in by_cluster] == [energy["workshop_id"]]
    until_now = await listed(http, town=town, to=day(datetime.now(UTC)))
    assert [w["workshop_id"] for w in until_now] == [past["workshop_id"]]


@pytest.mark.parametrize(
    ("params", "named"),
    [({"from": "2027-02-01", "to": "2027-01-01"}, "to"), ({"from": "1st of May"}, "from"), ({"cursor": "x"}, "cursor")],
)
async def test_the_look_up_refuses_arguments_it_cannot_read(
    http: httpx.AsyncClient, params: dict[str, str], named: str
) -> None:
    response = await http.get("/v1/workshops", params=params, headers=LOOKUP_AUTH)
    assert response.status_code == httpx.codes.BAD_REQUEST
    assert response.json()["detail"].startswith(named)


async def test_the_look_up_refuses_without_a_token_and_is_described_in_openapi(http: httpx.AsyncClient) -> None:
    refused = await http.get("/v1/workshops")
    assert (refused.status_code, refused.json()["error"]) == (401, "unauthorized")
    assert (
        await http.get("/v1/workshops", headers={"Authorization": "Bearer " + LOOKUP_TOKEN[:-1]})
    ).status_code == 401
    document = (await http.get("/docs/openapi.json")).json()
    parameters = document["paths"]["/v1/workshops"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == ["from", "to", "cluster", "town", "limit", "cursor"]
    assert document["security"] == [{"bearer": []}]
