"""Serving a service's AsyncAPI document: the JSON at `/docs/asyncapi.json`, a page rendering it at `/docs/asyncapi`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faststream.asgi import AsgiResponse, get
from faststream.asgi.types import ASGIApp, Scope

from shared import asyncapi


def asyncapi_routes(document: dict[str, Any]) -> Sequence[tuple[str, ASGIApp]]:
    body = asyncapi.render(document).encode()
    page = asyncapi.html(document["info"]["title"]).encode()

    @get(include_in_schema=False)
    async def as_json(scope: Scope) -> AsgiResponse:  # noqa: ARG001 - faststream's handler signature
        return AsgiResponse(body, status_code=200, headers={"content-type": "application/json"})

    @get(include_in_schema=False)
    async def as_page(scope: Scope) -> AsgiResponse:  # noqa: ARG001
        return AsgiResponse(page, status_code=200, headers={"content-type": "text/html; charset=utf-8"})

    return (("/docs/asyncapi.json", as_json), ("/docs/asyncapi", as_page))
