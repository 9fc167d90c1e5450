"""Moving a consumer group past a record batch nobody can decode, once an operator has decided to.

A service holds a partition at such a batch (readiness and `programme_partition_held` name it)
rather than skip records silently. Skipping is the operator's decision: the batch is read here
again, and only if it cannot be decoded here either is the group's offset committed past it.
Kafka takes a commit from outside the group only while the group has no members, so every
replica of the service is stopped first, as for `kafka-consumer-groups --reset-offsets`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared import fetching

_READ_TIMEOUT_S = 15.0


class SkipRefusedError(Exception):
    """The batch was not skipped, and why."""


@dataclass(frozen=True)
class Skipped:
    group: str
    partition: TopicPartition
    offset: int
    next_offset: int
    error: str


async def skip_batch(
    bootstrap: str, *, group: str, topic: str, partition: int, offset: int, options: dict[str, Any]
) -> Skipped:
    """Commit `group`'s offset on the partition to just past the undecodable batch at `offset`."""
    fetching.install()
    tp = TopicPartition(topic, partition)
    await _require_empty_group(bootstrap, group, options)
    batch = await _read_at(bootstrap, tp, offset, options)
    committer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, client_id="programme-cli", **options
    )
    await committer.start()
    try:
        committer.assign([tp])
        await committer.commit({tp: batch.next_offset})
    finally:
        await committer.stop()
    return Skipped(group, tp, offset, batch.next_offset, batch.error)


async def _require_empty_group(bootstrap: str, group: str, options: dict[str, Any]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="programme-cli", **options)
    await admin.start()
    try:
        described = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    for response in described:
        for entry in response.groups:
            # A DescribeGroups entry: error code, group id, state, protocol type, protocol, members...
            state, members = entry[2], entry[5]
            if members:
                msg = (
                    f"group {group} has {len(members)} member(s) (state {state}): stop every replica of the "
                    "service first; Kafka takes an offset from outside the group only while it is empty"
                )
                raise SkipRefusedError(msg)


async def _read_at(
    bootstrap: str, tp: TopicPartition, offset: int, options: dict[str, Any]
) -> fetching.UndecodableBatch:
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, client_id="programme-cli", **options
    )
    await reader.start()
    try:
        reader.assign([tp])
        reader.seek(tp, offset)
        deadline = time.monotonic() + _READ_TIMEOUT_S
        while time.monotonic() < deadline:
            fetched = await reader.getmany(tp, timeout_ms=1_000, max_records=1)
            records = fetched.get(tp, [])
            if not records:
                await asyncio.sleep(0)
                continue
            first = records[0]
            if isinstance(first, fetching.UndecodableBatch) and first.offset == offset:
                return first
            msg = (
                f"the record at {tp.topic}/{tp.partition} offset {first.offset} decodes here: nothing undecodable to "
                "skip at that offset (if a service holds it, it lacks a codec this CLI has: install it there instead)"
            )
            raise SkipRefusedError(msg)
    finally:
        await reader.stop()
    msg = f"nothing to read at {tp.topic}/{tp.partition} offset {offset} within {_READ_TIMEOUT_S:.0f}s"
    raise SkipRefusedError(msg)
