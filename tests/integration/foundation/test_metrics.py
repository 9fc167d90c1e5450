"""What a service exports for Prometheus, read from its /metrics as a scraper would (issue 15 item 3)."""

from __future__ import annotations

import asyncio
import time
import uuid

from devkit.driver import Sender, TopicLog
from devkit.processes import ServiceProcess
from tests.integration.foundation.conftest import COMMANDS, is_recorded, send_record

PARTITIONS = 6


async def _caught_up(proc: ServiceProcess, timeout: float = 30.0) -> dict[str, float]:
    """The samples once the lag of every commands partition is reported and 0."""
    deadline = time.monotonic() + timeout
    while True:
        samples = await proc.metrics()
        lags = [v for k, v in samples.items() if k.startswith("programme_consumer_lag{") and f"topic={COMMANDS}" in k]
        if len(lags) == PARTITIONS and not any(lags):
            return samples
        assert time.monotonic() < deadline, f"lag never caught up: {lags}"
        await asyncio.sleep(0.2)


async def test_lag_per_partition_latency_per_message_readiness_and_the_process_are_exported(
    probe: ServiceProcess, sender: Sender, topic_log: TopicLog
) -> None:
    items = [uuid.uuid4() for _ in range(8)]
    for item in items:
        await send_record(sender, item)
    for item in items:
        await topic_log.wait_for(is_recorded(item))

    samples = await _caught_up(probe)
    # One observation per message, each labelled by the service under its own label name.
    assert samples[f"programme_handler_seconds_count{{programme_service=probe,topic={COMMANDS}}}"] >= len(items)
    assert samples["programme_ready{programme_service=probe}"] == 1  # wait_ready's check set it
    assert samples["process_resident_memory_bytes{}"] > 0
    assert not [name for name in samples if "service=" in name.replace("programme_service=", "")]
