"""Sending a command from a JSON file, and reading topics as readable lines."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared import fetching
from shared.cli.topics import topic_partitions
from shared.contract.schemas import contract_models
from shared.envelope import build_headers, type_service
from shared.topics import commands_topic, events_topic

PERSONAL_FIELDS = frozenset({"email", "name", "contact", "participant", "management_sponsor", "confirmed_by"})


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
        return f"{time:23}  {ce_type:45}  key={self.key or '-':38}  corr={correlation}  {summary}"

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
        return {k: ("***" if k in PERSONAL_FIELDS and v else mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


async def open_reader(
    bootstrap: str, topics: Sequence[str], *, from_beginning: bool, options: dict[str, Any]
) -> AIOKafkaConsumer:
    """A consumer without a group (it commits nothing), positioned at the start or the end of the topics."""
    partitions = await topic_partitions(bootstrap, list(topics), options)
    if not partitions:
        raise ValueError(f"no such topic(s): {', '.join(topics)}")
    fetching.install()  # a record another client wrote must not stop a tail either
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, **options)
    await consumer.start()
    consumer.assign(partitions)
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
                headers = {k: v.decode("utf-8", "replace") for k, v in (r.headers or ())}
                key = r.key.decode("utf-8", "replace") if r.key is not None else None
                yield Seen(r.topic, r.partition, r.offset, key, headers, r.value or b"")
        if not follow and all([await consumer.position(tp) >= ends[tp] for tp in partitions]):
            return


async def send_and_wait_for_answer(
    bootstrap: str, outgoing: Outgoing, *, wait_s: float, options: dict[str, Any]
) -> list[Seen]:
    """Send, then collect the events it caused (its ce_id as their causation) until they stop coming."""
    service = type_service(outgoing.ce_type) or ""
    reader = await open_reader(bootstrap, [events_topic(service)], from_beginning=False, options=options)
    found: list[Seen] = []
    try:
        await send(bootstrap, outgoing, options)

        async def collect() -> None:
            # Appended one by one: the reader follows forever and the timeout ends it.
            async for seen in records(reader, follow=True):
                if seen.headers.get("ce_causationid") == outgoing.headers["ce_id"]:
                    found.append(seen)  # noqa: PERF401

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(collect(), wait_s)
    finally:
        await stop_consumer(reader)
    return found
