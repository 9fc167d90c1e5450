"""The outbox, all of it: recording outgoing messages in the transaction that causes them, and the SQL that
publishes, counts, prunes and forgets its rows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from shared.contract.base import CommandRejected, Event, NotificationRequested, Reason, Recipient
from shared.db import Connection
from shared.envelope import build_headers
from shared.migrate import identifier
from shared.outcome import Notice, Outcome
from shared.topics import NOTIFICATIONS

# Ids of recorded messages derive from what caused them, so that the same cause always names its
# effects the same way (a unique index then makes a second recording impossible).
_NAMESPACE = uuid.UUID("5d2c7d0e-8a4b-4c57-9a53-2f0f3a4d6e11")


@dataclass(frozen=True, slots=True)
class OutboxRow:
    event_id: str
    topic: str
    key: str
    ce_type: str
    headers: dict[str, str]
    payload: bytes


@dataclass(slots=True)
class Recorder:
    """Collects the events, notifications and refusal that one message (or one scheduled fact) causes."""

    service: str
    events_topic: str
    seed: str
    time: datetime
    correlation_id: str | None
    causation_id: str | None
    subject: str | None = None
    command_type: str | None = None
    traceparent: str | None = None  # the cause's trace, carried onto what it causes
    rows: list[OutboxRow] = field(default_factory=list)
    rejected: bool = False

    @property
    def source(self) -> str:
        return f"/programme/{self.service}"

    def derived_id(self, *parts: str) -> uuid.UUID:
        return uuid.uuid5(_NAMESPACE, "/".join((self.seed, *parts)))

    def record(self, outcome: Outcome[Any]) -> None:
        """What a decision gives, in its order: the refusal first if it is one, then its events and notices."""
        if outcome.refused:
            self.reject(outcome.reasons, basis=outcome.basis)
        for message in outcome.messages:
            if isinstance(message, Notice):
                self.notify(message)
            else:
                self.emit(message)

    def emit(self, event: Event) -> None:
        """An event on the service's events topic, under the key its type gives it."""
        self._record(
            topic=self.events_topic, key=event.record_key(), ce_type=event.ce_type, payload=event.model_dump_json()
        )

    def reject(self, reasons: Sequence[Reason], *, basis: BaseModel | None = None) -> None:
        """The command's one answer when a rule refuses it: every reason found, and the figures the rules used."""
        if self.command_type is None:
            msg = "only a command can be rejected"
            raise RuntimeError(msg)
        subject = self.subject or self.causation_id or ""
        rejection = CommandRejected(
            command_id=self.causation_id or "",
            command_type=self.command_type,
            subject=subject,
            reasons=list(reasons),
            basis=None if basis is None else basis.model_dump(mode="json"),
        )
        self.rejected = True
        self._record(
            topic=self.events_topic,
            key=subject,
            ce_type=f"{self.service}.CommandRejected.v1",
            payload=rejection.model_dump_json(),
        )

    def notify(self, notice: Notice) -> None:
        """A notification request; its id derives from the cause, the template, the recipient and the fact."""
        template = notice.template
        recipient = Recipient(email=notice.email, role=template.role)
        notification = NotificationRequested(
            notification_id=self.derived_id("notify", template.name, notice.email or template.role or "", notice.fact),
            audience=template.audience,
            recipient=recipient,
            template=template.name,
            params=dict(notice.params),
            about=notice.about,
        )
        self._record(
            topic=NOTIFICATIONS,
            key=notification.record_key(),
            ce_type=NotificationRequested.ce_type,
            payload=notification.model_dump_json(),
        )

    def _record(self, *, topic: str, key: str, ce_type: str, payload: str) -> None:
        event_id = str(self.derived_id(str(len(self.rows))))
        headers = build_headers(
            ce_id=event_id,
            source=self.source,
            ce_type=ce_type,
            time=self.time,
            subject=key,
            correlation_id=self.correlation_id or event_id,
            causation_id=self.causation_id,
            traceparent=self.traceparent,
        )
        self.rows.append(OutboxRow(event_id, topic, key, ce_type, headers, payload.encode()))


async def write(conn: Connection, rows: Sequence[OutboxRow]) -> None:
    """Insert the rows in one statement, in the order they were recorded (their ids keep that order)."""
    if not rows:
        return
    await conn.execute(
        """INSERT INTO outbox (event_id, topic, key, ce_type, headers, payload)
           SELECT e, t, k, c, h::jsonb, p
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[])
                WITH ORDINALITY AS r(e, t, k, c, h, p, n)
           ORDER BY n""",
        [row.event_id for row in rows],
        [row.topic for row in rows],
        [row.key for row in rows],
        [row.ce_type for row in rows],
        [json.dumps(row.headers) for row in rows],
        [row.payload for row in rows],
    )


async def forget_sent_to(conn: Connection, *, key: str) -> None:
    """Sent rows keyed by this key (a person's e-mail: their notifications) go now rather than at retention."""
    await conn.execute("DELETE FROM outbox WHERE lower(key) = lower($1) AND sent_at IS NOT NULL", key)


# reading back (the look-ups)


@dataclass(frozen=True, slots=True)
class Published:
    """An event as recorded: its id, type, time (`ce_time`), data, and whether the relay has sent it yet."""

    event_id: str
    ce_type: str
    time: str
    payload: bytes
    sent: bool


async def published(conn: Connection, *, topic: str, key: str) -> list[Published]:
    """What was recorded for one record key on one topic, in the order it was recorded, as far as retention keeps it."""
    rows = await conn.fetch(
        """SELECT event_id, ce_type, headers ->> 'ce_time' AS time, payload, sent_at IS NOT NULL AS sent
           FROM outbox WHERE topic = $1 AND key = $2 ORDER BY id""",
        topic,
        key,
    )
    return [Published(row["event_id"], row["ce_type"], row["time"], row["payload"], row["sent"]) for row in rows]


# publishing (the relay)


@dataclass(frozen=True, slots=True)
class Pending:
    """A recorded row not yet sent, with everything a publish needs."""

    id: int
    topic: str
    key: str
    ce_type: str
    headers: dict[str, str]
    payload: bytes


async def pending(conn: Connection, *, limit: int) -> list[Pending]:
    """Rows the relay may send now, in the order they were recorded.

    A parked row is left out, and so is every later row of its topic and key: they wait behind it
    so that a key's events never go out of order; other keys flow on.
    """
    rows = await conn.fetch(
        """SELECT o.id, o.topic, o.key, o.ce_type, o.headers, o.payload FROM outbox o
           WHERE o.sent_at IS NULL AND o.parked_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM outbox p
                             WHERE p.parked_at IS NOT NULL AND p.topic = o.topic AND p.key = o.key AND p.id < o.id)
           ORDER BY o.id LIMIT $1""",
        limit,
    )
    return [
        Pending(row["id"], row["topic"], row["key"], row["ce_type"], _headers(row["headers"]), row["payload"])
        for row in rows
    ]


async def mark_sent(conn: Connection, *, ids: Sequence[int]) -> None:
    await conn.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])", list(ids))


async def park(conn: Connection, *, errors: Mapping[int, str]) -> None:
    """Rows the broker will not take as they are: kept with the error, left out of later polls until replayed."""
    await conn.execute(
        """UPDATE outbox SET parked_at = now(), parked_error = e.error
           FROM unnest($1::bigint[], $2::text[]) AS e(id, error)
           WHERE outbox.id = e.id AND outbox.sent_at IS NULL""",
        list(errors),
        list(errors.values()),
    )


async def unsent(conn: Connection) -> int:
    """How many rows wait to be published: the backlog (parked rows are counted apart)."""
    count: int = await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND parked_at IS NULL")
    return count


async def parked(conn: Connection) -> int:
    """How many rows are parked: events that reach Kafka only once an operator replays them."""
    count: int = await conn.fetchval("SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL")
    return count


async def prune(conn: Connection, *, retention_hours: float) -> str:
    """Sent rows older than the retention go (parked rows stay: they were never sent); returns the status line."""
    status: str = await conn.execute(
        "DELETE FROM outbox WHERE sent_at < now() - make_interval(secs => $1)", retention_hours * 3600
    )
    return status


def _headers(value: object) -> dict[str, str]:
    parsed = json.loads(value) if isinstance(value, str) else value
    if not isinstance(parsed, dict):
        msg = "outbox headers must be an object"
        raise TypeError(msg)
    return {str(k): str(v) for k, v in parsed.items()}


# operating (the CLI, as an administrator across the services' schemas)


@dataclass(frozen=True)
class Backlog:
    service: str
    unsent: int
    oldest: datetime | None
    sent_last_minute: int
    parked: int = 0


async def backlog(conn: Connection, *, schema: str) -> Backlog | None:
    """A service's backlog, read from its schema; None when the schema has no outbox yet."""
    if await conn.fetchval("SELECT to_regclass($1)", f"{schema}.outbox") is None:
        return None
    row = await conn.fetchrow(
        f"""SELECT count(*) FILTER (WHERE sent_at IS NULL AND parked_at IS NULL) AS unsent,
                   min(recorded_at) FILTER (WHERE sent_at IS NULL AND parked_at IS NULL) AS oldest,
                   count(*) FILTER (WHERE sent_at > now() - interval '1 minute') AS recent,
                   count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked
            FROM {identifier(schema)}.outbox"""
    )
    if row is None:  # an aggregate always answers one row
        return None
    return Backlog(schema, row["unsent"], row["oldest"], row["recent"], row["parked"])


@dataclass(frozen=True)
class ParkedRow:
    """A row the relay could not send, as an operator sees it (never its payload: it may be personal)."""

    service: str
    id: int
    topic: str
    ce_type: str
    size: int
    recorded_at: datetime
    parked_at: datetime
    error: str


async def parked_rows(conn: Connection, *, schema: str) -> list[ParkedRow]:
    """A service's parked rows, oldest first; none when the schema has no outbox yet."""
    if await conn.fetchval("SELECT to_regclass($1)", f"{schema}.outbox") is None:
        return []
    rows = await conn.fetch(
        f"""SELECT id, topic, ce_type, octet_length(payload) AS size, recorded_at, parked_at, parked_error
            FROM {identifier(schema)}.outbox WHERE parked_at IS NOT NULL ORDER BY id"""
    )
    return [
        ParkedRow(
            schema, r["id"], r["topic"], r["ce_type"], r["size"], r["recorded_at"], r["parked_at"], r["parked_error"]
        )
        for r in rows
    ]


async def replay(conn: Connection, *, schema: str, ids: Sequence[int] | None) -> list[int]:
    """Un-park chosen rows (all when ``ids`` is None): the relay sends them, and the rows they held, in order."""
    table = f"{identifier(schema)}.outbox"
    replayed = await conn.fetch(
        f"""UPDATE {table} SET parked_at = NULL, parked_error = NULL
            WHERE parked_at IS NOT NULL AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))
            RETURNING id""",
        None if ids is None else list(ids),
    )
    return sorted(row["id"] for row in replayed)


# erasure (a person asked for their data to go)


async def erase_unsent(conn: Connection, *, email: str) -> int:
    """Unsent rows that would publish this e-mail go: keyed by it, or carrying it as any value of their data.

    Compared without case, as e-mails are. Returns how many went. A row the relay has already
    read is on its way to the broker and cannot be called back.
    """
    status: str = await conn.execute(
        """DELETE FROM outbox
           WHERE sent_at IS NULL
             AND (lower(key) = lower($1)
                  OR jsonb_path_exists(lower(convert_from(payload, 'UTF8'))::jsonb, '$.** ? (@ == $email)',
                                       jsonb_build_object('email', lower($1))))""",
        email,
    )
    return int(status.rsplit(" ", 1)[-1])
