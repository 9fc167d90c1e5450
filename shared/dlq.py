"""Dead-lettering: an unreadable record goes to the service's DLQ unchanged, with the contract's x- headers.

A dead letter always has something to publish: a tombstone (no key, no value) goes with an empty
value and says so in a header, and one that with its headers would exceed the DLQ's size limit
goes with its value cut to fit, saying so and giving the original size. The original record
stays in its own topic for as long as that keeps records, at the offset the headers name.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaProducer, ConsumerRecord

from shared.fetching import printable_header_name
from shared.logging import get_logger
from shared.metrics import ServiceMetrics

log = get_logger(__name__)

_MAX_ERROR_MESSAGE = 1_000
# Room for what aiokafka and Kafka add around a record (batch header, varints, attributes).
_RECORD_OVERHEAD = 4 * 1024


@dataclass(frozen=True, slots=True)
class DeadLetter:
    record: ConsumerRecord[bytes, bytes]
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What is actually sent for one dead letter."""

    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


def dead_letter_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    record = letter.record
    original = [
        (printable_header_name(name), value or b"")
        for name, value in (record.headers or ())
        if not name.startswith("x-")
    ]
    return [
        *original,
        ("x-error-code", letter.code.encode()),
        ("x-error-message", letter.message[:_MAX_ERROR_MESSAGE].encode("utf-8", "replace")),
        ("x-original-topic", record.topic.encode()),
        ("x-original-partition", str(record.partition).encode()),
        ("x-original-offset", str(record.offset).encode()),
    ]


def outgoing(letter: DeadLetter, *, max_bytes: int) -> Outgoing:
    """The record to publish for a letter: within `max_bytes`, whatever the original was."""
    record = letter.record
    headers = dead_letter_headers(letter)
    value = record.value
    if value is None:
        # aiokafka refuses a record with neither key nor value; an empty value with this header keeps it visible.
        headers.append(("x-original-value", b"null"))
        value = b""
    used = len(record.key or b"") + sum(len(name) + len(data) for name, data in headers) + _RECORD_OVERHEAD
    room = max(0, max_bytes - used)
    if len(value) > room:
        headers.append(("x-value-truncated-from", str(len(value)).encode()))
        value = value[:room]
    return Outgoing(record.key, value, headers)


async def publish(
    producer: AIOKafkaProducer,
    letters: list[DeadLetter],
    *,
    topic: str,
    service: str,
    metrics: ServiceMetrics,
    max_bytes: int,
) -> None:
    """Send every letter and wait until the broker has them all; raises for the caller to retry."""
    futures = []
    for letter in letters:
        out = outgoing(letter, max_bytes=max_bytes)
        futures.append(await producer.send(topic, value=out.value, key=out.key, headers=out.headers))
    for letter, future in zip(letters, futures, strict=True):
        await future
        metrics.dlq_records.labels(service, letter.record.topic, letter.code).inc()
        log.warning(
            "message.dead_lettered",
            topic=letter.record.topic,
            partition=letter.record.partition,
            offset=letter.record.offset,
            error_code=letter.code,
            error=letter.message[:200],
        )
