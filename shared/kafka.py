"""Kafka clients built from settings: the faststream broker for consuming, a durable producer for publishing."""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security

from shared.settings import ServiceSettings


def make_broker(settings: ServiceSettings, *, service: str, logger: Any = None) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        logger=logger,
        # faststream's per-batch "Received"/"Processed" lines go to debug: our own line per
        # message already carries the ids, outcome and duration.
        log_level=logging.DEBUG,
        security=settings.kafka_security(),
        client_id=f"{service}-consumer",
        graceful_timeout=15.0,
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
    # acks=all with idempotence: a send counts only once every in-sync replica has it, and a
    # retried send cannot be written twice or out of order.
    return AIOKafkaProducer(
        **producer_options(settings),
        client_id=f"{service}-producer",
        acks="all",
        enable_idempotence=True,
        # No linger: the relay sends a whole batch before awaiting, so records batch anyway.
        linger_ms=0,
        request_timeout_ms=15_000,
    )
