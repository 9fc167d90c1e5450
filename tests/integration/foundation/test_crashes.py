"""A service killed with SIGKILL at the two dangerous moments ends with every effect once, every event published."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from devkit.driver import Sender, TopicLog
from devkit.system import System
from tests.integration.foundation.conftest import (
    COMMANDS,
    applied_count,
    is_recorded,
    new_probe,
    recorded,
    send_record,
)

GROUP = "probe"


async def committed(system: System, position: TopicPartition) -> int:
    """The probe group's committed offset on one partition: the next record it will be given (-1: none yet)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=system.kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(GROUP, partitions=[position])
    finally:
        await admin.close()
    found = offsets.get(position)
    return found.offset if found is not None else -1


async def test_killed_after_the_database_commit_before_the_offset_commit(
    system: System, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    doomed = new_probe(system, FAILPOINTS="after_db_commit")
    doomed.start()
    await doomed.wait_ready()
    item = uuid.uuid4()
    command_id = await send_record(sender, item, events=3)
    assert await doomed.wait_exit() == -9  # SIGKILL: the transaction committed, the offset did not
    assert await applied_count(admin_db, item) == 1
    [command] = await topic_log.wait_for(lambda r: r.topic == COMMANDS and r.ce_id == command_id)
    position = TopicPartition(COMMANDS, command.partition)
    # The group's next record on that partition is still the command: whoever reads it next gets it again.
    assert await committed(system, position) <= command.offset

    survivor = new_probe(system)
    survivor.start()
    try:
        await survivor.wait_ready()
        await topic_log.wait_for(is_recorded(item), count=3, timeout=60)
        deadline = time.monotonic() + 60
        while await committed(system, position) <= command.offset:
            assert time.monotonic() < deadline, "the survivor never read the command again"
            await asyncio.sleep(0.2)
    finally:
        survivor.stop()
    # Redelivered to the survivor (its group moved past the command only by reading it) and
    # absorbed by the inbox: applied once, each event once.
    assert await applied_count(admin_db, item) == 1
    events = recorded(topic_log, item)
    assert sorted(e.data["seq"] for e in events) == [0, 1, 2]


async def test_killed_after_the_kafka_send_before_marking_the_outbox_row_sent(
    system: System, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    doomed = new_probe(system, FAILPOINTS="after_kafka_send")
    doomed.start()
    await doomed.wait_ready()
    item = uuid.uuid4()
    await send_record(sender, item, events=3)
    assert await doomed.wait_exit() == -9
    first = await topic_log.wait_for(is_recorded(item), count=3)
    unsent = await admin_db.fetchval("SELECT count(*) FROM probe.outbox WHERE key = $1 AND sent_at IS NULL", str(item))
    assert unsent == 3  # sent to Kafka, not marked: the relay will send them again

    survivor = new_probe(system)
    survivor.start()
    try:
        await survivor.wait_ready()
        await topic_log.wait_for(is_recorded(item), count=6, timeout=60)
    finally:
        survivor.stop()
    events = recorded(topic_log, item)
    # Published at least once, each time under the same ce_id, so consumers' inboxes absorb the copies.
    assert {e.ce_id for e in events} == {e.ce_id for e in first[:3]}
    assert sorted(e.data["seq"] for e in events) == [0, 0, 1, 1, 2, 2]
    assert await applied_count(admin_db, item) == 1
    still_unsent = await admin_db.fetchval(
        "SELECT count(*) FROM probe.outbox WHERE key = $1 AND sent_at IS NULL", str(item)
    )
    assert still_unsent == 0
