"""The foundation's tests drive the probe service: each test gets its own probe process."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from devkit.driver import Record, Sender, TopicLog
from devkit.processes import ServiceProcess
from devkit.system import System, role_dsn
from shared import migrate
from tests.probe.app import __file__ as probe_file

COMMANDS = "probe.commands.v1"
EVENTS = "probe.events.v1"
DLQ = "probe.dlq.v1"
RECORD = "probe.Record.v1"
PROBE_MIGRATIONS = Path(probe_file).parent / "migrations"


def new_probe(system: System, **env: str) -> ServiceProcess:
    # Few attempts and short backoff keep the failure paths quick to observe.
    return system.process("probe", module="tests.probe", HANDLER_MAX_ATTEMPTS="2", RETRY_BACKOFF_MAX_S="0.5", **env)


@pytest.fixture
async def probe(system: System) -> AsyncIterator[ServiceProcess]:
    proc = new_probe(system)
    proc.start()
    await proc.wait_ready()
    yield proc
    proc.stop()


async def send_record(sender: Sender, item_id: uuid.UUID, *, ce_id: str | None = None, **fields: Any) -> str:
    data = {"item_id": str(item_id), "n": fields.pop("n", 1), **fields}
    return await sender.send(COMMANDS, RECORD, str(item_id), data, ce_id=ce_id)


def is_recorded(item_id: uuid.UUID) -> Callable[[Record], bool]:
    return lambda r: r.topic == EVENTS and r.ce_type == "probe.Recorded.v1" and r.key == str(item_id)


def recorded(topic_log: TopicLog, item_id: uuid.UUID) -> list[Record]:
    return topic_log.where(is_recorded(item_id))


async def applied_count(admin_db: asyncpg.Pool, item_id: uuid.UUID) -> int | None:
    value: int | None = await admin_db.fetchval("SELECT applied FROM probe.items WHERE item_id = $1", item_id)
    return value


@dataclass(frozen=True)
class FreshSchema:
    """A schema of one test's own, with its owner and runtime roles, as `programme db bootstrap` leaves them."""

    name: str
    owner_dsn: str
    runtime_dsn: str

    async def migrate(self, migrations: Path = PROBE_MIGRATIONS) -> list[migrate.Migration]:
        return await migrate.migrate_service(
            self.owner_dsn, service="probe", runtime_role=self.name, migrations=migrations, schema=self.name
        )


@pytest.fixture
async def fresh_schema(system: System) -> AsyncIterator[FreshSchema]:
    name = f"probe_{uuid.uuid4().hex[:10]}"
    owner = f"{name}_owner"
    admin = await asyncpg.connect(system.admin_dsn)
    try:
        await migrate.bootstrap(
            admin, schema=name, owner=owner, owner_password=owner, runtime=name, runtime_password=name
        )
        yield FreshSchema(name, role_dsn(system.admin_dsn, owner, owner), role_dsn(system.admin_dsn, name, name))
    finally:
        await drop_schema_and_roles(admin, name)
        await admin.close()


async def drop_schema_and_roles(admin: asyncpg.Connection, schema: str) -> None:
    """Undo a test's schema: the schema, its owner and runtime roles (named after it), and what they held."""
    await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    for role in (schema, f"{schema}_owner"):
        if await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            await admin.execute(f"DROP OWNED BY {role}")
            await admin.execute(f"DROP ROLE {role}")
