"""What a hop costs, in figures that hold on a noisy machine: CPU seconds of a process, write transactions.

Hops per second move with whatever else the machine runs; the CPU time a process spends on a
hop, and the transactions the database commits for it, move much less.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg

if TYPE_CHECKING:
    from bench.system import RunningSystem

_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
# Fields of /proc/<pid>/stat after the command's closing parenthesis: state is 0, utime 11, stime 12.
_UTIME, _STIME = 11, 12


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU seconds the process has used so far; 0 for a process that is gone."""
    if pid is None:
        return 0.0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[_UTIME]) + int(fields[_STIME])) / _TICKS_PER_S


async def _next_transaction_id(conn: asyncpg.Connection) -> int:
    """The server's next transaction id, taking none: the difference counts transactions that wrote.

    pg_stat_database's xact_commit would count read-only ones too (every idle relay poll), and
    reaches the view only when a backend flushes its statistics, up to seconds later; an
    assigned id is there at once. The server's other databases count as well: the bench's
    figures assume no other writer during a phase.
    """
    value: str = await conn.fetchval("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")
    return int(value)


async def _statements_by_role(conn: asyncpg.Connection, roles: list[str]) -> dict[str, int] | None:
    """Statements each role has run in this database so far (pg_stat_statements); None where it is not loaded.

    A statement asyncpg runs is one round trip (BEGIN and COMMIT included): the count per hop
    is the figure the use cases' round trips are judged by, the same on any machine.
    """
    try:
        rows = await conn.fetch(
            """SELECT r.rolname, sum(s.calls)::bigint AS calls
               FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
               WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                 AND r.rolname = ANY($1::text[])
               GROUP BY r.rolname""",
            roles,
        )
    except asyncpg.PostgresError:
        return None  # not in shared_preload_libraries, or the extension not created (bench.isolation)
    counted = {row["rolname"]: int(row["calls"]) for row in rows}
    return {role: counted.get(role, 0) for role in roles}


def tree_cpu_seconds(root: int | None) -> float:
    """CPU seconds of a server and its children: the live ones, and those it has reaped (cutime, cstime).

    PostgreSQL runs a process per connection; the postmaster's counters for reaped children
    keep the CPU of connections that closed during a phase.
    """
    if root is None:
        return 0.0
    try:
        stat = Path(f"/proc/{root}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    reaped = (int(fields[_STIME + 1]) + int(fields[_STIME + 2])) / _TICKS_PER_S
    return cpu_seconds(root) + reaped + sum(cpu_seconds(child) for child in _children(root))


def _children(parent: int) -> list[int]:
    children: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone since the listing
        # ppid is field 1 after the command's closing parenthesis
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == parent:
            children.append(int(entry.name))
    return children


@dataclass(frozen=True)
class Usage:
    """Counters read at one moment: CPU seconds by process group, and the server's next transaction id."""

    services: dict[str, float]
    driver: float
    database: float | None  # None when this run did not start the server (its processes are not ours to read)
    transaction_id: int
    statements: dict[str, int] | None = None  # by service role; None without pg_stat_statements
    broker: float | None = None  # the Kafka broker's CPU seconds; None when this run did not start it

    def cpu_ms_per_hop(self, later: Usage, hops: dict[str, float]) -> dict[str, float | None]:
        """Each service's CPU per hop it applied, all services' per hop, and the database server's per hop."""
        total = sum(hops.values())
        spent = {s: later.services[s] - self.services[s] for s in self.services}
        figures: dict[str, float | None] = {s: _ms_per(spent[s], hops.get(s, 0.0)) for s in spent}
        figures["all_services"] = _ms_per(sum(spent.values()), total)
        figures["database"] = _database_ms_per(self, later, total)
        # The rest of what the machine spends per hop: where two cores go, beside the ceiling's.
        figures["kafka_broker"] = (
            None if self.broker is None or later.broker is None else _ms_per(later.broker - self.broker, total)
        )
        figures["driver"] = _ms_per(later.driver - self.driver, total)
        return figures

    def commits_per_hop(self, later: Usage, hops: float) -> float:
        return (later.transaction_id - self.transaction_id) / max(1.0, hops)

    def statements_per_hop(self, later: Usage, hops: dict[str, float]) -> dict[str, float] | None:
        """Each service's statements (round trips) per hop it applied, its relay's included; and all services'."""
        if self.statements is None or later.statements is None:
            return None
        ran = {s: later.statements[s] - self.statements[s] for s in self.statements}
        figures = {s: ran[s] / max(1.0, hops.get(s, 0.0)) for s in ran}
        figures["all_services"] = sum(ran.values()) / max(1.0, sum(hops.values()))
        return figures


def _ms_per(seconds: float, hops: float) -> float:
    return 1000 * seconds / max(1.0, hops)


def _database_ms_per(before: Usage, after: Usage, hops: float) -> float | None:
    if before.database is None or after.database is None:
        return None
    return _ms_per(after.database - before.database, hops)


async def usage(running: RunningSystem) -> Usage:
    conn = await asyncpg.connect(running.system.admin_dsn)
    try:
        transaction_id = await _next_transaction_id(conn)
        statements = await _statements_by_role(conn, list(running.processes))
    finally:
        await conn.close()
    return Usage(
        services={s: running.cpu_seconds(s) for s in running.processes},
        driver=time.process_time(),
        database=running.database_cpu_seconds(),
        transaction_id=transaction_id,
        statements=statements,
        broker=running.broker_cpu_seconds(),
    )
