"""What a running service serves to integrators is the document exported to contract/asyncapi."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from devkit.processes import ServiceProcess

EXPORTED = Path(__file__).resolve().parents[3] / "contract" / "asyncapi"


async def test_the_service_serves_its_exported_asyncapi_document_and_a_page_rendering_it(
    funding: ServiceProcess,
) -> None:
    async with httpx.AsyncClient(timeout=10.0) as client:
        served = await client.get(f"{funding.url}/docs/asyncapi.json")
        page = await client.get(f"{funding.url}/docs/asyncapi")
    assert served.headers["content-type"] == "application/json"
    assert served.json() == json.loads((EXPORTED / "funding.json").read_text())
    assert page.status_code == 200
    assert "asyncapi.json" in page.text
