"""What each kind of topic is created with: partitions, replicas, retention and sizes (`PROGRAMME_TOPIC_*`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TopicKind = Literal["commands", "events", "dlq"]

UNLIMITED = -1
DAY_MS = 24 * 3600 * 1000
# Kafka's own default for max.message.bytes (1 MiB plus a batch header).
KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
# What a dead letter may add to the record it carries: the x-error-* and x-original-* headers.
DLQ_HEADROOM_BYTES = 64 * 1024


class TopicSettings(BaseSettings):
    """Read by `programme topics create` and `check`, the local start-up and the tests: one source for every topic."""

    model_config = SettingsConfigDict(env_prefix="PROGRAMME_TOPIC_", extra="ignore", frozen=True)

    partitions: int = Field(default=6, ge=1, description="partitions per topic: the most consumers a group can use")
    replication_factor: int = Field(default=1, ge=1, description="copies of each partition (3 in production)")
    min_insync_replicas: int | None = Field(
        default=None,
        ge=1,
        description="copies a write needs before it counts; default: a majority, but never all of them "
        "(RF 1: 1, RF 2: 1, RF 3: 2, RF 5: 3)",
    )
    commands_retention_ms: int = Field(
        default=UNLIMITED, ge=UNLIMITED, description="how long command records are kept (-1: for ever)"
    )
    events_retention_ms: int = Field(
        default=UNLIMITED,
        ge=UNLIMITED,
        description="how long events and notifications are kept (-1: for ever, so a consumer that joins late or "
        "was down for weeks still reads every event)",
    )
    dlq_retention_ms: int = Field(
        default=30 * DAY_MS,
        ge=UNLIMITED,
        description="how long dead letters are kept: time to see the alert, fix the cause and replay (30 days)",
    )
    max_message_bytes: int = Field(
        default=KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
        ge=1024,
        description="largest record batch on command and event topics; intake bounds and producers stay below it",
    )
    dlq_max_message_bytes: int = Field(
        default=KAFKA_DEFAULT_MAX_MESSAGE_BYTES + DLQ_HEADROOM_BYTES,
        ge=1024,
        description=f"largest record batch on DLQs: at least MAX_MESSAGE_BYTES + {DLQ_HEADROOM_BYTES} "
        "so the largest record still fits with its error headers",
    )

    @model_validator(mode="after")
    def _consistent(self) -> TopicSettings:
        if self.insync_replicas() > self.replication_factor:
            msg = (
                "PROGRAMME_TOPIC_MIN_INSYNC_REPLICAS exceeds PROGRAMME_TOPIC_REPLICATION_FACTOR: no write could succeed"
            )
            raise ValueError(msg)
        if self.dlq_max_message_bytes < self.max_message_bytes + DLQ_HEADROOM_BYTES:
            msg = (
                f"PROGRAMME_TOPIC_DLQ_MAX_MESSAGE_BYTES must be at least PROGRAMME_TOPIC_MAX_MESSAGE_BYTES + "
                f"{DLQ_HEADROOM_BYTES}: the largest record must fit in the DLQ with its error headers"
            )
            raise ValueError(msg)
        return self

    def insync_replicas(self) -> int:
        """A majority of the copies, but fewer than all of them: one broker may be down and writes go on."""
        if self.min_insync_replicas is not None:
            return self.min_insync_replicas
        rf = self.replication_factor
        return max(1, min(rf - 1, rf // 2 + 1))

    def configs(self, topic: str) -> dict[str, str]:
        """The topic-level configs a topic of this name is created with, and checked against."""
        kind = topic_kind(topic)
        retention = {
            "commands": self.commands_retention_ms,
            "events": self.events_retention_ms,
            "dlq": self.dlq_retention_ms,
        }[kind]
        size = self.dlq_max_message_bytes if kind == "dlq" else self.max_message_bytes
        return {
            "cleanup.policy": "delete",
            "retention.ms": str(retention),
            # Time alone decides: a cluster default on bytes must not cut history short.
            "retention.bytes": str(UNLIMITED),
            "min.insync.replicas": str(self.insync_replicas()),
            "max.message.bytes": str(size),
        }


def topic_kind(topic: str) -> TopicKind:
    """`<service>.commands.vN`, `<service>.dlq.vN`; everything else (events, notifications) keeps history."""
    parts = topic.split(".")
    if "commands" in parts:
        return "commands"
    if "dlq" in parts:
        return "dlq"
    return "events"
