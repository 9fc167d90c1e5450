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
from typing import Any, Generic, TypeVar, cast

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from shared import dlq, failpoints, inbox, outbox
from shared.cause import Cause
from shared.contract.base import Event, Message, Reason, read_rule_refusals
from shared.db import Connection, is_transient
from shared.envelope import Envelope, EnvelopeError, read_record, type_service
from shared.fetching import UndecodableBatch, has_malformed_header_names
from shared.kafka import dlq_max_bytes
from shared.logging import get_logger
from shared.metrics import UNKNOWN_TYPE
from shared.outbox import Recorder
from shared.retry import Backoff
from shared.runtime import Runtime

log = get_logger(__name__)

DataT = TypeVar("DataT", bound=Message)
_MAX_REASONS = 25
_REVOKE_WAIT_S = 20.0
_LAG_POSITION_WAIT_S = 0.05


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
        self.listener = FinishBeforeRevoke(self._idle, self._release)
        self._dlq_max_bytes = dlq_max_bytes()

    async def handle(self, message: KafkaMessage) -> None:
        """faststream's handler for a batch subscriber with manual acknowledgement."""
        raw = message.raw_message
        records: tuple[ConsumerRecord[bytes, bytes], ...] = raw if isinstance(raw, tuple) else (raw,)
        # faststream's Kafka message carries the aiokafka consumer it came from (KafkaRawMessage.consumer).
        consumer = cast("AIOKafkaConsumer", message.consumer)
        self._idle.clear()
        try:
            for record in records:
                if isinstance(record, UndecodableBatch):
                    self._hold(consumer, record)
            await self.process(tuple(r for r in records if not isinstance(r, UndecodableBatch)))
            try:
                await message.ack()
            except Exception as error:  # noqa: BLE001 - the partitions went: the next owner redelivers, the inbox absorbs
                log.warning("offset.commit_failed", error=type(error).__name__, detail=str(error)[:300])
            await self._report_lag(consumer)
        finally:
            self._idle.set()

    async def process(self, records: tuple[ConsumerRecord[bytes, bytes], ...]) -> None:
        started = time.perf_counter()
        batch = self._read(records)
        for record in batch.ignored:
            self._count(record, None, "ignored")
        # Dead letters go first, so a reader sees them before the answers to later records. If the
        # DLQ refuses them for now, the batch's good records are applied before they are retried.
        if batch.letters and not await self._publish_letters(batch.letters):
            if batch.work:
                await self._apply(batch.work, started)
            await self._dead_letter(batch.letters)
            return
        if batch.work:
            await self._apply(batch.work, started)

    # holding a partition

    def _hold(self, consumer: AIOKafkaConsumer, batch: UndecodableBatch) -> None:
        """A batch nobody can decode: only its partition stops, at the batch, until an operator moves past it."""
        tp = TopicPartition(batch.topic, batch.partition)
        if tp not in consumer.assignment():  # revoked since it was fetched: its new owner meets the batch itself
            return
        # Paused, nothing more is fetched from it; the position stays at the batch, so the commit
        # after this handler never moves past it.
        consumer.pause(tp)
        consumer.seek(tp, batch.offset)
        name = f"{batch.topic}/{batch.partition}"
        if name in self._runtime.health.held:
            return
        hint = (
            f"programme consumer skip-batch --service {self._service} --topic {batch.topic} "
            f"--partition {batch.partition} --offset {batch.offset}"
        )
        self._runtime.health.held[name] = (
            f"undecodable record batch at offset {batch.offset} (next offset {batch.next_offset}): {batch.error}"
        )
        self._runtime.metrics.partition_held.labels(self._service, batch.topic, str(batch.partition)).set(1)
        log.error(
            "partition.held",
            topic=batch.topic,
            partition=batch.partition,
            offset=batch.offset,
            next_offset=batch.next_offset,
            error=batch.error,
            action=f"inspect the batch, then with every replica stopped: {hint}",
        )

    def _release(self, revoked: set[TopicPartition]) -> None:
        """Partitions that went to another member: their hold, if any, is that member's to report now."""
        for tp in revoked:
            if self._runtime.health.held.pop(f"{tp.topic}/{tp.partition}", None) is not None:
                self._runtime.metrics.partition_held.labels(self._service, tp.topic, str(tp.partition)).set(0)

    async def _report_lag(self, consumer: AIOKafkaConsumer) -> None:
        """Per assigned partition: the log end (last stable offset, else high watermark) minus our position."""
        gauge = self._runtime.metrics.consumer_lag
        for tp in consumer.assignment():
            end = consumer.last_stable_offset(tp)
            if end is None:
                end = consumer.highwater(tp)
            if end is None:
                continue
            try:
                # A position not known yet (just assigned) is waited for no longer than this: the next batch reports it.
                async with asyncio.timeout(_LAG_POSITION_WAIT_S):
                    position = await consumer.position(tp)
            except Exception as error:  # noqa: BLE001 - unknown yet, or the partition went in a rebalance
                log.debug("consumer.lag_unknown", topic=tp.topic, partition=tp.partition, error=type(error).__name__)
                continue
            gauge.labels(self._service, tp.topic, str(tp.partition)).set(max(0, end - position))

    # reading

    def _read(self, records: tuple[ConsumerRecord[bytes, bytes], ...]) -> _Batch:
        batch = _Batch()
        for record in records:
            self._read_one(record, batch)
        return batch

    def _read_one(self, record: ConsumerRecord[bytes, bytes], batch: _Batch) -> None:
        """One record into the batch: work, a dead letter (with a refusal where the sender can be told), or ignored."""
        if has_malformed_header_names(record):
            batch.letters.append(dlq.DeadLetter(record, "malformed_headers", "a header name is not UTF-8"))
            return
        try:
            envelope, body = read_record(record.headers or (), record.key, record.value)
        except EnvelopeError as error:
            self._letter(batch, dlq.DeadLetter(record, error.code, error.message), error.ce_id, error.ce_type)
            return
        refusal = self._too_large(record, envelope)
        if refusal is not None:
            batch.work.append(refusal)
            return
        route = self._subscription.routes.get(envelope.type)
        if route is None:
            if self._subscription.commands or type_service(envelope.type) is None:
                text = f"unknown type {envelope.type} on {record.topic}"
                self._letter(batch, dlq.DeadLetter(record, "unknown_type", text), envelope.id, envelope.type)
            else:  # another service's event we do not act on: a tolerant reader lets it pass
                batch.ignored.append(record)
            return
        try:
            batch.work.append(_Work(record, envelope, route, route.read(body)))
        except ValidationError as error:
            self._invalid(record, envelope, error, batch)

    def _letter(self, batch: _Batch, letter: dlq.DeadLetter, ce_id: str | None, ce_type: str | None) -> None:
        """A dead letter, and the refusal that tells its sender where one can be told."""
        batch.letters.append(letter)
        refusal = self._malformed(letter.record, ce_id, ce_type, letter.message)
        if refusal is not None:
            batch.work.append(refusal)

    def _invalid(
        self, record: ConsumerRecord[bytes, bytes], envelope: Envelope, error: ValidationError, batch: _Batch
    ) -> None:
        refused = read_rule_refusals(error)
        if refused and self._subscription.commands:  # an amount or a time out of range: a rule's refusal
            batch.work.append(_Work(record, envelope, None, None, refused))
            return
        code = "invalid_json" if any(e["type"] == "json_invalid" for e in error.errors()) else "schema_violation"
        batch.letters.append(dlq.DeadLetter(record, code, _summary(error)))
        if self._subscription.commands:
            batch.work.append(_Work(record, envelope, None, None, _reasons(error)))

    def _too_large(self, record: ConsumerRecord[bytes, bytes], envelope: Envelope) -> _Work | None:
        """A command larger than the service takes: refused before it is parsed, with the limit named."""
        limit = self._runtime.settings.command_max_bytes
        size = len(record.value or b"")
        if not self._subscription.commands or size <= limit:
            return None
        text = f"the command's body is {size} bytes; at most {limit} bytes are taken"
        return _Work(record, envelope, None, None, (Reason(code="too_large", field=None, message=text),))

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
                    self._runtime.health.retrying[self._subscription.topic] = f"{type(error).__name__}: {error}"[:200]
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
            self._runtime.health.retrying.pop(self._subscription.topic, None)
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
                if rows and self._names_a_person(item.envelope):
                    # An erasure must find (and remove) what earlier messages of this batch recorded
                    # about the person: those rows go into the table first. Otherwise one write per batch.
                    await outbox.write(conn, rows)
                    rows = []
                recorder = self._runtime.recorder(
                    seed=f"{consumer}/{item.envelope.id}",
                    correlation_id=item.envelope.correlation_id,
                    causation_id=item.envelope.id,
                    traceparent=item.envelope.traceparent,
                    subject=self._subject(item.envelope),
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

    def _names_a_person(self, envelope: Envelope) -> bool:
        route = self._subscription.routes.get(envelope.type)
        return route is not None and route.model.personal_key

    def _subject(self, envelope: Envelope) -> str | None:
        """What a refusal is keyed by: the command's key, or its id when its type's key names a person.

        A refusal under an e-mail would publish the e-mail on the events topic, where nothing can be erased.
        """
        if self._names_a_person(envelope):
            return envelope.id
        return envelope.key or envelope.subject

    async def _give_up(self, item: _Work, error: BaseException) -> None:
        """A message whose handler keeps failing with a bug: dead-letter it so an operator can replay it once fixed."""
        letter = dlq.DeadLetter(item.record, "processing_failed", f"{type(error).__name__}: {error}")
        await self._dead_letter([letter])

    async def _publish_letters(self, letters: list[dlq.DeadLetter]) -> bool:
        """One attempt: True once the broker has every letter."""
        try:
            await self._send_letters(letters)
        except Exception as error:
            if self._runtime.is_stopping():
                raise
            log.warning("dead_letter.publish_failed", error=type(error).__name__, detail=str(error)[:300])
            return False
        return True

    async def _send_letters(self, letters: list[dlq.DeadLetter]) -> None:
        await dlq.publish(
            self._runtime.dlq_producer,
            letters,
            topic=self._runtime.dlq_topic,
            service=self._service,
            metrics=self._runtime.metrics,
            max_bytes=self._dlq_max_bytes,
        )
        for letter in letters:
            self._count(letter.record, None, "dead_lettered")

    async def _dead_letter(self, letters: list[dlq.DeadLetter]) -> None:
        """Publish the letters, retrying whatever fails until it passes: their offsets are never committed before.

        While it fails (the DLQ missing, no permission to write it, the broker away) the letters'
        partitions are held: readiness names them and `programme_partition_held` says 1.
        """
        backoff = Backoff(max_s=self._runtime.settings.retry_backoff_max_s)
        held: set[tuple[str, int]] = set()
        try:
            while True:
                try:
                    await self._send_letters(letters)
                except Exception as error:
                    if self._runtime.is_stopping():
                        raise
                    self._runtime.metrics.passing_faults.labels(self._service, "dead_letter").inc()
                    for letter in letters:
                        where = (letter.record.topic, letter.record.partition)
                        if where not in held:
                            held.add(where)
                            self._runtime.health.held[f"{where[0]}/{where[1]}"] = (
                                f"dead letter to {self._runtime.dlq_topic} cannot be published: {type(error).__name__}"
                            )
                            self._runtime.metrics.partition_held.labels(self._service, where[0], str(where[1])).set(1)
                    await backoff.wait(log, "dead_letter.publish_failed_partition_held", error)
                    continue
                return
        finally:
            for topic, partition in held:
                self._runtime.health.held.pop(f"{topic}/{partition}", None)
                self._runtime.metrics.partition_held.labels(self._service, topic, str(partition)).set(0)

    # reporting

    def _report(self, outcomes: list[tuple[_Work, str]], started: float) -> None:
        # Each record's own time, from its batch's arrival to the commit that applied it: a record
        # that waited behind a slow one shows the wait (the batch's time divided by its size hid it).
        elapsed = time.perf_counter() - started
        histogram = self._runtime.metrics.handler_seconds.labels(self._service, self._subscription.topic)
        for item, outcome in outcomes:
            histogram.observe(elapsed)
            self._count(item.record, item.envelope.type, outcome)
            log.info("message.handled", outcome=outcome, duration_ms=round(elapsed * 1000, 2), **_fields(item))

    def _count(self, record: ConsumerRecord[bytes, bytes], ce_type: str | None, outcome: str) -> None:
        # Only the types this subscription routes are labels of their own: a sender's made-up type
        # must not create a time series.
        label = ce_type if ce_type in self._subscription.routes else UNKNOWN_TYPE
        self._runtime.metrics.messages_in.labels(self._service, record.topic, label, outcome).inc()


class FinishBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """On a rebalance, the batch in hand finishes and commits before its partitions go.

    Without it a replica joining or leaving (a clean rolling restart) revokes partitions from
    the others in the middle of a batch: that batch's commit fails and the next owner reads it
    again. The wait is bounded, so a batch retrying a passing fault cannot hold up the group.
    """

    def __init__(self, idle: asyncio.Event, released: Callable[[set[TopicPartition]], None]) -> None:
        self._idle = idle
        self._released = released

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), _REVOKE_WAIT_S)
        self._released(revoked)

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
