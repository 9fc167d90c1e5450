"""Prometheus metrics of one service, in a registry of its own."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class ServiceMetrics:
    service: str
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        registry = self.registry
        self.messages_in = Counter(
            "programme_messages_in",
            "Records consumed, by topic, type and outcome (applied, rejected, duplicate, ignored, dead_lettered)",
            ["service", "topic", "ce_type", "outcome"],
            registry=registry,
        )
        self.messages_out = Counter(
            "programme_messages_out",
            "Records published by the relay",
            ["service", "topic", "ce_type"],
            registry=registry,
        )
        self.handler_seconds = Histogram(
            "programme_handler_seconds",
            "Time from a batch in to its transaction committed, per record",
            ["service", "topic"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=registry,
        )
        self.outbox_backlog = Gauge(
            "programme_outbox_backlog", "Outbox rows recorded and not yet published", ["service"], registry=registry
        )
        self.dlq_records = Counter(
            "programme_dlq_records",
            "Records sent to the dead-letter topic",
            ["service", "topic", "code"],
            registry=registry,
        )
        self.passing_faults = Counter(
            "programme_passing_faults", "Retries after a passing fault", ["service", "where"], registry=registry
        )
        self.relay_active = Gauge(
            "programme_relay_active",
            "1 while this replica holds the outbox relay's lock",
            ["service"],
            registry=registry,
        )
        self.outbox_parked = Gauge(
            "programme_outbox_parked",
            "Outbox rows the relay cannot send (kept until an operator replays them)",
            ["programme_service"],
            registry=registry,
        )
        self.relay_stalled = Gauge(
            "programme_relay_stalled",
            "1 while the active relay has failed to publish for longer than its threshold",
            ["programme_service"],
            registry=registry,
        )
