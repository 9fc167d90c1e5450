"""Each service reaches only its own schema, through a runtime role that has data rights and no more."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import asyncpg
import pytest

from devkit.system import System, role_dsn
from shared import migrate
from tests.integration.foundation.conftest import PROBE_MIGRATIONS, FreshSchema, drop_schema_and_roles

SERVICES = ("applications", "workshops", "funding")


async def test_the_applications_role_cannot_read_the_funding_schema(system: System) -> None:
    applications = await asyncpg.connect(system.dsn("applications"))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await applications.fetch("SELECT * FROM funding.outbox LIMIT 1")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await applications.execute("CREATE TABLE funding.intruder (id int)")
        assert await applications.fetchval("SHOW search_path") == "applications, public"
    finally:
        await applications.close()


@pytest.mark.parametrize("service", SERVICES)
async def test_a_runtime_role_cannot_drop_alter_or_add_tables_of_its_own_schema(
    system: System, admin_db: asyncpg.Pool, service: str
) -> None:
    tables = [
        row["tablename"]
        for row in await admin_db.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", service)
    ]
    assert {"inbox", "outbox", "schema_migrations"} <= set(tables)
    owned = await admin_db.fetchval(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relowner = $1::regrole",
        service,
    )
    assert owned == 0, "the runtime role owns nothing in its schema"
    runtime = await asyncpg.connect(system.dsn(service))
    try:
        for table in tables:
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="must be owner"):
                await runtime.execute(f"DROP TABLE {table}")
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="must be owner"):
                await runtime.execute(f"ALTER TABLE {table} ADD COLUMN intruder int")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await runtime.execute("CREATE TABLE intruder (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await runtime.execute("DELETE FROM schema_migrations")
        # What it is for: reading and writing rows.
        assert await runtime.fetchval("SELECT count(*) >= 0 FROM outbox")
        async with runtime.transaction():
            await runtime.execute("INSERT INTO inbox (consumer, message_id) VALUES ('test', $1)", str(uuid.uuid4()))
            await runtime.execute("DELETE FROM inbox WHERE consumer = 'test'")
    finally:
        await runtime.close()


async def test_the_funding_runtime_role_only_adds_to_and_reads_the_ledger(system: System) -> None:
    funding = await asyncpg.connect(system.dsn("funding"))
    try:
        # Refused by the privileges, before the append-only trigger is reached.
        for statement in ("UPDATE ledger SET reason = 'rewritten'", "DELETE FROM ledger", "TRUNCATE ledger"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for table ledger"):
                await funding.execute(statement)
        for statement in (
            "ALTER TABLE ledger DISABLE TRIGGER ledger_append_only",
            "DROP TRIGGER ledger_append_only ON ledger",
            "DROP FUNCTION ledger_is_append_only() CASCADE",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="must be owner"):
                await funding.execute(statement)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for schema funding"):
            await funding.execute(
                "CREATE OR REPLACE FUNCTION ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN RETURN NULL; END $$"
            )
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied to set parameter"):
            await funding.execute("SET session_replication_role = replica")
        transaction = funding.transaction()
        await transaction.start()
        try:
            entry = await funding.fetchval(
                """INSERT INTO ledger (entry, application_id, actor, reason, command_id, occurred_at)
                   VALUES ('close', $1, 'test', 'privileges', 'test', now()) RETURNING id""",
                uuid.uuid4(),
            )
            assert await funding.fetchval("SELECT count(*) FROM ledger WHERE id = $1", entry) == 1
        finally:
            await transaction.rollback()
    finally:
        await funding.close()


async def test_tables_a_later_migration_adds_are_usable_by_the_runtime_role(
    fresh_schema: FreshSchema, tmp_path: Path
) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(PROBE_MIGRATIONS, folder)
    await fresh_schema.migrate(folder)
    (folder / "0003_later.sql").write_text("CREATE TABLE later (id bigint GENERATED ALWAYS AS IDENTITY, note text);\n")
    assert [m.name for m in await fresh_schema.migrate(folder)] == ["later"]

    runtime = await asyncpg.connect(fresh_schema.runtime_dsn)
    try:
        await runtime.execute("INSERT INTO later (note) VALUES ('no grant in the migration')")
        assert await runtime.fetchval("SELECT note FROM later") == "no grant in the migration"
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="must be owner"):
            await runtime.execute("DROP TABLE later")
    finally:
        await runtime.close()


async def test_bootstrap_hands_a_schema_the_runtime_role_owned_to_the_owner(system: System) -> None:
    name = f"probe_{uuid.uuid4().hex[:10]}"
    owner = f"{name}_owner"
    admin = await asyncpg.connect(system.admin_dsn)
    try:
        # As a schema was before owner and runtime roles were split: the service's role owned it all.
        await admin.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{name}'")
        await admin.execute(f"GRANT CONNECT ON DATABASE programme TO {name}")
        await admin.execute(f"CREATE SCHEMA {name} AUTHORIZATION {name}")
        runtime = await asyncpg.connect(role_dsn(system.admin_dsn, name, name))
        try:
            await runtime.execute(f"CREATE TABLE {name}.items (id int PRIMARY KEY)")
        finally:
            await runtime.close()

        await migrate.bootstrap(
            admin, schema=name, owner=owner, owner_password=owner, runtime=name, runtime_password=name
        )

        assert await admin.fetchval("SELECT tableowner FROM pg_tables WHERE schemaname = $1", name) == owner
        runtime = await asyncpg.connect(role_dsn(system.admin_dsn, name, name))
        try:
            await runtime.execute("INSERT INTO items (id) VALUES (1)")
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="must be owner"):
                await runtime.execute("DROP TABLE items")
        finally:
            await runtime.close()
    finally:
        await drop_schema_and_roles(admin, name)
        await admin.close()


async def test_migrate_refuses_a_schema_newer_than_it_knows(fresh_schema: FreshSchema) -> None:
    await fresh_schema.migrate()
    owner = await asyncpg.connect(fresh_schema.owner_dsn)
    try:
        await owner.execute(
            "INSERT INTO schema_migrations (component, version, name, checksum) VALUES ('probe', 99, 'future', 'x')"
        )
    finally:
        await owner.close()
    with pytest.raises(migrate.MigrationError, match="newer than this code knows"):
        await fresh_schema.migrate()
