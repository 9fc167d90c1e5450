"""Sending a command from a JSON file, and reading topics as readable lines."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from shared import fetching
from shared.cli.topics import topic_partitions
from shared.contract.schemas import contract_models
from shared.envelope import build_headers, type_service
from shared.topics import commands_topic, events_topic

PERSONAL_FIELDS = frozenset({"email", "name", "contact", "participant", "management_sponsor", "confirmed_by"})
# An e-mail address anywhere in a text: erasure requests and notifications are keyed by one.
EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
MASKED = "***"
# After the first record of an answer, how long to wait for the rest of it: the relay sends a
# command's events together, so they follow within milliseconds; a rejection is whole at once.
ANSWER_SETTLE_S = 0.5
_POLL_S = 0.1


@dataclass(frozen=True)
class Outgoing:
    topic: str
    key: str
    ce_type: str
    data: dict[str, Any]
    headers: dict[str, str]


def command_from_file(
    path: Path, *, ce_type: str | None, key: str | None, source: str, correlation_id: str | None = None
) -> Outgoing:
    """Read `{"type", "key"?, "data"}` or plain data (with --type); fill in the envelope."""
    content = json.loads(path.read_text())
    if not isinstance(content, dict):
        raise TypeError(f"{path}: a JSON object is expected")
    data = content.get("data", content) if "type" in content else content
    ce_type = ce_type or content.get("type")
    if not ce_type:
        raise ValueError(f"{path}: no command type: give --type or a top-level 'type'")
    service = type_service(ce_type)
    if service is None:
        raise ValueError(f"{ce_type!r} is not a <service>.<Name>.v<N> type")
    key = key or content.get("key") or record_key(ce_type, data)
    ce_id = str(uuid.uuid4())
    headers = build_headers(
        ce_id=ce_id,
        source=source,
        ce_type=ce_type,
        time=datetime.now(UTC),
        subject=None,
        correlation_id=correlation_id,
        causation_id=None,
    )
    return Outgoing(commands_topic(service), key, ce_type, data, headers)


def record_key(ce_type: str, data: dict[str, Any]) -> str:
    """The contract's record key for a command, as its model says (`key_template`)."""
    model = contract_models().get(ce_type)
    if model is None:
        raise ValueError(f"{ce_type} is not a type of the contract: give --key")
    try:
        return model.key_from(data)
    except (KeyError, ValueError, IndexError) as error:
        raise ValueError(f"cannot tell the record key of {ce_type} from the data ({error}): give --key") from error


async def send(bootstrap: str, outgoing: Outgoing, options: dict[str, Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **options)
    await producer.start()
    try:
        await producer.send_and_wait(
            outgoing.topic,
            value=json.dumps(outgoing.data).encode(),
            key=outgoing.key.encode(),
            headers=[(k, v.encode()) for k, v in outgoing.headers.items()],
        )
    finally:
        await producer.stop()


@dataclass(frozen=True)
class Seen:
    topic: str
    partition: int
    offset: int
    key: str | None
    headers: dict[str, str]
    value: bytes

    def line(self, *, show_personal: bool = False, width: int = 110) -> str:
        time = self.headers.get("ce_time", "?")[:23]
        ce_type = self.headers.get("ce_type", "<no type>")
        correlation = (self.headers.get("ce_correlationid") or "-")[:8]
        summary = self.summary(show_personal, width)
        key = (self.key if show_personal else mask_text(self.key)) if self.key is not None else "-"
        return f"{time:23}  {ce_type:45}  key={key:38}  corr={correlation}  {summary}"

    @property
    def rejection(self) -> bool:
        return self.headers.get("ce_type", "").endswith(".CommandRejected.v1")

    def summary(self, show_personal: bool, width: int) -> str:
        if "x-error-code" in self.headers:
            return f"DLQ {self.headers['x-error-code']}: {self.headers.get('x-error-message', '')[:width]}"
        try:
            data = json.loads(self.value)
        except ValueError:
            return f"<{len(self.value)} bytes, not JSON>"
        text = json.dumps(data if show_personal else mask(data), ensure_ascii=False, separators=(",", ":"))
        return text if len(text) <= width else text[: width - 1] + "…"


def mask(value: Any) -> Any:
    """Names and e-mails hidden: a tail is read over shoulders and pasted into tickets."""
    if isinstance(value, dict):
        return {k: (MASKED if k in PERSONAL_FIELDS and v else mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_text(text: str) -> str:
    """Every e-mail address in the text hidden, whatever field or key holds it."""
    return EMAIL.sub(MASKED, text)


async def open_reader(
    bootstrap: str, topics: Sequence[str], *, from_beginning: bool, options: dict[str, Any]
) -> AIOKafkaConsumer:
    """A consumer without a group (it commits nothing), positioned at the start or the end of the topics."""
    partitions = await topic_partitions(bootstrap, list(topics), options)
    if not partitions:
        raise LookupError(
            f"no such topic(s): {', '.join(topics)}: `programme topics check` lists the contract's topics, "
            "`programme topics create` creates them"
        )
    return await _reader(bootstrap, partitions, from_beginning=from_beginning, options=options)


async def _reader(
    bootstrap: str, partitions: Sequence[TopicPartition], *, from_beginning: bool, options: dict[str, Any]
) -> AIOKafkaConsumer:
    fetching.install()  # a record another client wrote must not stop a tail either
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, **options)
    await consumer.start()
    consumer.assign(list(partitions))
    if from_beginning:
        await consumer.seek_to_beginning(*partitions)
    else:
        await consumer.seek_to_end(*partitions)
    for tp in partitions:  # resolve positions now: nothing written after this call is missed
        await consumer.position(tp)
    return consumer


async def stop_consumer(consumer: AIOKafkaConsumer) -> None:
    """Stop, tolerating aiokafka's own cancelled task (aio-libs/aiokafka#647), never our cancellation."""
    try:
        await consumer.stop()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise


async def records(consumer: AIOKafkaConsumer, *, follow: bool) -> AsyncIterator[Seen]:
    """What the reader sees; without `follow`, it stops at the end offsets it found when it began."""
    partitions = list(consumer.assignment())
    ends = await consumer.end_offsets(partitions)
    while True:
        batches = await consumer.getmany(timeout_ms=500)
        for batch in batches.values():
            for r in batch:
                yield _seen(r)
        if not follow and all([await consumer.position(tp) >= ends[tp] for tp in partitions]):
            return


def _seen(r: ConsumerRecord[bytes, bytes]) -> Seen:
    headers = {k: (v or b"").decode("utf-8", "replace") for k, v in (r.headers or ())}
    key = r.key.decode("utf-8", "replace") if r.key is not None else None
    return Seen(r.topic, r.partition, r.offset, key, headers, r.value or b"")


async def send_and_wait_for_answer(
    bootstrap: str, outgoing: Outgoing, *, wait_s: float, options: dict[str, Any]
) -> list[Seen]:
    """Send, then collect the answer: the events it caused (its ce_id as their causation), or its rejection.

    Returns as soon as the answer is whole: at once for a CommandRejected (always alone), else
    when ANSWER_SETTLE_S passes after the last of its events without another; `wait_s` bounds it all.
    """
    service = type_service(outgoing.ce_type) or ""
    reader = await open_reader(bootstrap, [events_topic(service)], from_beginning=False, options=options)
    found: list[Seen] = []
    loop = asyncio.get_running_loop()
    try:
        await send(bootstrap, outgoing, options)
        deadline = loop.time() + wait_s
        while (left := deadline - loop.time()) > 0:
            batches = await reader.getmany(timeout_ms=max(1, int(min(left, _POLL_S) * 1000)))
            caused = [
                seen
                for batch in batches.values()
                for seen in map(_seen, batch)
                if seen.headers.get("ce_causationid") == outgoing.headers["ce_id"]
            ]
            if caused:
                found.extend(caused)
                if found[0].rejection:
                    break
                deadline = min(deadline, loop.time() + ANSWER_SETTLE_S)
    finally:
        await stop_consumer(reader)
    return found


def key_partition(key: str, partitions: Sequence[int]) -> int:
    """The partition a record with this key is in: murmur2, as every Kafka client's default partitioner."""
    return int(DefaultPartitioner()(key.encode(), sorted(partitions), sorted(partitions)))


async def keyed_history(bootstrap: str, key: str, topics: Sequence[str], *, options: dict[str, Any]) -> list[Seen]:
    """Every record with this key in the topics, oldest first by its ce_time (ties: topic, offset).

    Reads only the one partition of each topic that the key hashes to, from its start to its end now.
    """
    layout = await topic_partitions(bootstrap, list(topics), options)
    if not layout:
        raise LookupError(
            f"no such topic(s): {', '.join(topics)}: `programme topics create` creates the contract's topics"
        )
    by_topic: dict[str, list[int]] = {}
    for tp in layout:
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    chosen = [TopicPartition(topic, key_partition(key, numbers)) for topic, numbers in by_topic.items()]
    reader = await _reader(bootstrap, chosen, from_beginning=True, options=options)
    try:
        found = [seen async for seen in records(reader, follow=False) if seen.key == key]
    finally:
        await stop_consumer(reader)
    return sorted(found, key=lambda seen: (_when(seen), seen.topic, seen.offset))


def _when(seen: Seen) -> datetime:
    try:
        moment = datetime.fromisoformat(seen.headers.get("ce_time", ""))
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
