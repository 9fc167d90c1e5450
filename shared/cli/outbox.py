"""The outbox backlog per service: what has been recorded and not yet published."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from shared import outbox
from shared.outbox import Backlog


async def backlogs(admin_dsn: str, services: Sequence[str]) -> list[Backlog]:
    conn = await asyncpg.connect(admin_dsn)
    try:
        found = [await outbox.backlog(conn, schema=service) for service in services]
        return [backlog for backlog in found if backlog is not None]
    finally:
        await conn.close()
