"""Postgres pools per service role, and which database errors are passing faults."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, TypeAlias

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
from asyncpg.pool import PoolConnectionProxy

# What use cases and repositories take: a pooled connection or a dedicated one. asyncpg's
# classes are generic only to the type checker.
if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:
    Connection = asyncpg.Connection | PoolConnectionProxy

_TRANSIENT_DB = (
    asyncpg.PostgresConnectionError,  # class 08: connection exceptions
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.OperatorInterventionError,  # admin shutdown, crash shutdown, cannot connect now
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.InsufficientResourcesError,
)


def is_transient(error: BaseException) -> bool:
    """True for a passing fault (database or broker unreachable, a lost race to retry), never for a bug."""
    if isinstance(error, (*_TRANSIENT_DB, OSError, TimeoutError, asyncio.TimeoutError)):
        return True
    if isinstance(error, asyncpg.InterfaceError):
        # The pool hands out a connection whose socket the server already closed.
        return "connection" in str(error) and "closed" in str(error)
    if isinstance(error, KafkaConnectionError | KafkaTimeoutError):
        return True
    return isinstance(error, KafkaError) and bool(getattr(error, "retriable", False))


async def create_pool(dsn: str, *, schema: str, service: str, min_size: int, max_size: int) -> asyncpg.Pool:
    # search_path as a server setting survives the RESET ALL a pool runs on release; a SET in
    # the pool's init would not.
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings={"search_path": search_path(schema), "application_name": service},
    )
    if pool is None:  # pragma: no cover - asyncpg returns None only for a pool used before init
        msg = "asyncpg returned no pool"
        raise RuntimeError(msg)
    return pool


async def connect(dsn: str, *, schema: str, service: str, durable_commits: bool = True) -> asyncpg.Connection:
    """A dedicated connection outside the pool: for session-level advisory locks and LISTEN.

    ``durable_commits=False`` lets commits return before their WAL is flushed: only for writes
    that may be lost in a crash because they are redone anyway (the relay's sent marks).
    """
    settings = {"search_path": search_path(schema), "application_name": service}
    if not durable_commits:
        settings["synchronous_commit"] = "off"
    return await asyncpg.connect(dsn, server_settings=settings)


def search_path(schema: str) -> str:
    """The service's own schema first; public after it only for extensions (btree_gist), which hold no data."""
    return f"{schema}, public"
