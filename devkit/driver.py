"""Talking to Kafka as another system would: commands sent in the CloudEvents envelope, what comes out read back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.cli.messages import open_reader, stop_consumer

# Who sends, unless the sender names itself: the kit plays another system, never the programme.
DEFAULT_SOURCE: Final = "/devkit"


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str | None
    headers: dict[str, str]
    value: bytes

    @property
    def ce_type(self) -> str:
        return self.headers.get("ce_type", "")

    @property
    def ce_id(self) -> str:
        return self.headers.get("ce_id", "")

    @property
    def causation_id(self) -> str | None:
        return self.headers.get("ce_causationid")

    @property
    def correlation_id(self) -> str | None:
        return self.headers.get("ce_correlationid")

    @property
    def data(self) -> Any:
        return json.loads(self.value)


def command_headers(
    ce_type: str,
    *,
    ce_id: str | None = None,
    time_: datetime | None = None,
    correlation_id: str | None = None,
    source: str = DEFAULT_SOURCE,
) -> dict[str, str]:
    """A correct envelope for a command: a fresh ce_id unless one is given, the time now unless one is given."""
    headers = {
        "ce_specversion": "1.0",
        "ce_id": ce_id or str(uuid.uuid4()),
        "ce_source": source,
        "ce_type": ce_type,
        "ce_time": (time_ or datetime.now(UTC)).isoformat(),
        "content-type": "application/json",
    }
    if correlation_id:
        headers["ce_correlationid"] = correlation_id
    return headers


class Sender:
    """Sends commands and events as another system would, each durably (acks=all, idempotent).

    `send` waits for the broker to confirm each record; `enqueue` only hands it to the
    producer, so that many commands go out together (a benchmark's load), and `flush` waits
    for all of them.
    """

    def __init__(self, bootstrap: str, *, source: str = DEFAULT_SOURCE, linger_ms: int = 0) -> None:
        self.source = source
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=linger_ms
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send(
        self,
        topic: str,
        ce_type: str,
        key: str,
        data: Any,
        *,
        ce_id: str | None = None,
        time_: datetime | None = None,
        correlation_id: str | None = None,
    ) -> str:
        """Send one command or event with a correct envelope; returns its ce_id once the broker has it."""
        headers = command_headers(ce_type, ce_id=ce_id, time_=time_, correlation_id=correlation_id, source=self.source)
        await self.send_raw(topic, key=key.encode(), value=json.dumps(data).encode(), headers=headers)
        return headers["ce_id"]

    async def enqueue(
        self, topic: str, ce_type: str, key: str, data: Any, *, ce_id: str | None = None, time_: datetime | None = None
    ) -> str:
        """Hand one command in its envelope to the producer without waiting for the broker; returns its ce_id."""
        headers = command_headers(ce_type, ce_id=ce_id, time_=time_, source=self.source)
        await self._producer.send(
            topic, json.dumps(data).encode(), key=key.encode(), headers=[(k, v.encode()) for k, v in headers.items()]
        )
        return headers["ce_id"]

    async def flush(self) -> None:
        """Wait until the broker has every record enqueued so far."""
        await self._producer.flush()

    async def send_raw(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes | None,
        headers: dict[str, str] | Sequence[tuple[str, bytes]],
    ) -> None:
        raw = [(k, v.encode()) for k, v in headers.items()] if isinstance(headers, dict) else list(headers)
        await self._producer.send_and_wait(topic, value=value, key=key, headers=raw)


class TopicLog:
    """Every record on the watched topics since the log started, read continuously in the background.

    `on_record`, when given, sees each record as it arrives: a driver that reacts to events
    (the benchmark's chains, the demo's timeline) hooks in there.
    """

    def __init__(
        self, bootstrap: str, topics: Sequence[str], *, on_record: Callable[[Record], None] | None = None
    ) -> None:
        self._bootstrap = bootstrap
        self._topics = list(topics)
        self._on_record = on_record
        self.records: list[Record] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._failure: Exception | None = None

    async def start(self) -> None:
        # Positioned at the end before start() returns: nothing sent after it is missed.
        consumer = await open_reader(self._bootstrap, self._topics, from_beginning=False, options={})
        self._consumer = consumer
        self._task = asyncio.create_task(self._run(consumer))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer:
            await stop_consumer(self._consumer)

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        try:
            await self._read(consumer)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # A reader that stopped must fail the waits on it at once, saying why, not let them time out.
            self._failure = error
            self._changed.set()
            raise

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for r in records:
                    # Kafka allows a header without a value; other clients write them.
                    headers = {k: (v or b"").decode("utf-8", "replace") for k, v in (r.headers or ())}
                    key = r.key.decode("utf-8", "replace") if r.key is not None else None
                    record = Record(r.topic, r.partition, r.offset, key, headers, r.value or b"")
                    self.records.append(record)
                    if self._on_record is not None:
                        self._on_record(record)
            if batches:
                self._changed.set()

    def where(self, predicate: Callable[[Record], bool]) -> list[Record]:
        return [r for r in self.records if predicate(r)]

    def caused_by(self, ce_id: str, topic: str | None = None) -> list[Record]:
        return self.where(lambda r: r.causation_id == ce_id and (topic is None or r.topic == topic))

    async def wait_for(
        self, predicate: Callable[[Record], bool], *, count: int = 1, timeout: float = 30.0
    ) -> list[Record]:
        """Wait until at least `count` records match; fail with what was seen at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            if self._failure is not None:
                raise AssertionError(f"the topic log stopped reading: {self._failure!r}") from self._failure
            found = self.where(predicate)
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [(r.topic, r.ce_type, r.key) for r in self.records[-15:]]
                raise AssertionError(f"wanted {count} matching record(s), found {len(found)}; last seen: {seen}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))

    async def answer_to(self, ce_id: str, topic: str, *, count: int = 1, timeout: float = 30.0) -> list[Record]:
        """The records a command caused on its service's events topic."""
        return await self.wait_for(lambda r: r.causation_id == ce_id and r.topic == topic, count=count, timeout=timeout)

    async def settle(self, seconds: float = 1.0) -> None:
        """Let late records arrive before asserting that something did NOT happen (a deadline, not a sync)."""
        await asyncio.sleep(seconds)
