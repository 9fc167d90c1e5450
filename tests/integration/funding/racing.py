"""Helpers for races between funding instances: keys on chosen partitions, and who handled what."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import murmur2

from devkit.driver import Sender, TopicLog
from devkit.ids import organisation_number
from devkit.processes import ServiceProcess
from shared.topics import APPLICATIONS_EVENTS, FUNDING_COMMANDS
from tests.integration.funding.conftest import Application, answer, decide, in_year

PARTITIONS = 6


def partition_of(key: str, partitions: int = PARTITIONS) -> int:
    """Where Kafka's default partitioner (murmur2, as in the Java client) puts a key."""
    hashed: int = murmur2(key.encode())
    return (hashed & 0x7FFFFFFF) % partitions


def id_on_partition(partition: int) -> uuid.UUID:
    while True:
        candidate = uuid.uuid4()
        if partition_of(str(candidate)) == partition:
            return candidate


def handled(proc: ServiceProcess, ce_ids: Iterable[str]) -> dict[str, int]:
    """The messages among ``ce_ids`` this process applied or rejected (not skipped as duplicates), by partition."""
    wanted = set(ce_ids)
    found: dict[str, int] = {}
    if not proc.log_path.exists():
        return found
    for line in proc.log_path.read_text(errors="replace").splitlines():
        if '"message.handled"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("ce_id") in wanted and entry.get("outcome") in {"applied", "rejected"}:
            found[entry["ce_id"]] = entry["partition"]
    return found


async def consuming_partitions(
    procs: Sequence[ServiceProcess], sender: Sender, topic_log: TopicLog, *, timeout: float = 90.0
) -> list[set[int]]:
    """Wait until every process consumes commands, each from partitions of its own; return them.

    Warm-up decisions on cases that do not exist (refused, changing nothing), one per partition,
    until each process has answered some and together they answered on every partition.
    """
    deadline = time.monotonic() + timeout
    while True:
        warm_up = [Application(id_on_partition(p), organisation_number()) for p in range(PARTITIONS)]
        ce_ids = [await decide(sender, app, at=in_year(2999), amount=1) for app in warm_up]
        for ce_id in ce_ids:
            await answer(topic_log, ce_id)
        owned = [set(handled(proc, ce_ids).values()) for proc in procs]
        if all(owned) and set().union(*owned) == set(range(PARTITIONS)):
            return owned
        assert time.monotonic() < deadline, f"the instances did not share the partitions: {owned}"
        await asyncio.sleep(1.0)


async def start_group_at_end(bootstrap: str, group_id: str) -> None:
    """Commit a new consumer group's offsets at the current end, so it reads only what is sent from now on."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p) for topic in (FUNDING_COMMANDS, APPLICATIONS_EVENTS) for p in range(PARTITIONS)
        ]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        await consumer.commit({tp: await consumer.position(tp) for tp in partitions})
    finally:
        await consumer.stop()


@contextlib.asynccontextmanager
async def gate(admin_db: asyncpg.Pool, lock_sql: str, *args: object) -> AsyncIterator[None]:
    """Hold a row lock in an open transaction: the service's transactions that need the row queue behind it.

    Released (rolled back) on leaving, so that every queued transaction starts racing at the same moment.
    """
    async with admin_db.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            await conn.execute(lock_sql, *args)
            yield
        finally:
            await transaction.rollback()


async def wait_for_waiting_transactions(admin_db: asyncpg.Pool, count: int, *, timeout: float = 30.0) -> None:
    """Until ``count`` of the service's transactions wait on a lock: with one transaction per batch and
    instance, two waiting means two instances in the race at once."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = await admin_db.fetchval(
            """SELECT count(*) FROM pg_stat_activity
               WHERE application_name = 'funding' AND wait_event_type = 'Lock' AND state = 'active'"""
        )
        if waiting >= count:
            return
        assert time.monotonic() < deadline, f"only {waiting} funding transaction(s) waiting, wanted {count}"
        await asyncio.sleep(0.05)
