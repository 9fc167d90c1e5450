"""At start-up a service migrates only when told to, as the schema's owner; otherwise it checks the version."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import asyncpg

from devkit.processes import ServiceProcess
from devkit.system import System
from tests.integration.foundation.conftest import PROBE_MIGRATIONS, FreshSchema, new_probe

# Nothing listens there: these probes never get past the broker, so they consume nothing of the
# shared probe topics; what they do with the database happens before.
NO_KAFKA = "127.0.0.1:1"


def probe_on(system: System, schema: FreshSchema, **env: str) -> ServiceProcess:
    return new_probe(
        system,
        DATABASE_SCHEMA=schema.name,
        DATABASE_DSN=schema.runtime_dsn,
        KAFKA_BOOTSTRAP_SERVERS=NO_KAFKA,
        **env,
    )


async def applied_versions(
    admin_db: asyncpg.Pool, schema: str, timeout: float = 60.0, *, at_least: int = 1
) -> list[tuple[str, int]]:
    """The migrations recorded in the schema, once there are ``at_least`` (each commits on its own)."""
    deadline = time.monotonic() + timeout
    while True:
        if await admin_db.fetchval("SELECT to_regclass($1)", f"{schema}.schema_migrations"):
            rows = await admin_db.fetch(f"SELECT component, version FROM {schema}.schema_migrations ORDER BY 1, 2")
            if len(rows) >= at_least:
                return [(row["component"], row["version"]) for row in rows]
        assert time.monotonic() < deadline, f"{schema} was not migrated within {timeout}s"
        await asyncio.sleep(0.2)


async def test_a_service_not_told_to_migrate_refuses_a_schema_older_than_it_needs(
    system: System, fresh_schema: FreshSchema, admin_db: asyncpg.Pool, tmp_path: Path
) -> None:
    untouched = probe_on(system, fresh_schema)
    untouched.start()
    assert await untouched.wait_exit() != 0
    assert "no migration has been applied" in untouched.tail(80)
    assert await admin_db.fetchval("SELECT to_regclass($1)", f"{fresh_schema.name}.schema_migrations") is None

    older = tmp_path / "migrations"
    older.mkdir()
    shutil.copy(PROBE_MIGRATIONS / "0001_items.sql", older)
    await fresh_schema.migrate(older)
    behind = probe_on(system, fresh_schema)
    behind.start()
    assert await behind.wait_exit() != 0
    log = behind.tail(80)
    assert "lacks migration(s) this code needs: probe/0002_blocked" in log
    assert "programme db migrate" in log
    assert "PROBE_MIGRATE_AT_STARTUP" in log


async def test_a_service_told_to_migrate_does_so_as_the_owner_and_then_refuses_a_newer_schema(
    system: System, fresh_schema: FreshSchema, admin_db: asyncpg.Pool
) -> None:
    migrating = probe_on(system, fresh_schema, MIGRATE_AT_STARTUP="true", MIGRATION_DSN=fresh_schema.owner_dsn)
    migrating.start()
    try:
        applied = await applied_versions(admin_db, fresh_schema.name, at_least=4)
    finally:
        migrating.kill()
    assert applied == [("messaging", 1), ("messaging", 2), ("probe", 1), ("probe", 2)]
    owners = await admin_db.fetch("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = $1", fresh_schema.name)
    assert [row["tableowner"] for row in owners] == [f"{fresh_schema.name}_owner"]

    await admin_db.execute(
        f"INSERT INTO {fresh_schema.name}.schema_migrations (component, version, name, checksum) "
        "VALUES ('probe', 99, 'future', 'x')"
    )
    checking = probe_on(system, fresh_schema)
    checking.start()
    assert await checking.wait_exit() != 0
    assert "newer than this code knows" in checking.tail(80)
