"""`make bench` leaves the user's system alone: its records and rows go to topics and a database of its own."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupLoadInProgressError

from bench import isolation
from devkit.infra import DSN_ENV, KAFKA_ENV
from devkit.system import System
from shared.cli.messages import stop_consumer
from shared.cli.topics import topic_partitions
from shared.topics import PREFIX_ENV, SERVICES, commands_topic, contract_topics, events_topic

REPO = Path(__file__).resolve().parents[2]
# What a user's system holds that a bench run would add to: facts, budgets, events to publish.
USER_ROWS = (
    "SELECT (SELECT count(*) FROM applications.outbox) + (SELECT count(*) FROM workshops.outbox)"
    " + (SELECT count(*) FROM funding.outbox) + (SELECT count(*) FROM funding.allocations)"
)


async def end_offsets(bootstrap: str, topics: list[str]) -> dict[str, int]:
    partitions = await topic_partitions(bootstrap, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await stop_consumer(consumer)
    totals = dict.fromkeys(topics, 0)
    for partition, offset in ends.items():
        totals[partition.topic] += offset
    return totals


async def groups(bootstrap: str, timeout_s: float = 60.0) -> set[str]:
    """The broker's consumer groups; a broker just started answers 'loading' for a while."""
    deadline = time.monotonic() + timeout_s
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        while True:
            try:
                return {group for group, _ in await admin.list_consumer_groups()}
            except GroupLoadInProgressError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
    finally:
        await admin.close()


async def count(dsn: str, query: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(query))
    finally:
        await conn.close()


async def test_a_bench_run_adds_no_record_to_the_users_topics_and_no_row_to_the_users_database(
    system: System, tmp_path: Path
) -> None:
    user_topics = list(contract_topics())
    bench_topics = [f"{isolation.TOPIC_PREFIX}{topic}" for topic in user_topics]
    assert {tp.topic for tp in await topic_partitions(system.kafka_bootstrap, user_topics)} == set(user_topics)
    offsets_before = await end_offsets(system.kafka_bootstrap, user_topics)
    bench_offsets_before = await end_offsets(system.kafka_bootstrap, bench_topics)
    rows_before = await count(system.admin_dsn, USER_ROWS)
    groups_before = await groups(system.kafka_bootstrap)
    env = {key: value for key, value in os.environ.items() if key != PREFIX_ENV}
    env |= {KAFKA_ENV: system.kafka_bootstrap, DSN_ENV: system.admin_dsn, "PYTHONPATH": str(REPO)}
    knobs = ["--runs", "1", "--chains", "5", "--latency-seconds", "2", "--rate", "10", "--relay-rows", "50"]
    bench = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench", *knobs, "--no-broker-restart", "--no-plot", cwd=tmp_path, env=env
    )
    assert await asyncio.wait_for(bench.wait(), 600) == 0
    assert (tmp_path / ".bench" / "bench.json").is_file()

    # The user's topics, rows and consumer groups are as they were ...
    assert await end_offsets(system.kafka_bootstrap, user_topics) == offsets_before
    assert await count(system.admin_dsn, USER_ROWS) == rows_before
    new_groups = await groups(system.kafka_bootstrap) - groups_before
    assert not new_groups & set(SERVICES), "the bench's consumers joined the user's groups"
    # ... while the run went on, on its own topics, groups and database.
    bench_offsets = await end_offsets(system.kafka_bootstrap, bench_topics)
    for service in SERVICES:
        for topic in (commands_topic(service), events_topic(service)):
            name = f"{isolation.TOPIC_PREFIX}{topic}"
            assert bench_offsets[name] > bench_offsets_before[name], name
    assert {f"{isolation.TOPIC_PREFIX}{service}" for service in SERVICES} <= new_groups | groups_before
    assert await count(isolation.database_dsn(system.admin_dsn), "SELECT count(*) FROM funding.allocations") > 0
