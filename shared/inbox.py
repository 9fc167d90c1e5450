"""The inbox: a consumed message's id recorded in the transaction of its effects, so it takes effect once."""

from __future__ import annotations

from collections.abc import Sequence

from shared.db import Connection


async def claim(conn: Connection, *, consumer: str, message_ids: Sequence[str]) -> set[str]:
    """Record the ids; return those not seen before. A racing replica's claim waits on ours and finds it."""
    if not message_ids:
        return set()
    rows = await conn.fetch(
        """INSERT INTO inbox (consumer, message_id) SELECT $1, unnest($2::text[])
           ON CONFLICT DO NOTHING RETURNING message_id""",
        consumer,
        list(message_ids),
    )
    return {row["message_id"] for row in rows}
