"""A relay holder that goes silent loses its lock in seconds, and a standby replica publishes in its place (ADR 2)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devkit.driver import Sender, TopicLog
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.db import Liveness
from shared.settings import ServiceSettings
from tests.integration.foundation.conftest import is_recorded, new_probe, send_record

DEFAULTS = ServiceSettings.model_fields
LOCK_TIMEOUT_S = float(DEFAULTS["relay_lock_timeout_s"].default)
COMMAND_TIMEOUT_S = float(DEFAULTS["relay_command_timeout_s"].default)
# ADR 2: the server ends a silent holder's session after the lock timeout; a standby asks for the
# lock every second; a command handled meanwhile is then on Kafka within a second more (consumed,
# committed, polled for, published, read back here).
TAKEOVER_WITHIN_S = LOCK_TIMEOUT_S + 1.0 + 1.0


async def metric(proc: ServiceProcess, name: str) -> float:
    """One sample of the process's /metrics, summed over its label sets."""
    async with httpx.AsyncClient(timeout=5.0) as client:
        text = (await client.get(f"{proc.url}/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


async def wait_metric(proc: ServiceProcess, name: str, value: float, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while (seen := await metric(proc, name)) != value:
        assert time.monotonic() < deadline, f"{name} of {proc.url} stayed {seen}, wanted {value}"
        await asyncio.sleep(0.1)


def log_events(proc: ServiceProcess, event: str) -> list[dict[str, object]]:
    found = []
    for line in proc.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("event") == event:
                found.append(entry)
    return found


@pytest.fixture
def replicas(system: System) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    first, second = new_probe(system), new_probe(system)
    yield first, second
    for proc in (first, second):
        if proc.process is not None and proc.process.poll() is None:
            os.kill(proc.process.pid, signal.SIGCONT)
        proc.stop()


async def test_the_relays_lock_connection_carries_the_liveness_settings(
    replicas: tuple[ServiceProcess, ServiceProcess],
) -> None:
    holder, _ = replicas
    holder.start()
    await holder.wait_ready()
    await wait_metric(holder, "programme_relay_active", 1.0)
    # Logged by the relay from its own lock connection, as the server has the settings for that session.
    [active] = log_events(holder, "relay.active")
    wanted = Liveness(LOCK_TIMEOUT_S, COMMAND_TIMEOUT_S)
    assert active["idle_session_timeout"] == f"{int(LOCK_TIMEOUT_S)}s"
    assert active["tcp_user_timeout"] == str(int(LOCK_TIMEOUT_S * 1000))  # milliseconds, shown without a unit
    for name in ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count"):
        assert active[name] == wanted.server_settings()[name], name
    assert int(str(active["tcp_keepalives_idle"])) + int(str(active["tcp_keepalives_count"])) <= LOCK_TIMEOUT_S


async def test_a_standby_takes_over_and_publishes_when_the_holder_is_stopped(
    replicas: tuple[ServiceProcess, ServiceProcess], sender: Sender, topic_log: TopicLog
) -> None:
    holder, standby = replicas
    holder.start()
    await holder.wait_ready()
    await wait_metric(holder, "programme_relay_active", 1.0)
    standby.start()
    await standby.wait_ready()
    # Both consume (the group is settled), so commands of the standby's partitions are handled
    # while the holder is stopped; only the relay is left to take over.
    deadline = time.monotonic() + 60
    while await metric(standby, "programme_messages_in_total") == 0:
        assert time.monotonic() < deadline, "the standby was given no partition"
        warm_up = [uuid.uuid4() for _ in range(12)]
        for item in warm_up:
            await send_record(sender, item)
        for item in warm_up:
            await topic_log.wait_for(is_recorded(item), timeout=60)
    assert await metric(standby, "programme_relay_active") == 0

    assert holder.process is not None
    os.kill(holder.process.pid, signal.SIGSTOP)
    stopped_at = time.monotonic()
    during = [uuid.uuid4() for _ in range(12)]
    for item in during:
        await send_record(sender, item)
    first = await topic_log.wait_for(lambda r: any(is_recorded(item)(r) for item in during), timeout=60)
    took_s = time.monotonic() - stopped_at
    print(f"standby published {took_s:.2f}s after the holder was stopped")  # the measured figure, for ADR 2
    assert took_s <= TAKEOVER_WITHIN_S, f"took {took_s:.2f}s, ADR 2 states {TAKEOVER_WITHIN_S}s"
    assert first
    assert await metric(standby, "programme_relay_active") == 1

    # Woken again, the old holder finds its session ended and stands by: one relay at a time.
    os.kill(holder.process.pid, signal.SIGCONT)
    await wait_metric(holder, "programme_relay_active", 0.0)
    for item in during:
        await topic_log.wait_for(is_recorded(item), timeout=60)
    assert await metric(standby, "programme_relay_active") == 1
