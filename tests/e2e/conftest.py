"""End-to-end: the three services as separate OS processes on real Kafka and Postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from devkit.processes import ServiceProcess
from devkit.system import System


@pytest.fixture(scope="module")
async def programme(system: System) -> AsyncIterator[dict[str, ServiceProcess]]:
    async with system.running(("applications", "workshops", "funding")) as procs:
        yield procs
