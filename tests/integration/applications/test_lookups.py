"""The applications look-ups over HTTP, on the running service: one application's history, the filtered list, tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from devkit.driver import Sender, TopicLog
from devkit.payloads import submit_application as submission
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.lookups import token_hash
from tests.integration.applications.conftest import Portal
from tests.integration.applications.test_lifecycle import READY, SUBMITTED, WITHDRAWN, ready_application

TOKEN = "a-token-for-the-applications-look-ups"  # noqa: S105 - a test token
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CLUSTER = "nce-smart-energy-markets"


@pytest.fixture(scope="module")
async def service(system: System) -> AsyncIterator[ServiceProcess]:
    """The service with two accepted tokens: ours, and another whose hash comes first."""
    proc = system.process("applications", LOOKUP_TOKEN_SHA256=f"{token_hash('another')},{token_hash(TOKEN).upper()}")
    proc.start()
    await proc.wait_ready()
    yield proc
    proc.stop()


@pytest.fixture
def portal(service: ServiceProcess, sender: Sender, topic_log: TopicLog) -> Portal:
    return Portal(sender, topic_log)


@pytest.fixture
async def http(service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service.url, timeout=10.0) as client:
        yield client


async def get(http: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    response = await http.get(path, params=params, headers=AUTH)
    assert response.status_code == httpx.codes.OK, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_one_application_answers_its_status_and_every_event_published_about_it_in_order(
    portal: Portal, http: httpx.AsyncClient
) -> None:
    app = await ready_application(portal)
    refused = await portal.confirm(app)  # a second confirmation: refused, and part of the history too
    await portal.rejection(refused)

    answer = await get(http, f"/v1/applications/{app}")

    assert answer["status"] == "ready_for_decision"
    assert answer["requested_nok"] == 800_000
    assert answer["lead_cluster"] == "nce-systems-engineering"
    history = answer["history"]
    assert [event["type"] for event in history] == portal.events(app)
    assert history[0]["type"] == SUBMITTED
    assert READY in [event["type"] for event in history]
    assert history[-1]["data"]["reasons"], "the refusal's reasons are in its event"
    times = [datetime.fromisoformat(event["time"]) for event in history]
    assert times == sorted(times)
    assert all(event["published"] for event in history)


async def test_an_unknown_application_is_not_found_and_a_malformed_id_a_bad_request(http: httpx.AsyncClient) -> None:
    missing = await http.get("/v1/applications/00000000-0000-4000-8000-000000000000", headers=AUTH)
    malformed = await http.get("/v1/applications/not-an-id", headers=AUTH)
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    assert (malformed.status_code, malformed.json()["error"]) == (400, "bad_request")
    assert "application_id" in malformed.json()["detail"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer"])
async def test_look_ups_refuse_without_the_right_bearer_token_while_health_and_documents_stay_open(
    http: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    for path in ("/v1/applications", "/v1/applications/00000000-0000-4000-8000-000000000000"):
        refused = await http.get(path, headers=headers)
        assert refused.status_code == httpx.codes.UNAUTHORIZED
        assert refused.headers["content-type"] == "application/json"
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert refused.json()["error"] == "unauthorized"
    assert (await http.get("/health/live", headers=headers)).status_code == httpx.codes.OK
    assert (await http.get("/metrics", headers=headers)).status_code == httpx.codes.OK
    document = await http.get("/docs/openapi.json", headers=headers)
    assert document.status_code == httpx.codes.OK
    assert set(document.json()["paths"]) == {"/v1/applications", "/v1/applications/{application_id}"}


async def test_the_list_filters_by_status_cluster_and_year_and_pages_by_keyset_without_repeats(
    portal: Portal, http: httpx.AsyncClient
) -> None:
    ours = []
    for _ in range(5):
        data = submission(lead_cluster=CLUSTER)
        await portal.answer(await portal.submit(data))
        ours.append(data["application_id"])
    await portal.answer(await portal.withdraw(ours[-1]))
    await portal.wait_event(ours[-1], WITHDRAWN)
    year = datetime.now(ZoneInfo("Europe/Oslo")).year

    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"status": "submitted", "cluster": CLUSTER, "year": year, "limit": 2}
        page = await get(http, "/v1/applications", **params, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 2
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    ids = [item["application_id"] for item in seen]
    assert len(ids) == len(set(ids)), "no application on two pages"
    assert [i for i in ids if i in ours] == ours[:-1], "ours, in submission order, the withdrawn one left out"
    assert {(item["status"], item["lead_cluster"]) for item in seen} == {("submitted", CLUSTER)}
    assert [item["submitted_at"] for item in seen] == sorted(item["submitted_at"] for item in seen)
    assert "contact" not in seen[0]

    withdrawn = await get(http, "/v1/applications", status="withdrawn", cluster=CLUSTER, limit=500)
    assert ours[-1] in [item["application_id"] for item in withdrawn["items"]]
    last_year = await get(http, "/v1/applications", cluster=CLUSTER, year=year - 1)
    assert not set(ours) & {item["application_id"] for item in last_year["items"]}


@pytest.mark.parametrize(
    ("params", "named"),
    [({"cursor": "not-a-cursor"}, "cursor"), ({"limit": "0"}, "limit"), ({"status": "lost"}, "status")],
)
async def test_the_list_refuses_arguments_it_cannot_read(
    http: httpx.AsyncClient, params: dict[str, str], named: str
) -> None:
    response = await http.get("/v1/applications", params=params, headers=AUTH)
    assert response.status_code == httpx.codes.BAD_REQUEST
    assert response.json()["detail"].startswith(named)
