"""Plain-SQL migrations per service: bootstrap of schema and role (admin), then versioned files (service role)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from shared.db import connect
from shared.logging import get_logger

MESSAGING_MIGRATIONS = Path(__file__).parent / "migrations"
_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

log = get_logger(__name__)


class MigrationError(Exception):
    """The database's schema and the code's migrations disagree: the service must not start."""


@dataclass(frozen=True)
class Migration:
    component: str
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load(component: str, folder: Path) -> list[Migration]:
    migrations = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            msg = f"{path}: migration files are named NNNN_lower_snake.sql"
            raise MigrationError(msg)
        migrations.append(Migration(component, int(match["version"]), match["name"], path.read_text()))
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        msg = f"{folder}: versions must run 1, 2, 3 ... without gaps, found {versions}"
        raise MigrationError(msg)
    return migrations


def identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        msg = f"{name!r} is not a plain lower-case identifier"
        raise ValueError(msg)
    return name


async def bootstrap(admin: asyncpg.Connection, *, service: str, password: str, schema: str | None = None) -> None:
    """As an administrator: the service's role and its own schema, reachable through that role only."""
    role = identifier(service)
    schema_name = identifier(schema or service)
    exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
    quoted_password = await admin.fetchval("SELECT quote_literal($1)", password)
    verb = "ALTER" if exists else "CREATE"
    await admin.execute(f"{verb} ROLE {role} LOGIN PASSWORD {quoted_password}")
    await admin.execute(f"CREATE SCHEMA IF NOT EXISTS {schema_name} AUTHORIZATION {role}")
    await admin.execute(f"ALTER SCHEMA {schema_name} OWNER TO {role}")
    await admin.execute(f"REVOKE ALL ON SCHEMA {schema_name} FROM PUBLIC")
    await admin.execute(f"ALTER ROLE {role} SET search_path = {schema_name}, public")
    # Exclusion constraints on time ranges with equality on text need btree_gist; only an
    # administrator can create it, once per database, in the public schema every role can use.
    await admin.execute("CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public")
    database = await admin.fetchval("SELECT current_database()")
    await admin.execute(f'REVOKE ALL ON DATABASE "{database}" FROM PUBLIC')
    await admin.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')


async def migrate(conn: asyncpg.Connection, *, schema: str, components: list[tuple[str, Path]]) -> list[Migration]:
    """Apply what is missing, once and in order; refuse a schema newer than the code or an edited file."""
    wanted = {component: load(component, folder) for component, folder in components}
    await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"migrate:{schema}")
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                 component text NOT NULL, version integer NOT NULL, name text NOT NULL,
                 checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),
                 PRIMARY KEY (component, version))"""
        )
        applied = {
            (row["component"], row["version"]): row["checksum"]
            for row in await conn.fetch("SELECT component, version, checksum FROM schema_migrations")
        }
        _refuse_unknown(applied, wanted, schema)
        done = []
        for migrations in wanted.values():
            for migration in migrations:
                known = applied.get((migration.component, migration.version))
                if known is not None:
                    if known != migration.checksum:
                        name = f"{migration.component}/{migration.version:04d}_{migration.name}"
                        msg = f"{schema}: migration {name} was edited after it was applied"
                        raise MigrationError(msg)
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (component, version, name, checksum) VALUES ($1, $2, $3, $4)",
                        migration.component,
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
                log.info("migration.applied", schema=schema, component=migration.component, version=migration.version)
                done.append(migration)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", f"migrate:{schema}")


async def migrate_service(dsn: str, *, service: str, migrations: Path, schema: str | None = None) -> list[Migration]:
    """As the service's own role: the messaging tables and the service's migrations, on a connection of their own."""
    schema_name = schema or service
    conn = await connect(dsn, schema=schema_name, service=f"{service}-migrate")
    try:
        components = [("messaging", MESSAGING_MIGRATIONS), (service, migrations)]
        return await migrate(conn, schema=schema_name, components=components)
    finally:
        await conn.close()


def _refuse_unknown(applied: dict[tuple[str, int], str], wanted: dict[str, list[Migration]], schema: str) -> None:
    for component, version in applied:
        known = len(wanted.get(component, []))
        if version > known:
            msg = (
                f"{schema}: the database has migration {component}/{version:04d}, newer than this code knows "
                f"(up to {known:04d}); deploy the newer code or restore the database"
            )
            raise MigrationError(msg)
