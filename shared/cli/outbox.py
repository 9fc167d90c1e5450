"""The outbox backlog per service: what has been recorded and not yet published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.topics import SERVICES


@dataclass(frozen=True)
class Backlog:
    service: str
    unsent: int
    oldest: datetime | None
    sent_last_minute: int


async def backlogs(admin_dsn: str) -> list[Backlog]:
    conn = await asyncpg.connect(admin_dsn)
    try:
        found = []
        for service in SERVICES:
            exists = await conn.fetchval("SELECT to_regclass($1)", f"{service}.outbox")
            if exists is None:
                continue
            row = await conn.fetchrow(
                f"""SELECT count(*) FILTER (WHERE sent_at IS NULL) AS unsent,
                           min(recorded_at) FILTER (WHERE sent_at IS NULL) AS oldest,
                           count(*) FILTER (WHERE sent_at > now() - interval '1 minute') AS recent
                    FROM {service}.outbox"""
            )
            if row is not None:  # an aggregate always answers one row
                found.append(Backlog(service, row["unsent"], row["oldest"], row["recent"]))
        return found
    finally:
        await conn.close()
