"""Each service reaches only its own schema, through its own role."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import funding
import pytest

from devkit.system import System
from shared import migrate
from shared.db import connect
from tests.probe.app import __file__ as probe_file


async def test_the_applications_role_cannot_read_the_funding_schema(system: System) -> None:
    await migrate.migrate_service(system.dsn("funding"), service="funding", migrations=funding.SERVICE.migrations)

    applications = await asyncpg.connect(system.dsn("applications"))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await applications.fetch("SELECT * FROM funding.outbox LIMIT 1")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await applications.execute("CREATE TABLE funding.intruder (id int)")
        assert await applications.fetchval("SHOW search_path") == "applications, public"
    finally:
        await applications.close()


async def test_a_service_refuses_a_schema_newer_than_it_knows(system: System) -> None:
    conn = await connect(system.dsn("probe"), schema="probe", service="test")
    try:
        components = [("messaging", migrate.MESSAGING_MIGRATIONS), ("probe", Path(probe_file).parent / "migrations")]
        await migrate.migrate(conn, schema="probe", components=components)
        await conn.execute(
            "INSERT INTO schema_migrations (component, version, name, checksum) VALUES ('probe', 99, 'future', 'x')"
        )
        try:
            with pytest.raises(migrate.MigrationError, match="newer than this code knows"):
                await migrate.migrate(conn, schema="probe", components=components)
        finally:
            await conn.execute("DELETE FROM schema_migrations WHERE component = 'probe' AND version = 99")
    finally:
        await conn.close()
