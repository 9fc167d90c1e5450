"""The two ceilings the system is measured against, on the same broker and database in the same run.

- Kafka: raw aiokafka moving the same number of messages over the same number of hops, each
  hop consuming a batch, producing it on with acks=all and idempotence, and committing.
- Database: the transactions one hop makes (claim the inbox, write state, record the outbox
  row), one per message as a handler without batching would, with asyncpg at the same
  concurrency as the system's consumers.
- Raw produce: what one aiokafka producer publishes per second, against which the relay is
  measured.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

PAYLOAD = json.dumps({"application_id": str(uuid.uuid4()), "pad": "x" * 400}).encode()
HEADERS = [(k, v.encode()) for k, v in {"ce_specversion": "1.0", "ce_type": "bench.Hop.v1"}.items()]


async def _fresh_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
    finally:
        await admin.close()


async def _hop(bootstrap: str, source: str, target: str, count: int, done: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"{source}-hop",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=200,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2)
    await consumer.start()
    await producer.start()
    moved = 0
    try:
        while moved < count:
            batches = await consumer.getmany(timeout_ms=100)
            records = [r for rs in batches.values() for r in rs]
            if records:
                futures = [await producer.send(target, r.value, key=r.key, headers=list(r.headers)) for r in records]
                await asyncio.gather(*futures)
            if records:
                await consumer.commit()
            moved += len(records)
    finally:
        done.set()
        await consumer.stop()
        await producer.stop()


async def kafka_ceiling(bootstrap: str, *, hops: int, messages: int, partitions: int = 6) -> float:
    """Hops per second of raw aiokafka over `hops` hops of `messages` messages each."""
    run = uuid.uuid4().hex[:8]
    topics = [f"bench.{run}.h{i}" for i in range(hops + 1)]
    await _fresh_topics(bootstrap, topics, partitions)
    done = [asyncio.Event() for _ in range(hops)]
    tasks = [asyncio.create_task(_hop(bootstrap, topics[i], topics[i + 1], messages, done[i])) for i in range(hops)]
    await asyncio.sleep(2)  # let every hop join its group before the clock starts
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2)
    await producer.start()
    started = time.perf_counter()
    futures = [await producer.send(topics[0], PAYLOAD, key=str(i).encode(), headers=HEADERS) for i in range(messages)]
    await asyncio.gather(*futures)
    await producer.stop()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    return hops * messages / elapsed


async def raw_produce_rate(bootstrap: str, *, messages: int, batch: int) -> float:
    """Messages per second of one producer sending in batches and waiting for each batch's confirmation."""
    topic = f"bench.{uuid.uuid4().hex[:8]}.produce"
    await _fresh_topics(bootstrap, [topic], 6)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2)
    await producer.start()
    try:
        started = time.perf_counter()
        for first in range(0, messages, batch):
            futures = [
                await producer.send(topic, PAYLOAD, key=str(i).encode(), headers=HEADERS)
                for i in range(first, min(messages, first + batch))
            ]
            await asyncio.gather(*futures)
        return messages / (time.perf_counter() - started)
    finally:
        await producer.stop()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS bench_inbox (consumer text, message_id text, received_at timestamptz DEFAULT now(),
    PRIMARY KEY (consumer, message_id));
CREATE TABLE IF NOT EXISTS bench_state (id uuid PRIMARY KEY, version integer NOT NULL, body jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS bench_outbox (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id text UNIQUE,
    topic text, key text, headers jsonb, payload bytea, recorded_at timestamptz DEFAULT now(), sent_at timestamptz);
CREATE INDEX IF NOT EXISTS bench_outbox_unsent ON bench_outbox (id) WHERE sent_at IS NULL;
"""


async def database_ceiling(admin_dsn: str, *, transactions: int, concurrency: int) -> float:
    """Hop transactions per second: inbox claim, state upsert, outbox insert, durable commit."""
    pool = await asyncpg.create_pool(admin_dsn, min_size=concurrency, max_size=concurrency)
    assert pool is not None
    schema = f"bench_{os.getpid()}"
    async with pool.acquire() as conn:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(f"SET search_path = {schema}; {_SCHEMA}")
    per_worker = transactions // concurrency
    body = json.dumps({"status": "submitted", "pad": "x" * 300})

    async def worker() -> None:
        async with pool.acquire() as conn:
            await conn.execute(f"SET search_path = {schema}")
            for _ in range(per_worker):
                message_id = str(uuid.uuid4())
                async with conn.transaction():
                    claimed = await conn.fetch(
                        "INSERT INTO bench_inbox (consumer, message_id) SELECT $1, unnest($2::text[]) "
                        "ON CONFLICT DO NOTHING RETURNING message_id",
                        "bench",
                        [message_id],
                    )
                    assert claimed
                    await conn.execute(
                        "INSERT INTO bench_state (id, version, body) VALUES ($1, 1, $2::jsonb) "
                        "ON CONFLICT (id) DO UPDATE SET version = bench_state.version + 1, body = EXCLUDED.body",
                        uuid.uuid4(),
                        body,
                    )
                    await conn.execute(
                        "INSERT INTO bench_outbox (event_id, topic, key, headers, payload) "
                        "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::bytea[])",
                        [message_id],
                        ["bench.events"],
                        [message_id],
                        ['{"ce_type": "bench.Hop.v1"}'],
                        [PAYLOAD],
                    )

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return per_worker * concurrency / (time.perf_counter() - started)
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()
