"""Kafka clients built from settings: the faststream broker for consuming, a durable producer for publishing."""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security

from shared import fetching
from shared.settings import ServiceSettings
from shared.topic_config import TopicSettings


def make_broker(settings: ServiceSettings, *, service: str, logger: Any = None) -> KafkaBroker:
    # Our consumers read fetched records tolerantly: nothing another client writes can stop one.
    fetching.install()
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        logger=logger,
        # faststream's per-batch "Received"/"Processed" lines go to debug: our own line per
        # message already carries the ids, outcome and duration.
        log_level=logging.DEBUG,
        security=settings.kafka_security(),
        client_id=f"{service}-consumer",
        graceful_timeout=15.0,
        # No FastDepends: a handler is given what the decoder returns (shared.service hands over
        # the message itself). Resolving its `KafkaMessage` parameter through FastDepends ran a
        # synchronous step on a worker thread for every batch (ADR 4).
        apply_types=False,
        # The broker's own producer serves only faststream's ping and docs; outgoing records go
        # through the durable producer below, which keeps our headers exactly as recorded.
        acks="all",
        enable_idempotence=True,
    )


def producer_options(settings: ServiceSettings) -> dict[str, Any]:
    return {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        **parse_security(settings.kafka_security()),
    }


def make_producer(settings: ServiceSettings, *, service: str) -> AIOKafkaProducer:
    return _durable_producer(settings, client_id=f"{service}-producer")


def make_dlq_producer(settings: ServiceSettings, *, service: str) -> AIOKafkaProducer:
    """The producer of dead letters: it may send records as large as the DLQ takes, compressed like most originals.

    Its own, so that the relay's producer keeps the event topics' smaller limit.
    """
    return _durable_producer(
        settings,
        client_id=f"{service}-dlq-producer",
        compression_type="gzip",
        max_request_size=dlq_max_bytes(),
    )


def _durable_producer(settings: ServiceSettings, *, client_id: str, **options: Any) -> AIOKafkaProducer:
    # acks=all with idempotence: a send counts only once every in-sync replica has it, and a
    # retried send cannot be written twice or out of order.
    return AIOKafkaProducer(
        **producer_options(settings),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        # No linger: the relay sends a whole batch before awaiting, so records batch anyway.
        linger_ms=0,
        request_timeout_ms=15_000,
        **options,
    )


def dlq_max_bytes() -> int:
    """The largest dead letter: the DLQ topics' max.message.bytes (PROGRAMME_TOPIC_DLQ_MAX_MESSAGE_BYTES)."""
    return TopicSettings().dlq_max_message_bytes
