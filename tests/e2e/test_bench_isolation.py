"""`make bench` leaves the user's system alone: its records and rows go to topics and a database of its own."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
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


@dataclass(frozen=True)
class Seen:
    """What the broker and the server hold, for the user and for the bench."""

    user_offsets: dict[str, int]
    user_rows: int
    bench_offsets: dict[str, int]
    groups: set[str]


@dataclass(frozen=True)
class BenchRun:
    before: Seen
    after: Seen
    result: dict[str, Any]


async def seen(system: System) -> Seen:
    user_topics = list(contract_topics())
    return Seen(
        user_offsets=await end_offsets(system.kafka_bootstrap, user_topics),
        user_rows=await count(system.admin_dsn, USER_ROWS),
        bench_offsets=await end_offsets(system.kafka_bootstrap, [f"{isolation.TOPIC_PREFIX}{t}" for t in user_topics]),
        groups=await groups(system.kafka_bootstrap),
    )


@pytest.fixture(scope="module")
async def short_bench(system: System, tmp_path_factory: pytest.TempPathFactory) -> BenchRun:
    """`python -m bench` with small knobs and no topic prefix given, as `make bench` runs it, on the tests' servers."""
    user_topics = list(contract_topics())
    assert {tp.topic for tp in await topic_partitions(system.kafka_bootstrap, user_topics)} == set(user_topics)
    before = await seen(system)
    workdir = tmp_path_factory.mktemp("bench")
    env = {key: value for key, value in os.environ.items() if key != PREFIX_ENV}
    env |= {KAFKA_ENV: system.kafka_bootstrap, DSN_ENV: system.admin_dsn, "PYTHONPATH": str(REPO)}
    knobs = ["--runs", "1", "--chains", "5", "--latency-seconds", "2", "--rate", "10", "--relay-rows", "50"]
    bench = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench", *knobs, "--no-broker-restart", "--no-plot", cwd=workdir, env=env
    )
    assert await asyncio.wait_for(bench.wait(), 600) == 0
    result = json.loads((workdir / ".bench" / "bench.json").read_text())
    return BenchRun(before, await seen(system), result)


async def test_a_bench_run_adds_no_record_to_the_users_topics_and_no_row_to_the_users_database(
    system: System, short_bench: BenchRun
) -> None:
    before, after = short_bench.before, short_bench.after
    # The user's topics, rows and consumer groups are as they were ...
    assert after.user_offsets == before.user_offsets
    assert after.user_rows == before.user_rows
    new_groups = after.groups - before.groups
    assert not new_groups & set(SERVICES), "the bench's consumers joined the user's groups"
    # ... while the run went on, on its own topics, groups and database.
    for service in SERVICES:
        for topic in (commands_topic(service), events_topic(service)):
            name = f"{isolation.TOPIC_PREFIX}{topic}"
            assert after.bench_offsets[name] > before.bench_offsets[name], name
    assert {f"{isolation.TOPIC_PREFIX}{service}" for service in SERVICES} <= after.groups
    assert await count(isolation.database_dsn(system.admin_dsn), "SELECT count(*) FROM funding.allocations") > 0


def test_the_bench_reports_what_a_hop_costs_in_cpu_and_commits_beside_the_ceilings(short_bench: BenchRun) -> None:
    cpu, commits = short_bench.result["cpu_ms_per_hop"], short_bench.result["commits_per_hop"]
    for service in SERVICES:
        assert cpu[service] > 0, service
    assert cpu["all_services"] > 0
    assert cpu["db_ceiling_client"] > 0
    # The chain commits once per batch, the ceiling once per hop: both took transaction ids.
    assert commits["system"] > 0
    assert commits["db_ceiling"] >= 1
