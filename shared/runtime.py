"""What a running service holds: settings, pool, durable producer, relay, health and metrics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaProducer

from shared import outbox
from shared.cause import Cause
from shared.db import Connection
from shared.metrics import ServiceMetrics
from shared.outbox import Recorder
from shared.relay import Relay
from shared.settings import ServiceSettings
from shared.topics import dlq_topic, events_topic


@dataclass
class Health:
    database_ok: bool = True
    relay_ok: bool = True
    # Consumed topic -> the passing fault its consumer is retrying (readiness says which and why).
    retrying: dict[str, str] = field(default_factory=dict)
    # Partitions this replica cannot move past ("<topic>/<partition>"), with why: readiness names them.
    held: dict[str, str] = field(default_factory=dict)


@dataclass
class Runtime:
    service: str
    settings: ServiceSettings
    metrics: ServiceMetrics
    health: Health = field(default_factory=Health)
    pool_or_none: asyncpg.Pool | None = None
    producer_or_none: AIOKafkaProducer | None = None
    dlq_producer_or_none: AIOKafkaProducer | None = None
    relay: Relay | None = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def pool(self) -> asyncpg.Pool:
        if self.pool_or_none is None:
            msg = "the service has not started: no database pool yet"
            raise RuntimeError(msg)
        return self.pool_or_none

    @property
    def producer(self) -> AIOKafkaProducer:
        if self.producer_or_none is None:
            msg = "the service has not started: no producer yet"
            raise RuntimeError(msg)
        return self.producer_or_none

    @property
    def dlq_producer(self) -> AIOKafkaProducer:
        if self.dlq_producer_or_none is None:
            msg = "the service has not started: no dead-letter producer yet"
            raise RuntimeError(msg)
        return self.dlq_producer_or_none

    @property
    def schema(self) -> str:
        return self.settings.schema_name(self.service)

    @property
    def events_topic(self) -> str:
        return events_topic(self.service)

    @property
    def dlq_topic(self) -> str:
        return dlq_topic(self.service)

    def is_stopping(self) -> bool:
        return self.stopping.is_set()

    def relay_wake(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    def recorder(
        self,
        *,
        seed: str,
        correlation_id: str | None,
        causation_id: str | None,
        subject: str | None = None,
        command_type: str | None = None,
        traceparent: str | None = None,
    ) -> Recorder:
        return Recorder(
            service=self.service,
            events_topic=self.events_topic,
            seed=seed,
            time=datetime.now(UTC),
            correlation_id=correlation_id,
            causation_id=causation_id,
            subject=subject,
            command_type=command_type,
            traceparent=traceparent,
        )

    @contextlib.asynccontextmanager
    async def unit_of_work(self, *, fact: str) -> AsyncIterator[tuple[Connection, Cause, Recorder]]:
        """The commit path of work no consumed message caused (a scheduled fact): one transaction, its outbox rows.

        ``fact`` names what came due: the same fact recorded twice derives the same ids, which the
        outbox's unique event id refuses. The batch's path is the consumer's; both record with a
        `Recorder` and write its rows in the transaction of the effects.
        """
        cause = Cause(message_id=fact, at=datetime.now(UTC), source=f"/programme/{self.service}")
        recorder = self.recorder(seed=fact, correlation_id=None, causation_id=None)
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                yield conn, cause, recorder
                await outbox.write(conn, recorder.rows)
            self.relay_wake()  # committed: before the pool's reset round trip on release
