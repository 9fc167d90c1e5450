"""The outbox relay: publishes recorded rows in order and marks them sent; one active relay per service."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import asyncpg
from aiokafka import AIOKafkaProducer

from shared import failpoints, outbox
from shared.db import Liveness, connect, is_transient
from shared.logging import get_logger
from shared.metrics import ServiceMetrics
from shared.retry import Backoff

log = get_logger(__name__)

_PRUNE_EVERY_S = 600.0
_BACKLOG_EVERY_S = 1.0
_STANDBY_RETRY_S = 1.0
# What the server will do with this session if this process goes silent, as the server has it.
_SESSION_LIVENESS = """SELECT current_setting('idle_session_timeout') AS idle_session_timeout,
                              current_setting('tcp_keepalives_idle') AS tcp_keepalives_idle,
                              current_setting('tcp_keepalives_interval') AS tcp_keepalives_interval,
                              current_setting('tcp_keepalives_count') AS tcp_keepalives_count,
                              current_setting('tcp_user_timeout') AS tcp_user_timeout"""


class Relay:
    """Wakes when the service's own transaction commits (``wake``), and polls for other writers.

    The advisory lock is held on a dedicated connection: a replica that loses it (or its
    connection) stops publishing at once and goes back to standing by.
    """

    def __init__(
        self,
        *,
        service: str,
        dsn: str,
        schema: str,
        producer: AIOKafkaProducer,
        metrics: ServiceMetrics,
        poll_interval_s: float,
        batch_size: int,
        retention_hours: float,
        on_health: Callable[[bool], None],
        liveness: Liveness,
    ) -> None:
        self._service = service
        self._dsn = dsn
        self._schema = schema
        self._producer = producer
        self._metrics = metrics
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        self._retention_hours = retention_hours
        self._on_health = on_health
        self._liveness = liveness
        self._wake = asyncio.Event()
        self._last_prune = 0.0
        self._last_backlog = 0.0
        self.published = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        backoff = Backoff()
        while True:
            try:
                # A sent mark lost in a crash only means the row is published again under the same
                # ce_id, which consumers absorb: no fsync per batch for it (ADR 3).
                conn = await connect(
                    self._dsn,
                    schema=self._schema,
                    service=f"{self._service}-relay",
                    durable_commits=False,
                    liveness=self._liveness,
                )
            except Exception as error:
                if not is_transient(error):
                    raise
                self._on_health(False)
                await backoff.wait(log, "relay.connect_failed", error)
                continue
            try:
                await self._lead(conn)
            except Exception as error:
                if not is_transient(error):
                    log.exception("relay.failed")
                self._metrics.passing_faults.labels(self._service, "relay").inc()
                self._metrics.relay_standing_by()
                await backoff.wait(log, "relay.interrupted", error)
            else:
                backoff.reset()
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 2)

    async def _lead(self, conn: asyncpg.Connection) -> None:
        # The lock lives as long as this connection's session: the server ends the session of a
        # holder that went silent (Liveness), and a standby, asking every second, takes over (ADR 2).
        lock_key = f"outbox-relay:{self._schema}"
        while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock_key):
            self._metrics.relay_standing_by()
            await asyncio.sleep(_STANDBY_RETRY_S)
        self._metrics.relay_active.labels(self._service).set(1)
        session = await conn.fetchrow(_SESSION_LIVENESS)
        log.info("relay.active", **dict(session or {}))
        while True:
            sent = await self.publish_pending(conn)
            self._on_health(True)
            await self._housekeeping(conn)
            if sent < self._batch_size:
                await self._sleep_until_woken()

    async def publish_pending(self, conn: asyncpg.Connection) -> int:
        """Publish one batch of unsent rows in id order; mark them sent once the broker confirmed all."""
        self._wake.clear()
        rows = await outbox.pending(conn, limit=self._batch_size)
        if not rows:
            return 0
        futures = [
            await self._producer.send(
                row.topic,
                value=row.payload,
                key=row.key.encode(),
                headers=[(name, value.encode()) for name, value in row.headers.items()],
            )
            for row in rows
        ]
        await asyncio.gather(*futures)
        failpoints.reach("after_kafka_send")
        await outbox.mark_sent(conn, ids=[row.id for row in rows])
        for row in rows:
            self._metrics.messages_out.labels(self._service, row.topic, row.ce_type).inc()
        self.published += len(rows)
        return len(rows)

    async def _sleep_until_woken(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)

    async def _housekeeping(self, conn: asyncpg.Connection) -> None:
        now = time.monotonic()
        if now - self._last_backlog >= _BACKLOG_EVERY_S:
            self._last_backlog = now
            self._metrics.outbox_backlog.labels(self._service).set(await outbox.unsent(conn))
        if now - self._last_prune >= _PRUNE_EVERY_S:
            self._last_prune = now
            pruned = await outbox.prune(conn, retention_hours=self._retention_hours)
            log.info("relay.pruned", result=pruned)
