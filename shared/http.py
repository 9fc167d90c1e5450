"""HTTP for operators: liveness, readiness (database and broker reachable) and Prometheus metrics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from faststream.asgi import AsgiResponse, get
from faststream.asgi.types import ASGIApp, Scope
from faststream.kafka import KafkaBroker
from prometheus_client import make_asgi_app

from shared.runtime import Runtime

_PROBE_TIMEOUT_S = 2.0


def health_routes(runtime: Runtime, broker: KafkaBroker) -> Sequence[tuple[str, ASGIApp]]:
    @get(include_in_schema=False)
    async def live(scope: Scope) -> AsgiResponse:  # noqa: ARG001 - faststream's handler signature
        return _json(200, {"status": "live", "service": runtime.service})

    @get(include_in_schema=False)
    async def ready(scope: Scope) -> AsgiResponse:  # noqa: ARG001
        checks = {"database": await _database_ok(runtime), "broker": await _broker_ok(broker)}
        checks["relay"] = runtime.health.relay_ok
        checks["consumers"] = not runtime.health.retrying
        # A partition this replica cannot move past is named, so the operator knows where to look.
        checks.update({f"partition {name}": False for name in runtime.health.held})
        ok = all(checks.values()) and not runtime.is_stopping()
        runtime.metrics.ready.labels(runtime.service).set(1 if ok else 0)
        body: dict[str, object] = {"status": "ready" if ok else "not_ready", "checks": checks}
        # Parked rows need an operator but do not stop the service: said here, not counted against readiness.
        body["outbox_parked"] = runtime.relay.parked if runtime.relay is not None else 0
        if runtime.health.retrying:
            body["retrying"] = dict(runtime.health.retrying)
        if runtime.health.held:
            body["held"] = dict(runtime.health.held)
        return _json(200 if ok else 503, body)

    return (
        ("/health/live", live),
        ("/health/ready", ready),
        ("/metrics", make_asgi_app(runtime.metrics.registry)),
    )


async def _database_ok(runtime: Runtime) -> bool:
    try:
        async with asyncio.timeout(_PROBE_TIMEOUT_S):
            async with runtime.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means not ready
        runtime.health.database_ok = False
        return False
    runtime.health.database_ok = True
    return True


async def _broker_ok(broker: KafkaBroker) -> bool:
    try:
        return bool(await broker.ping(timeout=_PROBE_TIMEOUT_S))
    except Exception:  # noqa: BLE001
        return False


def _json(status: int, body: dict[str, object]) -> AsgiResponse:
    return AsgiResponse(json.dumps(body).encode(), status_code=status, headers={"content-type": "application/json"})
