"""The one way a service consumes: a batch of records, one transaction, offsets committed after it.

Per batch: read each record's envelope and data; dead-letter what cannot be read; then in one
transaction claim every message id in the inbox, run each new message's use case (which records
its events in the outbox), and commit; wake the relay; only then commit the Kafka offsets.
Passing faults are retried with backoff until they pass. A failure that is not passing splits the
batch so that only the failing message is retried a bounded number of times and then
dead-lettered. The handler never raises: a raise under manual acknowledgement would let the next
batch's commit move the offset past this one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import structlog
from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from shared import dlq, failpoints, inbox, outbox
from shared.cause import Cause
from shared.contract.base import Event, Message, Reason
from shared.db import Connection, is_transient
from shared.envelope import Envelope, EnvelopeError, read_record, type_service
from shared.logging import get_logger
from shared.outbox import Recorder
from shared.retry import Backoff
from shared.runtime import Runtime

log = get_logger(__name__)

DataT = TypeVar("DataT", bound=Message)
_MAX_REASONS = 25
_REVOKE_WAIT_S = 20.0


# A use case: the transaction's connection, the message's data as its contract model, where it
# came from, and the recorder of what it causes.
UseCase = Callable[[Connection, DataT, Cause, Recorder], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Route(Generic[DataT]):
    """A message type and the use case it goes to."""

    model: type[DataT]
    use_case: UseCase[DataT]

    def read(self, value: bytes) -> DataT:
        """A command strictly (unknown fields refused); another service's event tolerantly, by its producer's model.

        A field the producer adds to its event is ignored, so an additive change never breaks a consumer.
        """
        return self.model.model_validate_json(value, extra="ignore" if issubclass(self.model, Event) else None)


def by_type(*routes: Route[Any]) -> dict[str, Route[Any]]:
    """Routes keyed by the type each one serves."""
    return {route.model.ce_type: route for route in routes}


@dataclass(frozen=True)
class Subscription:
    """What a service reads from one topic: the types it acts on, and whether the topic carries its commands."""

    topic: str
    routes: Mapping[str, Route[Any]]
    commands: bool
    description: str = ""

    def __post_init__(self) -> None:
        for ce_type, route in self.routes.items():
            if route.model.ce_type != ce_type:
                msg = f"{self.topic}: route {ce_type} is served by a model of type {route.model.ce_type}"
                raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class _Work:
    record: ConsumerRecord[bytes, bytes]
    envelope: Envelope
    route: Route[Any] | None
    data: Message | None
    reasons: tuple[Reason, ...] = ()  # a malformed command: its refusal


@dataclass
class _Batch:
    work: list[_Work] = field(default_factory=list)
    letters: list[dlq.DeadLetter] = field(default_factory=list)
    ignored: list[ConsumerRecord[bytes, bytes]] = field(default_factory=list)


class Consumer:
    def __init__(self, runtime: Runtime, subscription: Subscription) -> None:
        self._runtime = runtime
        self._subscription = subscription
        self._service = runtime.service
        self._idle = asyncio.Event()
        self._idle.set()
        self.listener = FinishBeforeRevoke(self._idle)

    async def handle(self, message: KafkaMessage) -> None:
        """faststream's handler for a batch subscriber with manual acknowledgement."""
        raw = message.raw_message
        records: tuple[ConsumerRecord[bytes, bytes], ...] = raw if isinstance(raw, tuple) else (raw,)
        self._idle.clear()
        try:
            await self.process(records)
            try:
                await message.ack()
            except Exception as error:  # noqa: BLE001 - the partitions went: the next owner redelivers, the inbox absorbs
                log.warning("offset.commit_failed", error=type(error).__name__, detail=str(error)[:300])
        finally:
            self._idle.set()

    async def process(self, records: tuple[ConsumerRecord[bytes, bytes], ...]) -> None:
        started = time.perf_counter()
        batch = self._read(records)
        if batch.letters:
            await self._dead_letter(batch.letters)
        for record in batch.ignored:
            self._count(record, "-", "ignored")
        if batch.work:
            await self._apply(batch.work, started)

    # reading

    def _read(self, records: tuple[ConsumerRecord[bytes, bytes], ...]) -> _Batch:
        batch = _Batch()
        for record in records:
            try:
                envelope, body = read_record(record.headers or (), record.key, record.value)
            except EnvelopeError as error:
                batch.letters.append(dlq.DeadLetter(record, error.code, error.message))
                refusal = self._malformed(record, error.ce_id, error.ce_type, error.message)
                if refusal is not None:
                    batch.work.append(refusal)
                continue
            route = self._subscription.routes.get(envelope.type)
            if route is None:
                if self._subscription.commands or type_service(envelope.type) is None:
                    text = f"unknown type {envelope.type} on {record.topic}"
                    batch.letters.append(dlq.DeadLetter(record, "unknown_type", text))
                    refusal = self._malformed(record, envelope.id, envelope.type, text)
                    if refusal is not None:
                        batch.work.append(refusal)
                else:  # another service's event we do not act on: a tolerant reader lets it pass
                    batch.ignored.append(record)
                continue
            try:
                data = route.read(body)
            except ValidationError as error:
                code = (
                    "invalid_json" if any(e["type"] == "json_invalid" for e in error.errors()) else "schema_violation"
                )
                batch.letters.append(dlq.DeadLetter(record, code, _summary(error)))
                if self._subscription.commands:
                    batch.work.append(_Work(record, envelope, None, None, _reasons(error)))
                continue
            batch.work.append(_Work(record, envelope, route, data))
        return batch

    def _malformed(
        self, record: ConsumerRecord[bytes, bytes], ce_id: str | None, ce_type: str | None, text: str
    ) -> _Work | None:
        """A refusal for an unreadable command: only when it had an id and a command type of ours."""
        if not (self._subscription.commands and ce_id and ce_type and type_service(ce_type) == self._service):
            return None
        key = _text(record.key)
        envelope = Envelope(ce_id, "", ce_type, datetime.now(UTC), key, ce_id, None, key)
        return _Work(record, envelope, None, None, (Reason(code="malformed", field=None, message=text[:500]),))

    # applying

    async def _apply(self, work: list[_Work], started: float) -> None:
        backoff = Backoff(max_s=self._runtime.settings.retry_backoff_max_s)
        failures = 0
        while True:
            try:
                outcomes = await self._apply_once(work)
            except Exception as error:
                if self._runtime.is_stopping():
                    raise
                if is_transient(error):
                    self._runtime.health.database_ok = False
                    self._runtime.metrics.passing_faults.labels(self._service, "consumer").inc()
                    await backoff.wait(log, "batch.retry_after_passing_fault", error)
                    continue
                if len(work) > 1:
                    log.warning("batch.split_after_failure", error=type(error).__name__, size=len(work))
                    for item in work:
                        await self._apply([item], time.perf_counter())
                    return
                failures += 1
                log.exception("message.failed", attempt=failures, **_fields(work[0]))
                if failures >= self._runtime.settings.handler_max_attempts:
                    await self._give_up(work[0], error)
                    return
                await backoff.wait(log, "message.retry_after_failure", error)
                continue
            self._runtime.health.database_ok = True
            self._report(outcomes, started)
            return

    async def _apply_once(self, work: list[_Work]) -> list[tuple[_Work, str]]:
        async with self._runtime.pool.acquire() as conn:
            outcomes = await self._apply_in(conn, work)
            failpoints.reach("after_db_commit")
            # Committed: the relay is woken now, not after the reset round trip the pool makes when
            # the connection goes back; that wait sat on every event's way out (ADR 3).
            self._runtime.relay_wake()
        return outcomes

    async def _apply_in(self, conn: Connection, work: list[_Work]) -> list[tuple[_Work, str]]:
        """One transaction for the batch: claim in the inbox, run each new message's use case, write the outbox."""
        consumer = self._subscription.topic
        outcomes: list[tuple[_Work, str]] = []
        async with conn.transaction():
            fresh = await inbox.claim(conn, consumer=consumer, message_ids=[w.envelope.id for w in work])
            rows: list[outbox.OutboxRow] = []
            for item in work:
                if item.envelope.id not in fresh:
                    outcomes.append((item, "duplicate"))
                    continue
                fresh.discard(item.envelope.id)  # a second copy in the same batch is a duplicate too
                recorder = self._runtime.recorder(
                    seed=f"{consumer}/{item.envelope.id}",
                    correlation_id=item.envelope.correlation_id,
                    causation_id=item.envelope.id,
                    traceparent=item.envelope.traceparent,
                    subject=item.envelope.key or item.envelope.subject,
                    command_type=item.envelope.type if self._subscription.commands else None,
                )
                if item.route is None or item.data is None:
                    recorder.reject(item.reasons)
                else:
                    # Whatever the use case logs carries the message's ids (never a key that names a person).
                    with structlog.contextvars.bound_contextvars(**_fields(item)):
                        await item.route.use_case(conn, item.data, Cause.of(item.envelope), recorder)
                outcomes.append((item, "rejected" if recorder.rejected else "applied"))
                rows.extend(recorder.rows)
            await outbox.write(conn, rows)
        return outcomes

    async def _give_up(self, item: _Work, error: BaseException) -> None:
        """A message whose handler keeps failing with a bug: dead-letter it so an operator can replay it once fixed."""
        letter = dlq.DeadLetter(item.record, "processing_failed", f"{type(error).__name__}: {error}")
        await self._dead_letter([letter])

    async def _dead_letter(self, letters: list[dlq.DeadLetter]) -> None:
        backoff = Backoff(max_s=self._runtime.settings.retry_backoff_max_s)
        while True:
            try:
                await dlq.publish(
                    self._runtime.producer,
                    letters,
                    topic=self._runtime.dlq_topic,
                    service=self._service,
                    metrics=self._runtime.metrics,
                )
            except Exception as error:
                if self._runtime.is_stopping() or not is_transient(error):
                    raise
                self._runtime.metrics.passing_faults.labels(self._service, "dead_letter").inc()
                await backoff.wait(log, "dead_letter.retry_after_passing_fault", error)
                continue
            for letter in letters:
                self._count(letter.record, "-", "dead_lettered")
            return

    # reporting

    def _report(self, outcomes: list[tuple[_Work, str]], started: float) -> None:
        elapsed = time.perf_counter() - started
        per_record = elapsed / max(1, len(outcomes))
        histogram = self._runtime.metrics.handler_seconds.labels(self._service, self._subscription.topic)
        for item, outcome in outcomes:
            histogram.observe(per_record)
            self._count(item.record, item.envelope.type, outcome)
            log.info("message.handled", outcome=outcome, duration_ms=round(elapsed * 1000, 2), **_fields(item))

    def _count(self, record: ConsumerRecord[bytes, bytes], ce_type: str, outcome: str) -> None:
        self._runtime.metrics.messages_in.labels(self._service, record.topic, ce_type, outcome).inc()


class FinishBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """On a rebalance, the batch in hand finishes and commits before its partitions go.

    Without it a replica joining or leaving (a clean rolling restart) revokes partitions from
    the others in the middle of a batch: that batch's commit fails and the next owner reads it
    again. The wait is bounded, so a batch retrying a passing fault cannot hold up the group.
    """

    def __init__(self, idle: asyncio.Event) -> None:
        self._idle = idle

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:  # noqa: ARG002
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), _REVOKE_WAIT_S)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        pass


def _fields(item: _Work) -> dict[str, Any]:
    record = item.record
    return {
        "ce_type": item.envelope.type,
        "ce_id": item.envelope.id,
        "correlation_id": item.envelope.correlation_id,
        "causation_id": item.envelope.causation_id,
        "key": _loggable_key(item),
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
    }


def _loggable_key(item: _Work) -> str | None:
    """The key when the message's type says it is an id; one naming a person, or of a type not read, is withheld."""
    if item.route is None or item.route.model.personal_key:
        return "<withheld>"
    return item.envelope.key


def _reasons(error: ValidationError) -> tuple[Reason, ...]:
    """Every schema error as a `malformed` reason with its field path; never the value (it may be personal)."""
    return tuple(
        Reason(code="malformed", field=".".join(str(part) for part in e["loc"]) or None, message=e["msg"][:300])
        for e in error.errors(include_url=False, include_input=False)[:_MAX_REASONS]
    )


def _summary(error: ValidationError) -> str:
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}"
        for e in error.errors(include_url=False, include_input=False)[:_MAX_REASONS]
    ]
    return f"{error.error_count()} error(s): " + "; ".join(parts)


def _text(value: bytes | None) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8", "replace")
