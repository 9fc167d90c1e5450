"""Plain-SQL migrations per service: schema and roles (admin), versioned files (owner), version checks (runtime)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from shared.db import connect, search_path
from shared.logging import get_logger
from shared.settings import ServiceSettings

MESSAGING_MIGRATIONS = Path(__file__).parent / "migrations"
_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

log = get_logger(__name__)


# What the runtime role may do with every table of its schema; a migration narrows it per table.
RUNTIME_TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"


class MigrationError(Exception):
    """The database's schema and the code's migrations disagree: the service must not start."""


class SchemaBehindError(MigrationError):
    """The database lacks migrations the code needs: someone must migrate before the service starts."""


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


async def bootstrap(
    admin: asyncpg.Connection,
    *,
    schema: str,
    owner: str,
    owner_password: str,
    runtime: str,
    runtime_password: str,
) -> None:
    """As an administrator: the schema, owned by its migration role, and a runtime role with data rights only.

    The owner creates and alters the tables (migrations); the runtime role the service connects as
    may read and write rows in them and nothing more: it cannot drop or alter a table, create one,
    or disable a trigger. Rights on tables a later migration adds come from default privileges.
    """
    schema_name, owner_role, runtime_role = identifier(schema), identifier(owner), identifier(runtime)
    if owner_role == runtime_role:
        msg = f"{schema_name}: the runtime role must not be the schema's owner ({owner_role})"
        raise ValueError(msg)
    for role, password in ((owner_role, owner_password), (runtime_role, runtime_password)):
        exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
        quoted_password = await admin.fetchval("SELECT quote_literal($1)", password)
        await admin.execute(f"{'ALTER' if exists else 'CREATE'} ROLE {role} LOGIN PASSWORD {quoted_password}")
        await admin.execute(f"ALTER ROLE {role} SET search_path = {search_path(schema_name)}")
    await admin.execute(f"CREATE SCHEMA IF NOT EXISTS {schema_name} AUTHORIZATION {owner_role}")
    await admin.execute(f"ALTER SCHEMA {schema_name} OWNER TO {owner_role}")
    await _take_over_from_runtime(admin, schema=schema_name, owner=owner_role, runtime=runtime_role)
    await admin.execute(f"REVOKE ALL ON SCHEMA {schema_name} FROM PUBLIC, {runtime_role}")
    await admin.execute(f"GRANT USAGE ON SCHEMA {schema_name} TO {runtime_role}")
    defaults = f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_role} IN SCHEMA {schema_name} GRANT"
    await admin.execute(f"{defaults} {RUNTIME_TABLE_RIGHTS} ON TABLES TO {runtime_role}")
    await admin.execute(f"{defaults} USAGE, SELECT ON SEQUENCES TO {runtime_role}")
    # Exclusion constraints on time ranges with equality on text need btree_gist; only an
    # administrator can create it, once per database, in the public schema every role can use.
    await admin.execute("CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public")
    database = await admin.fetchval("SELECT current_database()")
    await admin.execute(f'REVOKE ALL ON DATABASE "{database}" FROM PUBLIC')
    await admin.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {owner_role}, {runtime_role}')


async def _take_over_from_runtime(admin: asyncpg.Connection, *, schema: str, owner: str, runtime: str) -> None:
    """A schema made before the roles were split has tables owned by the runtime role: hand them to the owner.

    The runtime role then has the same data rights on them as on tables created since; a migration
    that narrows them (funding's ledger) is applied after this, by `migrate`.
    """
    owned = await admin.fetchval(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relowner = $2::regrole",
        schema,
        runtime,
    )
    if owned:
        await admin.execute(f"REASSIGN OWNED BY {runtime} TO {owner}")
        await admin.execute(f"GRANT {RUNTIME_TABLE_RIGHTS} ON ALL TABLES IN SCHEMA {schema} TO {runtime}")
        await admin.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {runtime}")
        log.info("bootstrap.ownership_moved", schema=schema, owner=owner, objects=owned)


async def migrate(
    conn: asyncpg.Connection, *, schema: str, runtime_role: str, components: list[tuple[str, Path]]
) -> list[Migration]:
    """As the schema's owner: apply what is missing, once and in order; refuse a newer schema or an edited file.

    A migration that narrows the runtime role's rights names it as
    ``current_setting('programme.runtime_role')``.
    """
    wanted = {component: load(component, folder) for component, folder in components}
    runtime = identifier(runtime_role)
    await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"migrate:{schema}")
    try:
        await conn.execute("SELECT set_config('programme.runtime_role', $1, false)", runtime)
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                 component text NOT NULL, version integer NOT NULL, name text NOT NULL,
                 checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),
                 PRIMARY KEY (component, version))"""
        )
        # The runtime role reads the version to check it at start-up; only the owner records one.
        await conn.execute(f"REVOKE ALL ON schema_migrations FROM {runtime}")
        await conn.execute(f"GRANT SELECT ON schema_migrations TO {runtime}")
        applied = await _applied(conn)
        _refuse_unknown(applied, wanted, schema)
        done = []
        for migration in _missing(applied, wanted, schema):
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


async def check(conn: asyncpg.Connection, *, schema: str, components: list[tuple[str, Path]]) -> None:
    """As the runtime role: raise unless the schema is at the code's version (nothing missing, newer or edited)."""
    wanted = {component: load(component, folder) for component, folder in components}
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        msg = f"{schema}: no migration has been applied"
        raise SchemaBehindError(msg)
    applied = await _applied(conn)
    _refuse_unknown(applied, wanted, schema)
    missing = _missing(applied, wanted, schema)
    if missing:
        names = ", ".join(f"{m.component}/{m.version:04d}_{m.name}" for m in missing)
        msg = f"{schema}: the database lacks migration(s) this code needs: {names}"
        raise SchemaBehindError(msg)


async def migrate_service(
    dsn: str, *, service: str, runtime_role: str, migrations: Path, schema: str | None = None
) -> list[Migration]:
    """As the schema's owner (``dsn``): messaging tables, then the service's migrations, on a connection of its own."""
    schema_name = schema or service
    conn = await connect(dsn, schema=schema_name, service=f"{service}-migrate")
    try:
        return await migrate(
            conn, schema=schema_name, runtime_role=runtime_role, components=_components(service, migrations)
        )
    finally:
        await conn.close()


async def check_service(dsn: str, *, service: str, migrations: Path, schema: str | None = None) -> None:
    """As the runtime role (``dsn``): refuse a schema older or newer than the service's code."""
    schema_name = schema or service
    conn = await connect(dsn, schema=schema_name, service=f"{service}-check")
    try:
        await check(conn, schema=schema_name, components=_components(service, migrations))
    finally:
        await conn.close()


def _components(service: str, migrations: Path) -> list[tuple[str, Path]]:
    return [("messaging", MESSAGING_MIGRATIONS), (service, migrations)]


async def _applied(conn: asyncpg.Connection) -> dict[tuple[str, int], str]:
    rows = await conn.fetch("SELECT component, version, checksum FROM schema_migrations")
    return {(row["component"], row["version"]): row["checksum"] for row in rows}


def _missing(applied: dict[tuple[str, int], str], wanted: dict[str, list[Migration]], schema: str) -> list[Migration]:
    """The wanted migrations not applied yet, in order; an applied one whose file changed since is refused."""
    missing = []
    for migrations in wanted.values():
        for migration in migrations:
            known = applied.get((migration.component, migration.version))
            if known is None:
                missing.append(migration)
            elif known != migration.checksum:
                name = f"{migration.component}/{migration.version:04d}_{migration.name}"
                msg = f"{schema}: migration {name} was edited after it was applied"
                raise MigrationError(msg)
    return missing


def _refuse_unknown(applied: dict[tuple[str, int], str], wanted: dict[str, list[Migration]], schema: str) -> None:
    for component, version in applied:
        known = len(wanted.get(component, []))
        if version > known:
            msg = (
                f"{schema}: the database has migration {component}/{version:04d}, newer than this code knows "
                f"(up to {known:04d}); deploy the newer code or restore the database"
            )
            raise MigrationError(msg)


async def at_startup(settings: ServiceSettings, *, service: str, schema: str, migrations: Path) -> None:
    """Migrate as the owner when the settings say so; otherwise refuse to start on a schema of another version."""
    try:
        if settings.migrate_at_startup and settings.migration_dsn is not None:
            await migrate_service(
                settings.migration_dsn.get_secret_value(),
                service=service,
                runtime_role=settings.database_role(),
                migrations=migrations,
                schema=schema,
            )
        else:
            dsn = settings.database_dsn.get_secret_value()
            await check_service(dsn, service=service, migrations=migrations, schema=schema)
        return  # noqa: TRY300 - the refusals below share their logging
    except SchemaBehindError as error:
        prefix = settings.model_config.get("env_prefix", "")
        refusal: MigrationError = SchemaBehindError(
            f"{error}; run `programme db migrate`, or start one replica with {prefix}MIGRATE_AT_STARTUP=true "
            f"and {prefix}MIGRATION_DSN set"
        )
    except MigrationError as error:
        refusal = error
    # One readable line before the start-up fails with its traceback.
    log.error("startup.schema_refused", reason=str(refusal))
    raise refusal
