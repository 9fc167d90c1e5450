"""Records other clients write: every codec is read, nothing one record does skips or stalls anyone else's.

Issue 11 items 1-3: a header name that is not UTF-8, compressed batches from librdkafka, a batch
nobody can decode (held on its own partition until an operator moves past it), tombstones and
dead letters larger than the DLQ takes.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
import subprocess
import sys
import time
import uuid
from typing import Any

import asyncpg
import confluent_kafka
import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.record.util import calc_crc32c

from devkit.driver import Record, Sender, TopicLog, command_headers
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.topic_config import TopicSettings
from tests.integration.foundation.conftest import (
    COMMANDS,
    DLQ,
    RECORD,
    applied_count,
    is_recorded,
    new_probe,
)

PARTITIONS = 6
# aiokafka's v2 batch header: the CRC (uint32) sits at byte 17 and covers everything from byte 21 on.
_CRC_AT = 17


def _command(item: uuid.UUID, *, padding: int = 0) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Key, value and headers of a valid probe command; trailing blanks make it compressible, as JSON allows."""
    value = json.dumps({"item_id": str(item), "n": 1}).encode() + b" " * padding
    headers = [(name, text.encode()) for name, text in command_headers(RECORD).items()]
    return str(item).encode(), value, headers


async def _send_to(system: System, partition: int, item: uuid.UUID, **options: Any) -> int:
    """One valid command to a chosen partition; its offset."""
    producer = AIOKafkaProducer(bootstrap_servers=system.kafka_bootstrap, acks="all", **options)
    await producer.start()
    try:
        key, value, headers = _command(item, padding=2_000)
        sent = await producer.send_and_wait(COMMANDS, value=value, key=key, headers=headers, partition=partition)
        return int(sent.offset)
    finally:
        await producer.stop()


async def _send_with_header_name(system: System, partition: int, item: uuid.UUID, name: bytes) -> int:
    """A valid command with one more header whose name is the given bytes, as a client in another language can write."""
    producer = AIOKafkaProducer(bootstrap_servers=system.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        key, value, headers = _command(item)
        placeholder = "h" * len(name)
        batch = producer.create_batch()
        batch.append(key=key, value=value, timestamp=None, headers=[*headers, (placeholder, b"1")])
        batch.close()
        buffer = batch._build()
        at = buffer.rfind(placeholder.encode())
        buffer[at : at + len(name)] = name
        buffer[_CRC_AT : _CRC_AT + 4] = struct.pack(">I", calc_crc32c(bytes(buffer[_CRC_AT + 4 :])))
        sent = await (await producer.send_batch(batch, COMMANDS, partition=partition))
        return int(sent.offset)
    finally:
        await producer.stop()


def _letter_of(offset: int, partition: int) -> Any:
    return lambda r: (
        r.topic == DLQ
        and r.headers.get("x-original-topic") == COMMANDS
        and r.headers.get("x-original-partition") == str(partition)
        and r.headers.get("x-original-offset") == str(offset)
    )


async def _ready_body(proc: ServiceProcess) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(f"{proc.url}/health/ready")
    return response.status_code, response.json()


async def _until(condition: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (seen := await condition()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        await asyncio.sleep(0.2)
    return seen


async def test_commands_compressed_by_librdkafka_with_every_codec_are_answered(
    probe: ServiceProcess, system: System, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    items = {codec: uuid.uuid4() for codec in ("gzip", "snappy", "lz4", "zstd")}
    for codec, item in items.items():
        producer = confluent_kafka.Producer(
            {"bootstrap.servers": system.kafka_bootstrap, "compression.type": codec, "enable.idempotence": True}
        )
        key, value, headers = _command(item, padding=4_000)
        producer.produce(COMMANDS, value=value, key=key, headers=list[tuple[str, str | bytes | None]](headers))
        assert await asyncio.to_thread(producer.flush, 30) == 0, f"{codec}: not delivered"
    for codec, item in items.items():
        await topic_log.wait_for(is_recorded(item), timeout=60)
        assert await applied_count(admin_db, item) == 1, codec
    assert await probe.ready_status() == httpx.codes.OK


async def test_a_header_name_that_is_not_utf8_is_dead_lettered_and_nothing_else_is_lost(
    probe: ServiceProcess, system: System, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    broken = uuid.uuid4()
    offset = await _send_with_header_name(system, 0, broken, b"ce_\xff\xfe")
    after = uuid.uuid4()
    await _send_to(system, 0, after)  # behind the broken one on its partition
    others = [uuid.uuid4() for _ in range(8)]
    for partition, item in enumerate(others):
        await _send_to(system, partition % PARTITIONS, item)
    letter = (await topic_log.wait_for(_letter_of(offset, 0)))[0]
    assert letter.headers["x-error-code"] == "malformed_headers"
    assert letter.key == str(broken)
    assert json.loads(letter.value)["item_id"] == str(broken)  # the value unchanged
    assert letter.headers["ce_\\xff\\xfe"] == "1"  # the name's bytes shown, not lost
    for item in [after, *others]:
        await topic_log.wait_for(is_recorded(item))
        assert await applied_count(admin_db, item) == 1
    assert await applied_count(admin_db, broken) is None
    assert await probe.ready_status() == httpx.codes.OK


async def test_a_batch_nobody_can_decode_holds_only_its_partition_until_an_operator_skips_it(
    system: System, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    # This probe's aiokafka cannot decode zstd: its batch stands for a codec added to Kafka later, or corrupt bytes.
    proc = system.process(
        "probe", module="tests.integration.foundation.without_zstd", HANDLER_MAX_ATTEMPTS="2", RETRY_BACKOFF_MAX_S="0.5"
    )
    proc.start()
    try:
        await proc.wait_ready()
        skipped = uuid.uuid4()
        offset = await _send_to(system, 0, skipped, compression_type="zstd")
        behind = uuid.uuid4()
        await _send_to(system, 0, behind)
        elsewhere = [uuid.uuid4() for _ in range(1, PARTITIONS)]
        for partition, item in enumerate(elsewhere, start=1):
            await _send_to(system, partition, item)

        for item in elsewhere:  # every other partition goes on
            await topic_log.wait_for(is_recorded(item))
        name = f"partition {COMMANDS}/0"
        status, body = await _until(lambda: _held_status(proc, name), "readiness naming the held partition")
        assert status == httpx.codes.SERVICE_UNAVAILABLE
        assert f"offset {offset}" in body["held"][f"{COMMANDS}/0"]
        samples = await proc.metrics()
        held_key = f"programme_partition_held{{partition=0,programme_service=probe,topic={COMMANDS}}}"
        assert samples[held_key] == 1
        assert samples["programme_ready{programme_service=probe}"] == 0
        assert await applied_count(admin_db, behind) is None  # held, not skipped

        # Not while a member of the group runs: Kafka would refuse the commit, the CLI says so first.
        refused = _skip_batch(system, offset)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "member" in refused.stderr
    finally:
        proc.stop()

    done = _skip_batch(system, offset)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"moved from {offset} to {offset + 1}" in done.stdout

    resumed = new_probe(system)  # one that could decode zstd: the batch is skipped all the same
    resumed.start()
    try:
        await resumed.wait_ready()
        await topic_log.wait_for(is_recorded(behind))
        assert await applied_count(admin_db, behind) == 1
        assert await applied_count(admin_db, skipped) is None
    finally:
        resumed.stop()


async def _held_status(proc: ServiceProcess, name: str) -> tuple[int, dict[str, Any]] | None:
    status, body = await _ready_body(proc)
    return (status, body) if body["checks"].get(name) is False else None


def _skip_batch(system: System, offset: int) -> subprocess.CompletedProcess[str]:
    """The operator's CLI, in a process that cannot decode zstd either (else it would refuse to skip)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.foundation.without_zstd",
            "programme",
            "--bootstrap-servers",
            system.kafka_bootstrap,
            "consumer",
            "skip-batch",
            "--service",
            "probe",
            "--topic",
            COMMANDS,
            "--partition",
            "0",
            "--offset",
            str(offset),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_tombstone_on_the_commands_topic_is_dead_lettered_and_the_partition_goes_on(
    probe: ServiceProcess, system: System, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    producer = confluent_kafka.Producer({"bootstrap.servers": system.kafka_bootstrap})
    delivered: list[Any] = []
    producer.produce(COMMANDS, value=None, key=None, partition=1, on_delivery=lambda _, m: delivered.append(m))
    assert await asyncio.to_thread(producer.flush, 30) == 0
    offset = delivered[0].offset()
    after = uuid.uuid4()
    await _send_to(system, 1, after)

    letter: Record = (await topic_log.wait_for(_letter_of(offset, 1)))[0]
    assert letter.value == b""
    assert letter.key is None
    assert letter.headers["x-original-value"] == "null"
    assert letter.headers["x-error-code"] == "missing_header"
    await topic_log.wait_for(is_recorded(after))
    assert await applied_count(admin_db, after) == 1


async def test_a_record_whose_dead_letter_exceeds_the_dlq_limit_is_dead_lettered_trimmed(
    probe: ServiceProcess, system: System, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    # 1.3 MB, compressed so the broker takes it, without an envelope (so not refused too_large but dead-lettered
    # raw): its dead letter would exceed the DLQ's limit whole.
    value = b'{"item_id": ' + b" " * 1_300_000 + b"}"
    headers: list[tuple[str, bytes]] = []
    producer = AIOKafkaProducer(
        bootstrap_servers=system.kafka_bootstrap, compression_type="gzip", max_request_size=2_000_000
    )
    await producer.start()
    try:
        sent = await producer.send_and_wait(COMMANDS, value=value, key=b"big", headers=headers, partition=2)
    finally:
        await producer.stop()
    after = uuid.uuid4()
    await _send_to(system, 2, after)

    letter = (await topic_log.wait_for(_letter_of(sent.offset, 2), timeout=60))[0]
    assert letter.headers["x-error-code"] == "missing_header"
    assert letter.headers["x-value-truncated-from"] == str(len(value))
    assert value.startswith(letter.value)
    assert len(letter.value) < len(value)
    await topic_log.wait_for(is_recorded(after))
    assert await applied_count(admin_db, after) == 1


async def test_made_up_types_share_one_metric_label(probe: ServiceProcess, sender: Sender, topic_log: TopicLog) -> None:
    made_up = [f"probe.MadeUp{n}.v1" for n in range(3)]
    ids = [await sender.send(COMMANDS, ce_type, str(uuid.uuid4()), {}) for ce_type in made_up]
    await topic_log.wait_for(lambda r: r.topic == DLQ and r.ce_id in ids, count=len(ids))
    samples = await _until(lambda: _unknown_counted(probe, len(made_up)), "the made-up types counted")
    assert not [name for name in samples if "MadeUp" in name]


async def _unknown_counted(proc: ServiceProcess, at_least: int) -> dict[str, float] | None:
    samples = await proc.metrics()
    key = (
        f"programme_messages_in_total{{ce_type=unknown,outcome=dead_lettered,programme_service=probe,topic={COMMANDS}}}"
    )
    return samples if samples.get(key, 0) >= at_least else None


async def test_a_dead_letter_the_broker_refuses_holds_its_partition_until_it_is_published(
    probe: ServiceProcess, system: System, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=system.kafka_bootstrap)
    await admin.start()
    wanted = TopicSettings().configs(DLQ)  # alter_configs replaces every override: restore them all after
    limit = ConfigResource(ConfigResourceType.TOPIC, DLQ, configs={**wanted, "max.message.bytes": "1024"})
    await admin.alter_configs([limit])  # the DLQ refuses every letter larger than 1 kB, as an ACL would refuse all
    try:
        unreadable = b"{" + os.urandom(50_000)  # not JSON, and no codec makes it smaller than 1 kB
        headers = [(name, text.encode()) for name, text in command_headers(RECORD).items()]
        after = uuid.uuid4()
        key, value, good_headers = _command(after)
        # One produce batch, so one fetch and one handler batch: the good record beside the bad one.
        producer = AIOKafkaProducer(
            bootstrap_servers=system.kafka_bootstrap, acks="all", linger_ms=200, max_batch_size=256 * 1024
        )
        await producer.start()
        try:
            bad = await producer.send(COMMANDS, value=unreadable, key=b"refused", headers=headers, partition=3)
            good = await producer.send(COMMANDS, value=value, key=key, headers=good_headers, partition=3)
            sent, _ = await asyncio.gather(bad, good)
        finally:
            await producer.stop()

        name = f"partition {COMMANDS}/3"
        status, body = await _until(lambda: _held_status(probe, name), "readiness naming the held partition")
        assert status == httpx.codes.SERVICE_UNAVAILABLE
        assert "cannot be published" in body["held"][f"{COMMANDS}/3"]
        held_key = f"programme_partition_held{{partition=3,programme_service=probe,topic={COMMANDS}}}"
        assert (await probe.metrics())[held_key] == 1
        await topic_log.wait_for(is_recorded(after))  # the batch's good record is applied meanwhile
        assert not topic_log.where(_letter_of(sent.offset, 3))
    finally:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, DLQ, configs=wanted)])
        await admin.close()

    letter = (await topic_log.wait_for(_letter_of(sent.offset, 3), timeout=60))[0]
    assert letter.value == unreadable
    await _until(lambda: _is_ready(probe), "ready again once the letter is published")
    assert (await probe.metrics())[held_key] == 0
    assert await applied_count(admin_db, after) == 1


async def _is_ready(proc: ServiceProcess) -> bool:
    return await proc.ready_status() == httpx.codes.OK
