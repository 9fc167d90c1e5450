"""Kafka through librdkafka (`confluent-kafka`), as an integrating team's code would use it: no code of ours inside.

librdkafka's calls block, so the tests run them in a thread.
"""

from __future__ import annotations

import time
import uuid
from typing import Final

from cloudevents.core.bindings.kafka import KafkaMessage
from confluent_kafka import Consumer, Message, Producer, TopicPartition

POLL_S: Final = 0.5


class LibrdkafkaProducer:
    def __init__(self, bootstrap: str) -> None:
        # murmur2: the Java client's partitioner, as docs/integrating.md advises, so keys land where ours do.
        config = {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "partitioner": "murmur2_random",
        }
        self._producer = Producer(config)

    def send(self, topic: str, message: KafkaMessage, *, timeout: float = 30.0) -> None:
        """Produce one record and wait until the broker has it; a delivery error fails the test."""
        errors: list[object] = []
        self._producer.produce(
            topic,
            value=message.value,
            key=message.key,
            headers=list(message.headers.items()),
            on_delivery=lambda error, _: errors.append(error) if error is not None else None,
        )
        left = self._producer.flush(timeout)
        assert left == 0, f"{left} record(s) not delivered in {timeout}s"
        assert errors == [], errors


class LibrdkafkaReader:
    """Reads a topic from where it ends now: open it before sending what it should see."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = Consumer(
            {"bootstrap.servers": bootstrap, "group.id": f"interop-{uuid.uuid4()}", "enable.auto.commit": False}
        )
        partitions = self._consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = []
        for partition in partitions:
            _, high = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            ends.append(TopicPartition(topic, partition, high))
        self._consumer.assign(ends)

    def answer_to(self, ce_id: str, *, timeout: float = 60.0) -> KafkaMessage:
        """The first record whose `ce_causationid` is the command's id, as the SDK's KafkaMessage."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record: Message | None = self._consumer.poll(POLL_S)
            if record is None or record.error() is not None:
                continue
            headers = dict(record.headers() or [])
            if headers.get("ce_causationid") == ce_id.encode():
                return KafkaMessage(
                    headers={k: _bytes(v) for k, v in headers.items()}, key=record.key(), value=record.value() or b""
                )
        raise AssertionError(f"no answer to {ce_id} within {timeout}s")

    def close(self) -> None:
        self._consumer.close()


def _bytes(value: str | bytes | None) -> bytes:
    """A header value as the SDK takes it: librdkafka types one as text or bytes, and an empty one as None."""
    if value is None:
        return b""
    return value.encode() if isinstance(value, str) else value
