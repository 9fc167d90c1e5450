"""Bootstrapping each service's role and schema, and applying its migrations."""

from __future__ import annotations

import os
from collections.abc import Sequence
from urllib.parse import urlsplit

import asyncpg

from shared import migrate
from shared.descriptor import Descriptor
from shared.topics import SERVICES


def service_dsn(service: str) -> str:
    """The service's DSN as the service itself reads it (``<SERVICE>_DATABASE_DSN``), local default otherwise."""
    default = f"postgresql://{service}:{service}@127.0.0.1:55432/programme"
    return os.environ.get(f"{service.upper()}_DATABASE_DSN", default)


async def bootstrap_all(admin_dsn: str, services: tuple[str, ...] = SERVICES) -> None:
    """As an administrator: each service's role, with the password of its DSN, and its own schema."""
    admin = await asyncpg.connect(admin_dsn)
    try:
        for service in services:
            password = urlsplit(service_dsn(service)).password or ""
            await migrate.bootstrap(admin, service=service, password=password)
    finally:
        await admin.close()


async def migrate_all(services: Sequence[Descriptor]) -> dict[str, int]:
    """As each registered service's own role: its migrations; returns how many were applied per service."""
    applied = {}
    for service in services:
        done = await migrate.migrate_service(
            service_dsn(service.name), service=service.name, migrations=service.migrations
        )
        applied[service.name] = len(done)
    return applied
