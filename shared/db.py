"""Postgres pools and connections per service role (which failures pass: `shared.retry`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from shared.retry import is_transient

__all__ = ["Connection", "Liveness", "connect", "create_pool", "is_transient", "search_path"]

# What use cases and repositories take: a pooled connection or a dedicated one. asyncpg's
# classes are generic only to the type checker.
if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:
    Connection = asyncpg.Connection | PoolConnectionProxy


async def create_pool(dsn: str, *, schema: str, service: str, min_size: int, max_size: int) -> asyncpg.Pool:
    # search_path as a server setting, which no reset touches; a SET in the pool's init would be
    # lost to the default reset.
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings={"search_path": search_path(schema), "application_name": service},
        reset=_keep_session,
    )
    if pool is None:  # pragma: no cover - asyncpg returns None only for a pool used before init
        msg = "asyncpg returned no pool"
        raise RuntimeError(msg)
    return pool


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing to reset: pooled connections keep no session state, only transactions.

    Everything done on a pooled connection runs in a transaction (transaction-level advisory
    locks, no SET, LISTEN or cursor outside one); session-level locks and LISTEN use a dedicated
    connection (`connect`). asyncpg still rolls back a transaction left open before calling this.
    The default reset (`RESET ALL`, `UNLISTEN *`, ...) was one more round trip per batch (ADR 4).
    """


@dataclass(frozen=True)
class Liveness:
    """How soon a session whose client went silent is dropped by the server, and how long the client waits on a query.

    For a connection whose session holds something others wait for (the relay's advisory lock):
    the server drops the session, and so the lock, once the client has been silent for
    ``silent_after_s``, the client polling more often than that:
    - a stopped process (SIGSTOP, a frozen VM) whose kernel still acknowledges TCP is seen by the
      server only as an idle session: ``idle_session_timeout`` (Postgres 14+);
    - a dead host or a cut network: TCP keepalives on an idle socket, ``tcp_user_timeout`` for data
      the server sent and nobody acknowledges.
    ``command_timeout_s`` bounds a query on the client's side when the server is the one that went away.
    """

    silent_after_s: float
    command_timeout_s: float

    def server_settings(self) -> dict[str, str]:
        silent_ms = int(self.silent_after_s * 1000)
        # Probes every second after half the time of silence; the rest of it in missed probes.
        probe_after_s = max(1, int(self.silent_after_s) // 2)
        return {
            "idle_session_timeout": str(silent_ms),
            "tcp_keepalives_idle": str(probe_after_s),
            "tcp_keepalives_interval": "1",
            "tcp_keepalives_count": str(max(1, int(self.silent_after_s) - probe_after_s)),
            "tcp_user_timeout": str(silent_ms),
        }


async def connect(
    dsn: str, *, schema: str, service: str, durable_commits: bool = True, liveness: Liveness | None = None
) -> asyncpg.Connection:
    """A dedicated connection outside the pool: for session-level advisory locks and LISTEN.

    ``durable_commits=False`` lets commits return before their WAL is flushed: only for writes
    that may be lost in a crash because they are redone anyway (the relay's sent marks).
    ``liveness`` makes a silent client's session end in seconds (see :class:`Liveness`).
    """
    settings = {"search_path": search_path(schema), "application_name": service}
    if not durable_commits:
        settings["synchronous_commit"] = "off"
    if liveness is None:
        return await asyncpg.connect(dsn, server_settings=settings)
    settings.update(liveness.server_settings())
    return await asyncpg.connect(dsn, server_settings=settings, command_timeout=liveness.command_timeout_s)


def search_path(schema: str) -> str:
    """The service's own schema first; public after it only for extensions (btree_gist), which hold no data."""
    return f"{schema}, public"
