"""The probe: `probe.Record.v1` inserts an item and emits `events` Recorded events, or fails when asked."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from faststream.asgi import AsgiFastStream
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from shared.cause import Cause
from shared.consumer import Route, Subscription
from shared.contract.base import Command, Event, Reason
from shared.db import Connection
from shared.descriptor import Descriptor
from shared.outbox import Recorder
from shared.service import ServiceSpec, build_app
from shared.settings import ServiceSettings


class ProbeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PROBE_", extra="ignore", frozen=True)

    database_dsn: SecretStr = SecretStr("postgresql://probe:probe@127.0.0.1:55432/programme")


class RecordItem(Command):
    ce_type = "probe.Record.v1"
    key_template = "{item_id}"

    item_id: UUID
    n: int
    events: int = 1
    fail: bool = False


class Recorded(Event):
    ce_type = "probe.Recorded.v1"
    key_template = "{item_id}"

    item_id: UUID
    n: int
    seq: int


async def record_item(conn: Connection, command: RecordItem, cause: Cause, out: Recorder) -> None:
    if command.n < 0:
        out.reject([Reason(code="negative", field="n", message="n must not be negative")])
        return
    await conn.execute(
        """INSERT INTO items (item_id, n) VALUES ($1, $2)
           ON CONFLICT (item_id) DO UPDATE SET applied = items.applied + 1""",
        command.item_id,
        command.n,
    )
    for seq in range(command.events):
        out.emit(Recorded(item_id=command.item_id, n=command.n, seq=seq))
    if command.fail or await conn.fetchval("SELECT 1 FROM blocked WHERE item_id = $1", command.item_id):
        msg_ = "the probe was asked to fail after recording its events"
        raise RuntimeError(msg_)


def create_app(settings: ProbeSettings | None = None) -> AsgiFastStream:
    return build_app(
        ServiceSpec(
            Descriptor("probe", Path(__file__).parent / "migrations", [Recorded], "0.0.1", "test probe"),
            settings=settings or ProbeSettings(),
            subscriptions=[
                Subscription(
                    topic="probe.commands.v1",
                    routes={RecordItem.ce_type: Route(RecordItem, record_item)},
                    commands=True,
                )
            ],
        )
    )
