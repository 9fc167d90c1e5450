"""The outbox per service: the backlog (recorded, not yet published), parked rows, and replaying them."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from shared import outbox
from shared.outbox import Backlog, ParkedRow


async def backlogs(admin_dsn: str, services: Sequence[str]) -> list[Backlog]:
    conn = await asyncpg.connect(admin_dsn)
    try:
        found = [await outbox.backlog(conn, schema=service) for service in services]
        return [backlog for backlog in found if backlog is not None]
    finally:
        await conn.close()


async def parked(admin_dsn: str, services: Sequence[str]) -> list[ParkedRow]:
    """Every parked row of the services, by service and then oldest first."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        return [row for service in services for row in await outbox.parked_rows(conn, schema=service)]
    finally:
        await conn.close()


async def replay(admin_dsn: str, service: str, ids: Sequence[int] | None) -> list[int]:
    """Hand chosen parked rows (all when ``ids`` is None) back to the service's relay; the ids it took back."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        # The relay finds them at its next poll (a second at most): nothing to wake.
        return await outbox.replay(conn, schema=service, ids=ids)
    finally:
        await conn.close()


def describe(row: ParkedRow) -> str:
    return (
        f"{row.service:13} id={row.id:<8} {row.topic} {row.ce_type} size={row.size} "
        f"parked_at={row.parked_at.isoformat()} error={row.error}"
    )
