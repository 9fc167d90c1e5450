"""Dead-lettering: an unreadable record goes to the service's DLQ unchanged, with the contract's x- headers."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaProducer, ConsumerRecord

from shared.logging import get_logger
from shared.metrics import ServiceMetrics

log = get_logger(__name__)

_MAX_ERROR_MESSAGE = 1_000


@dataclass(frozen=True, slots=True)
class DeadLetter:
    record: ConsumerRecord[bytes, bytes]
    code: str
    message: str


def dead_letter_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    record = letter.record
    original = [(name, value) for name, value in (record.headers or ()) if not name.startswith("x-")]
    return [
        *original,
        ("x-error-code", letter.code.encode()),
        ("x-error-message", letter.message[:_MAX_ERROR_MESSAGE].encode("utf-8", "replace")),
        ("x-original-topic", record.topic.encode()),
        ("x-original-partition", str(record.partition).encode()),
        ("x-original-offset", str(record.offset).encode()),
    ]


async def publish(
    producer: AIOKafkaProducer, letters: list[DeadLetter], *, topic: str, service: str, metrics: ServiceMetrics
) -> None:
    """Send every letter and wait until the broker has them all; raises on a passing fault for the caller to retry."""
    futures = [
        await producer.send(
            topic, value=letter.record.value, key=letter.record.key, headers=dead_letter_headers(letter)
        )
        for letter in letters
    ]
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
