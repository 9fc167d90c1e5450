"""Measurements leave the user's system alone: their own topics, consumer groups and database.

`make bench` and `make chaos` run on the broker and the PostgreSQL server a user may also run
the system on (`make up`, `make demo`). Their records go to topics named with a prefix (the
services read it from ``PROGRAMME_TOPIC_PREFIX``, see shared/topics.py), their consumers join
groups with the same prefix, and their rows go to a database of their own on the same server.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from shared import topics

TOPIC_PREFIX = "bench."
DATABASE = "programme_bench"


def enter(module: str, argv: list[str] | None) -> None:
    """Run `python -m module argv` again under the bench's topic prefix, unless this process has one.

    Topic names are fixed when shared.topics is imported, which the bench's own modules do
    before `main` runs: only a fresh interpreter, with the prefix in its environment from the
    start, has the same names as the service processes it starts (they inherit the environment).
    """
    if topics.PREFIX:
        return
    args = sys.argv[1:] if argv is None else argv
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(  # noqa: S606 - this same interpreter and module, with their own arguments
        sys.executable, [sys.executable, "-m", module, *args], {**os.environ, topics.PREFIX_ENV: TOPIC_PREFIX}
    )


def database_dsn(admin_dsn: str, database: str = DATABASE) -> str:
    """The administrator's DSN on another database of the same server."""
    parts = urlsplit(admin_dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


async def own_database(admin_dsn: str, database: str = DATABASE) -> str:
    """The bench's database on the server `admin_dsn` reaches, created when absent; returns its admin DSN."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            quoted = await conn.fetchval("SELECT quote_ident($1)", database)
            await conn.execute(f"CREATE DATABASE {quoted}")
    finally:
        await conn.close()
    dsn = database_dsn(admin_dsn, database)
    await _count_statements(dsn)
    return dsn


async def _count_statements(dsn: str) -> None:
    """pg_stat_statements' view in the bench's database where the server has it: round trips per hop (bench.cost)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    except asyncpg.PostgresError:
        pass  # not installed on this server: the figure is left out
    finally:
        await conn.close()
