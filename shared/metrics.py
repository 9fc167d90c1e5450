"""Prometheus metrics of one service, in a registry of its own.

Every series carries `programme_service`, not `service`: Prometheus and its Kubernetes service
discovery put a `service` label on every scraped target, and ours would be renamed
`exported_service` under it. The alert rules (deploy/prometheus) and the dashboard
(deploy/grafana) read exactly these names; tests/deploy checks that they do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

# The ce_type label of a type no route of ours knows: a sender's made-up types share one series.
UNKNOWN_TYPE = "unknown"


@dataclass
class ServiceMetrics:
    service: str
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        registry = self.registry
        # Memory, CPU, open files of this process: what a leak or a descriptor exhaustion shows as.
        ProcessCollector(registry=registry)
        self.messages_in = Counter(
            "programme_messages_in",
            "Records consumed, by topic, type and outcome (applied, rejected, duplicate, ignored, dead_lettered); "
            f"a type no route knows is counted as '{UNKNOWN_TYPE}'",
            ["programme_service", "topic", "ce_type", "outcome"],
            registry=registry,
        )
        self.messages_out = Counter(
            "programme_messages_out",
            "Records published by the relay",
            ["programme_service", "topic", "ce_type"],
            registry=registry,
        )
        self.handler_seconds = Histogram(
            "programme_handler_seconds",
            "Per record: time from its batch's arrival to its transaction committed",
            ["programme_service", "topic"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=registry,
        )
        self.outbox_backlog = Gauge(
            "programme_outbox_backlog",
            "Outbox rows recorded and not yet published (0 on a replica whose relay stands by)",
            ["programme_service"],
            registry=registry,
        )
        self.dlq_records = Counter(
            "programme_dlq_records",
            "Records sent to the dead-letter topic",
            ["programme_service", "topic", "code"],
            registry=registry,
        )
        self.passing_faults = Counter(
            "programme_passing_faults",
            "Retries after a passing fault",
            ["programme_service", "where"],
            registry=registry,
        )
        self.relay_active = Gauge(
            "programme_relay_active",
            "1 while this replica holds the outbox relay's lock",
            ["programme_service"],
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
        self.ready = Gauge(
            "programme_ready",
            "1 while the readiness check passes, 0 while it fails (updated by each check)",
            ["programme_service"],
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "programme_consumer_lag",
            "Records on an assigned partition not yet consumed: log end (last stable offset) minus position",
            ["programme_service", "topic", "partition"],
            registry=registry,
        )
        self.partition_held = Gauge(
            "programme_partition_held",
            "1 while this replica holds a partition it cannot move past (an undecodable batch, a dead letter "
            "that cannot be published)",
            ["programme_service", "topic", "partition"],
            registry=registry,
        )
