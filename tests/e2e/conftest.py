"""End-to-end: the three services as separate OS processes on real Kafka and Postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from devkit.processes import ServiceProcess
from devkit.system import System


@pytest.fixture(scope="module")
async def programme(system: System) -> AsyncIterator[dict[str, ServiceProcess]]:
    procs = {service: system.process(service) for service in ("applications", "workshops", "funding")}
    for proc in procs.values():
        proc.start()
    try:
        for proc in procs.values():
            await proc.wait_ready(timeout=120)
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()
