"""What operators and integrators read from a running service: health, metrics, the AsyncAPI document."""

from __future__ import annotations

import httpx

from devkit.processes import ServiceProcess

CONSUMES = {
    "applications": {"applications.commands.v1", "workshops.events.v1", "funding.events.v1"},
    "workshops": {"workshops.commands.v1", "applications.events.v1"},
    "funding": {"funding.commands.v1", "applications.events.v1"},
}


async def test_each_service_serves_its_asyncapi_document_health_and_metrics(
    programme: dict[str, ServiceProcess],
) -> None:
    async with httpx.AsyncClient(timeout=10.0) as client:
        for service, proc in programme.items():
            document = (await client.get(f"{proc.url}/docs/asyncapi.json")).json()
            addresses = {channel.get("address") for channel in document["channels"].values()}
            assert CONSUMES[service] <= addresses, service
            assert f"{service}.events.v1" in addresses
            assert f"{service}.dlq.v1" in addresses
            assert "programme.notifications.v1" in addresses
            assert document["info"]["title"] == f"{service} service"
            assert (await client.get(f"{proc.url}/docs/asyncapi")).status_code == 200

            assert (await client.get(f"{proc.url}/health/live")).json()["status"] == "live"
            ready = (await client.get(f"{proc.url}/health/ready")).json()
            assert ready == {
                "status": "ready",
                "checks": {"database": True, "broker": True, "relay": True, "consumers": True},
                "outbox_parked": 0,
            }
            metrics = (await client.get(f"{proc.url}/metrics")).text
            for name in ("programme_messages_in_total", "programme_outbox_backlog", "programme_relay_active"):
                assert name in metrics or name.removesuffix("_total") in metrics, (service, name)
