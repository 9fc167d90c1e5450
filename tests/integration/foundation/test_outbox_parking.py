"""The relay parks a row the broker will not take, keeps the rest flowing, and says when it cannot publish at all."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devkit.driver import Sender, TopicLog
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.cli.main import build_parser, run
from shared.descriptor import Descriptor
from shared.envelope import build_headers
from tests.integration.foundation.conftest import EVENTS, PROBE_MIGRATIONS, is_recorded, new_probe, send_record

# Over the producer's max_request_size (1 MiB): the record an over-long application made.
TOO_LARGE = 1_300_000


PROBE = Descriptor("probe", PROBE_MIGRATIONS, [], "0.0.1", "test probe")


async def programme(system: System, *argv: str) -> int:
    """The operator CLI as `programme` runs it, with the probe as the service it knows."""
    return await run(build_parser().parse_args(["--bootstrap-servers", system.kafka_bootstrap, *argv]), [PROBE])


async def record_row(admin_db: asyncpg.Pool, *, topic: str, key: str, payload: bytes) -> tuple[int, str]:
    """An outbox row as a use case records it; its id and its event id."""
    event_id = str(uuid.uuid4())
    ce_type = "probe.Recorded.v1"
    headers = build_headers(
        ce_id=event_id,
        source="/programme/probe",
        ce_type=ce_type,
        time=datetime.now(UTC),
        subject=key,
        correlation_id=event_id,
        causation_id=None,
    )
    row_id: int = await admin_db.fetchval(
        """INSERT INTO probe.outbox (event_id, topic, key, ce_type, headers, payload)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6) RETURNING id""",
        event_id,
        topic,
        key,
        ce_type,
        json.dumps(headers),
        payload,
    )
    return row_id, event_id


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        await asyncio.sleep(0.2)


async def gauge(proc: ServiceProcess, name: str) -> float:
    return sum(value for key, value in (await proc.metrics()).items() if key.startswith(name + "{"))


async def readiness(proc: ServiceProcess) -> tuple[int, dict[str, object]]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(f"{proc.url}/health/ready")
    body: dict[str, object] = response.json()
    return response.status_code, body


def payload(item: uuid.UUID, filler: int = 0) -> bytes:
    return json.dumps({"item_id": str(item), "n": 1, "seq": 0, "note": "x" * filler}).encode()


async def test_a_row_too_large_to_send_is_parked_the_others_flow_and_a_replay_sends_it_in_key_order(
    probe: ServiceProcess,
    system: System,
    sender: Sender,
    topic_log: TopicLog,
    admin_db: asyncpg.Pool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stuck, other = uuid.uuid4(), uuid.uuid4()
    big_id, big_event = await record_row(admin_db, topic=EVENTS, key=str(stuck), payload=payload(stuck, TOO_LARGE))
    behind_id, behind_event = await record_row(admin_db, topic=EVENTS, key=str(stuck), payload=payload(stuck))
    try:
        # Another key's event, recorded after the oversized row, goes out.
        await send_record(sender, other)
        await topic_log.wait_for(is_recorded(other))
        await eventually(lambda: _is_parked(admin_db, big_id), "the oversized row parked")

        row = await admin_db.fetchrow("SELECT parked_at, parked_error, sent_at FROM probe.outbox WHERE id = $1", big_id)
        assert row is not None
        assert row["parked_at"] is not None
        assert row["sent_at"] is None
        assert "MessageSizeTooLargeError" in row["parked_error"]
        # The same key's later row waits behind it, unsent and not parked itself.
        behind = await admin_db.fetchrow("SELECT parked_at, sent_at FROM probe.outbox WHERE id = $1", behind_id)
        assert behind is not None
        assert (behind["parked_at"], behind["sent_at"]) == (None, None)
        assert topic_log.where(lambda r: r.key == str(stuck)) == []

        await eventually(lambda: _gauge_is(probe, "programme_outbox_parked", 1), "the parked gauge counts the row")
        status, body = await readiness(probe)
        assert status == 200
        assert body["outbox_parked"] == 1

        assert await programme(system, "outbox", "--admin-dsn", system.admin_dsn) == 0
        listed = capsys.readouterr().out
        assert "parked=1" in listed
        assert f"id={big_id} " in listed
        assert "MessageSizeTooLargeError" in listed

        # The operator fixes the cause (here: the row made small enough), then replays it.
        await admin_db.execute("UPDATE probe.outbox SET payload = $2 WHERE id = $1", big_id, payload(stuck))
        replayed = await programme(
            system, "outbox", "replay", "probe", "--id", str(big_id), "--admin-dsn", system.admin_dsn
        )
        assert replayed == 0
        sent = await topic_log.wait_for(lambda r: r.key == str(stuck), count=2)
        assert [r.ce_id for r in sorted(sent, key=lambda r: r.offset)] == [big_event, behind_event]
        await eventually(lambda: _gauge_is(probe, "programme_outbox_parked", 0), "the parked gauge back to 0")
        assert (
            await programme(system, "outbox", "replay", "probe", "--id", str(big_id), "--admin-dsn", system.admin_dsn)
            == 1
        )
    finally:
        await admin_db.execute("DELETE FROM probe.outbox WHERE id = ANY($1::bigint[])", [big_id, behind_id])


async def test_a_row_with_a_key_of_100_kb_is_parked_like_any_other(
    probe: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    # Longer than a B-tree entry may be: parking must not index it (it would fail, and stall the relay).
    key = secrets.token_hex(50_000)  # random, so that no compression brings it under the limit
    item, other = uuid.uuid4(), uuid.uuid4()
    row_id, _ = await record_row(admin_db, topic=EVENTS, key=key, payload=payload(item, TOO_LARGE))
    try:
        await send_record(sender, other)
        await topic_log.wait_for(is_recorded(other))
        await eventually(lambda: _is_parked(admin_db, row_id), "the row with the long key parked")
        assert await gauge(probe, "programme_relay_stalled") == 0
    finally:
        await admin_db.execute("DELETE FROM probe.outbox WHERE id = $1", row_id)


async def _is_parked(admin_db: asyncpg.Pool, row_id: int) -> bool:
    return await admin_db.fetchval("SELECT parked_at IS NOT NULL FROM probe.outbox WHERE id = $1", row_id) is True


async def test_a_relay_that_cannot_publish_says_it_is_stalled_and_recovers_by_itself(
    probe: ServiceProcess, system: System, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    # A row for a topic nobody created yet: a passing fault (the topic may come), retried, not parked.
    missing = f"probe.missing-{uuid.uuid4().hex[:8]}.v1"
    item = uuid.uuid4()
    row_id, _ = await record_row(admin_db, topic=missing, key=str(item), payload=payload(item))
    admin = AIOKafkaAdminClient(bootstrap_servers=system.kafka_bootstrap)
    await admin.start()
    try:
        await eventually(lambda: _gauge_is(probe, "programme_relay_stalled", 1), "stalled reported", timeout=60)
        status, body = await readiness(probe)
        assert status == 503
        checks = body["checks"]
        assert isinstance(checks, dict)
        assert checks["relay"] is False
        assert await admin_db.fetchval("SELECT parked_at FROM probe.outbox WHERE id = $1", row_id) is None

        await admin.create_topics([NewTopic(missing, num_partitions=1, replication_factor=1)])
        await eventually(lambda: _is_sent(admin_db, row_id), "the row sent once its topic exists", timeout=60)
        await eventually(lambda: _gauge_is(probe, "programme_relay_stalled", 0), "no longer stalled")
        assert (await readiness(probe))[0] == 200
        after = uuid.uuid4()
        await send_record(sender, after)
        await topic_log.wait_for(is_recorded(after))
    finally:
        await admin_db.execute("DELETE FROM probe.outbox WHERE id = $1", row_id)
        await admin.delete_topics([missing])
        await admin.close()


async def test_a_record_over_the_topics_limit_is_parked_before_the_broker_can_refuse_it(
    system: System, admin_db: asyncpg.Pool
) -> None:
    """Topics that take less than the producer would send (PROGRAMME_TOPIC_MAX_MESSAGE_BYTES below 1 MiB).

    A batch the broker refuses breaks the idempotent producer's sequence for its partition: every
    later record to it would fail, the relay stalled for good. The relay holds records to the
    topics' limit itself, so the broker never refuses one.
    """
    limit = 4_000
    topic = f"probe.small-{uuid.uuid4().hex[:8]}.v1"
    admin = AIOKafkaAdminClient(bootstrap_servers=system.kafka_bootstrap)
    await admin.start()
    await admin.create_topics(
        [NewTopic(topic, num_partitions=1, replication_factor=1, topic_configs={"max.message.bytes": str(limit)})]
    )
    proc = new_probe(system)
    proc.env["PROGRAMME_TOPIC_MAX_MESSAGE_BYTES"] = str(limit)
    rows: list[int] = []
    try:
        proc.start()
        await proc.wait_ready()
        first, second = uuid.uuid4(), uuid.uuid4()
        big_id, _ = await record_row(admin_db, topic=topic, key=str(first), payload=payload(first, 3 * limit))
        small_id, _ = await record_row(admin_db, topic=topic, key=str(second), payload=payload(second))
        rows += [big_id, small_id]

        # The small record behind it, to the same partition, goes out.
        await eventually(lambda: _is_sent(admin_db, small_id), "the record behind the oversized one sent")
        parked = await admin_db.fetchrow("SELECT parked_at, parked_error FROM probe.outbox WHERE id = $1", big_id)
        assert parked is not None
        assert parked["parked_at"] is not None
        assert f"more than the topics take ({limit})" in parked["parked_error"]
        assert await gauge(proc, "programme_relay_stalled") == 0
    finally:
        proc.stop()
        await admin_db.execute("DELETE FROM probe.outbox WHERE id = ANY($1::bigint[])", rows)
        await admin.delete_topics([topic])
        await admin.close()


async def _gauge_is(proc: ServiceProcess, name: str, value: float) -> bool:
    return await gauge(proc, name) == value


async def _is_sent(admin_db: asyncpg.Pool, row_id: int) -> bool:
    return await admin_db.fetchval("SELECT sent_at FROM probe.outbox WHERE id = $1", row_id) is not None
