"""Bootstrapping each service's roles and schema, and applying its migrations as the schema's owner."""

from __future__ import annotations

import os
from collections.abc import Sequence
from urllib.parse import urlsplit

import asyncpg

from shared import migrate
from shared.descriptor import Descriptor
from shared.settings import dsn_user, refuse_local_password
from shared.topics import SERVICES

LOCAL_DSN = "postgresql://{role}:{role}@127.0.0.1:55432/programme"


def service_dsn(service: str) -> str:
    """The runtime DSN as the service itself reads it (``<SERVICE>_DATABASE_DSN``), local default otherwise."""
    return os.environ.get(f"{service.upper()}_DATABASE_DSN", LOCAL_DSN.format(role=service))


def migration_dsn(service: str) -> str:
    """The DSN of the service schema's owner (``<SERVICE>_MIGRATION_DSN``), local default otherwise."""
    return os.environ.get(f"{service.upper()}_MIGRATION_DSN", LOCAL_DSN.format(role=f"{service}_owner"))


async def bootstrap_all(admin_dsn: str, services: tuple[str, ...] = SERVICES, *, production: bool = False) -> None:
    """As an administrator: each service's owner and runtime roles, with the passwords of their DSNs, and its schema.

    In production, a DSN with a local-development password is refused before anything is changed.
    """
    if production:
        refuse_local_password(admin_dsn, "PROGRAMME_ADMIN_DSN")
        for service in services:
            refuse_local_password(service_dsn(service), f"{service.upper()}_DATABASE_DSN")
            refuse_local_password(migration_dsn(service), f"{service.upper()}_MIGRATION_DSN")
    admin = await asyncpg.connect(admin_dsn)
    try:
        for service in services:
            runtime, owner = urlsplit(service_dsn(service)), urlsplit(migration_dsn(service))
            await migrate.bootstrap(
                admin,
                schema=service,
                owner=dsn_user(migration_dsn(service)),
                owner_password=owner.password or "",
                runtime=dsn_user(service_dsn(service)),
                runtime_password=runtime.password or "",
            )
    finally:
        await admin.close()


async def migrate_all(services: Sequence[Descriptor]) -> dict[str, int]:
    """As each registered service's schema owner: its migrations; returns how many were applied per service."""
    applied = {}
    for service in services:
        done = await migrate.migrate_service(
            migration_dsn(service.name),
            service=service.name,
            runtime_role=dsn_user(service_dsn(service.name)),
            migrations=service.migrations,
        )
        applied[service.name] = len(done)
    return applied
