"""Delivery through the shared machinery: outbox, inbox, relay and offsets, on real Kafka and Postgres."""

from __future__ import annotations

import uuid

import asyncpg

from devkit.driver import Sender, TopicLog
from devkit.processes import ServiceProcess
from tests.integration.foundation.conftest import (
    DLQ,
    EVENTS,
    applied_count,
    is_recorded,
    recorded,
    send_record,
)


async def test_a_committed_transaction_publishes_exactly_its_events_in_order_per_key(
    probe: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    items = [uuid.uuid4() for _ in range(5)]
    command_ids = {item: await send_record(sender, item, events=4) for item in items}

    for item in items:
        events = await topic_log.wait_for(is_recorded(item), count=4)
        assert [e.data["seq"] for e in events] == [0, 1, 2, 3]
        assert {e.causation_id for e in events} == {command_ids[item]}
        assert {e.correlation_id for e in events} == {command_ids[item]}
        assert len({e.ce_id for e in events}) == 4
        assert all(e.headers["ce_source"] == "/programme/probe" for e in events)
        assert all(e.headers["ce_subject"] == str(item) for e in events)
    await topic_log.settle()
    assert all(len(recorded(topic_log, item)) == 4 for item in items)
    assert [await applied_count(admin_db, item) for item in items] == [1] * 5


async def test_a_rolled_back_transaction_publishes_nothing(
    probe: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    item = uuid.uuid4()
    command_id = await send_record(sender, item, events=3, fail=True)

    # The handler fails every time; after its attempts the record is dead-lettered for an operator.
    letters = await topic_log.wait_for(lambda r: r.topic == DLQ and r.ce_id == command_id)
    assert letters[0].headers["x-error-code"] == "processing_failed"
    await topic_log.settle()
    assert recorded(topic_log, item) == []
    assert await applied_count(admin_db, item) is None
    unsent = await admin_db.fetchval("SELECT count(*) FROM probe.outbox WHERE key = $1", str(item))
    assert unsent == 0


async def test_a_message_delivered_twice_takes_effect_once(
    probe: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    item = uuid.uuid4()
    command_id = await send_record(sender, item, events=2)
    await send_record(sender, item, events=2, ce_id=command_id)
    marker = uuid.uuid4()  # same partition-independent proof that the consumer went past both copies
    await send_record(sender, marker)

    await topic_log.wait_for(is_recorded(marker))
    await topic_log.wait_for(is_recorded(item), count=2)
    await topic_log.settle()
    assert len(recorded(topic_log, item)) == 2
    assert await applied_count(admin_db, item) == 1


async def test_a_refused_command_gets_one_rejection_and_changes_nothing(
    probe: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    item = uuid.uuid4()
    command_id = await send_record(sender, item, n=-1)

    answer = await topic_log.answer_to(command_id, EVENTS)
    assert answer[0].ce_type == "probe.CommandRejected.v1"
    assert answer[0].data["reasons"] == [{"code": "negative", "field": "n", "message": "n must not be negative"}]
    assert answer[0].data["command_type"] == "probe.Record.v1"
    assert answer[0].data["subject"] == str(item)
    assert await applied_count(admin_db, item) is None
    assert topic_log.where(lambda r: r.topic == DLQ and r.ce_id == command_id) == []
