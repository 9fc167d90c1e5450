"""The outbox relay: publishes recorded rows in order and marks them sent; one active relay per service."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    CorruptRecordException,
    InvalidTimestampError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from shared import failpoints, outbox
from shared.db import Liveness, connect, is_transient
from shared.logging import get_logger
from shared.metrics import ServiceMetrics
from shared.retry import Backoff
from shared.topic_config import TopicSettings

log = get_logger(__name__)

_PRUNE_EVERY_S = 600.0
_BACKLOG_EVERY_S = 1.0
_STANDBY_RETRY_S = 1.0
# Publishing that has failed for this long (passing faults, retried) counts as stalled: metric and readiness.
STALLED_AFTER_S = 15.0
# What the broker (or the producer before it) refuses in the record itself: sending it again cannot
# succeed, so the row is parked rather than retried in front of every row behind it.
_UNSENDABLE = (
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    InvalidTimestampError,
    CorruptRecordException,
)
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
        stalled_after_s: float = STALLED_AFTER_S,
        max_record_bytes: int | None = None,
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
        self._stalled_after_s = stalled_after_s
        # The largest record the topics take (PROGRAMME_TOPIC_MAX_MESSAGE_BYTES). A record over it is
        # refused here, as the producer refuses one over its max_request_size: once the broker has
        # refused a batch, the idempotent producer's sequence for that partition is broken and every
        # later send to it fails (OutOfOrderSequenceNumber), so the broker must never see one.
        self._max_record_bytes = max_record_bytes or TopicSettings().max_message_bytes
        self._last_progress = time.monotonic()
        self._backoff = Backoff()
        self.published = 0
        self.parked = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
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
                self._failed()
                await self._backoff.wait(log, "relay.connect_failed", error)
                continue
            try:
                await self._lead(conn)
            except Exception as error:
                if not is_transient(error):
                    log.exception("relay.failed")
                self._metrics.passing_faults.labels(self._service, "relay").inc()
                self._standing_by()
                self._failed()
                await self._backoff.wait(log, "relay.interrupted", error)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 2)

    async def _lead(self, conn: asyncpg.Connection) -> None:
        # The lock lives as long as this connection's session: the server ends the session of a
        # holder that went silent (Liveness), and a standby, asking every second, takes over (ADR 2).
        lock_key = f"outbox-relay:{self._schema}"
        while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock_key):
            self._standing_by()
            self._progressed()  # a standby has nothing to publish: it is not stalled
            await asyncio.sleep(_STANDBY_RETRY_S)
        self._metrics.relay_active.labels(self._service).set(1)
        session = await conn.fetchrow(_SESSION_LIVENESS)
        log.info("relay.active", **dict(session or {}))
        while True:
            sent = await self.publish_pending(conn)
            self._progressed()
            await self._housekeeping(conn)
            if sent < self._batch_size:
                await self._sleep_until_woken()

    async def publish_pending(self, conn: asyncpg.Connection) -> int:
        """Publish one batch of sendable rows in id order; mark them sent once the broker confirmed them.

        A row the broker refuses as a record is parked. A passing fault raises with nothing marked:
        the whole batch goes again, in order, and consumers absorb what the broker already had.
        Returns how many rows the batch took from the outbox.
        """
        self._wake.clear()
        rows = await outbox.pending(conn, limit=self._batch_size)
        if not rows:
            return 0
        sent, unsendable = await self._send(rows)
        failpoints.reach("after_kafka_send")
        if unsendable:
            await outbox.park(conn, errors={row.id: error for row, error in unsendable})
            for row, error in unsendable:
                log.error(
                    "relay.row_parked",
                    outbox_id=row.id,
                    topic=row.topic,
                    ce_type=row.ce_type,
                    size=len(row.payload),
                    error=error,
                )
        await outbox.mark_sent(conn, ids=[row.id for row in sent])
        for row in sent:
            self._metrics.messages_out.labels(self._service, row.topic, row.ce_type).inc()
        self.published += len(sent)
        return len(rows)

    async def _send(self, rows: list[outbox.Pending]) -> tuple[list[outbox.Pending], list[tuple[outbox.Pending, str]]]:
        """Send the rows; those the broker confirmed, and those it refused as records with why.

        Rows of the topic and key of a refused row that come after it in the batch are neither:
        held back, they stay unsent behind the parked row (the producer refuses an oversized record
        in ``send``, before anything after it is sent).
        """
        unsendable: list[tuple[outbox.Pending, str]] = []
        held: set[tuple[str, str]] = set()
        sending: list[tuple[outbox.Pending, asyncio.Future[object]]] = []
        for row in rows:
            if (row.topic, row.key) in held:
                continue
            key = row.key.encode()
            headers = [(name, value.encode()) for name, value in row.headers.items()]
            try:
                self._refuse_oversized(key, row.payload, headers)
                future = await self._producer.send(row.topic, value=row.payload, key=key, headers=headers)
            except _UNSENDABLE as error:
                unsendable.append((row, _describe(error)))
                held.add((row.topic, row.key))
            else:
                sending.append((row, future))
        results = await asyncio.gather(*(future for _, future in sending), return_exceptions=True)
        sent = []
        for (row, _), result in zip(sending, results, strict=True):
            if isinstance(result, _UNSENDABLE):
                unsendable.append((row, _describe(result)))
            elif isinstance(result, BaseException):
                raise result
            else:
                sent.append(row)
        return sent, unsendable

    def _refuse_oversized(self, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers)
        if size > self._max_record_bytes:
            msg = f"the record is {size} bytes, more than the topics take ({self._max_record_bytes})"
            raise MessageSizeTooLargeError(msg)

    def _progressed(self) -> None:
        """The relay did what it could (published, parked, or had nothing to do): not stalled, backoff from scratch."""
        self._last_progress = time.monotonic()
        self._backoff.reset()
        self._metrics.relay_stalled.labels(self._service).set(0)
        self._on_health(True)

    def _failed(self) -> None:
        """A passing fault: once publishing has failed for longer than the threshold, the relay is stalled."""
        if time.monotonic() - self._last_progress >= self._stalled_after_s:
            self._metrics.relay_stalled.labels(self._service).set(1)
            self._on_health(False)

    def _standing_by(self) -> None:
        # Only the active relay reports the outbox; a standby's numbers would count it twice.
        self._metrics.relay_active.labels(self._service).set(0)
        self._metrics.outbox_backlog.labels(self._service).set(0)
        self._metrics.outbox_parked.labels(self._service).set(0)
        self.parked = 0

    async def _sleep_until_woken(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)

    async def _housekeeping(self, conn: asyncpg.Connection) -> None:
        now = time.monotonic()
        if now - self._last_backlog >= _BACKLOG_EVERY_S:
            self._last_backlog = now
            self._metrics.outbox_backlog.labels(self._service).set(await outbox.unsent(conn))
            self.parked = await outbox.parked(conn)
            self._metrics.outbox_parked.labels(self._service).set(self.parked)
        if now - self._last_prune >= _PRUNE_EVERY_S:
            self._last_prune = now
            pruned = await outbox.prune(conn, retention_hours=self._retention_hours)
            log.info("relay.pruned", result=pruned)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:1000]
