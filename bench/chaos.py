"""`make chaos`: chains run through two replicas of each service while faults strike; then the invariants.

Faults: each service's replicas killed with SIGKILL at random moments and restarted; the Kafka
broker restarted once and Postgres once (when this run started them); one consumer paused
with SIGSTOP past its session timeout; finally one clean rolling restart, which must
redeliver nothing. Then, from the topics and the databases: every chain completed exactly
once, no fact recorded twice, no notification twice, budgets equal allocations minus active
grants, no seat or facilitator double-booked, nothing dead-lettered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from bench import isolation
from bench.chain import DLQ_TOPICS, Driver
from bench.run import progress
from bench.system import RunningSystem
from deploy.local import kafka as local_kafka
from deploy.local import postgres as local_postgres
from devkit.processes import ServiceProcess
from shared.topics import NOTIFICATIONS, SERVICES

RESULTS = Path(".bench")
SESSION_TIMEOUT_S = 10.0  # the consumers' session timeout (shared/service.py)
# Facts that happen once per chain: a second ce_id for one of them is an effect applied twice.
ONCE_PER_CHAIN = (
    "applications.ApplicationSubmitted.v1",
    "applications.ManagementCommitmentConfirmed.v1",
    "applications.ClarificationCompleted.v1",
    "applications.ApplicationReadyForDecision.v1",
    "applications.ApplicationApproved.v1",
    "funding.FundingCaseOpened.v1",
    "funding.FundingGranted.v1",
    "workshops.ParticipantRegistered.v1",
    "workshops.AttendanceRecorded.v1",
)


@dataclass
class Tally:
    kills: int = 0
    broker_restarts: int = 0
    db_restarts: int = 0
    pauses: int = 0
    rolling_restarts: int = 0
    duplicates_absorbed: float = 0.0
    redelivered_in_rolling_restart: float = 0.0
    log: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        self.log.append(f"{stamp} {text}")
        print(f"  {stamp} {text}", file=sys.stderr)


async def duplicates(proc: ServiceProcess) -> float:
    """Records this replica found already applied (outcome=duplicate) since it started."""
    try:
        metrics = await proc.metrics()
    except Exception:  # noqa: BLE001 - a paused or dying process has no metrics to give
        return 0.0
    return sum(
        v for k, v in metrics.items() if "outcome=duplicate" in k and k.startswith("programme_messages_in_total")
    )


async def kill_and_restart(running: RunningSystem, service: str, tally: Tally, rng: random.Random) -> None:
    proc = rng.choice(running.processes[service])
    tally.duplicates_absorbed += await duplicates(proc)
    proc.kill()
    tally.kills += 1
    tally.note(f"SIGKILL {service} :{proc.http_port}")
    await asyncio.sleep(rng.uniform(0.5, 2.0))
    proc.start()
    await proc.wait_ready(timeout=120)
    tally.note(f"restarted {service} :{proc.http_port}")


async def pause(running: RunningSystem, tally: Tally, rng: random.Random) -> None:
    service = rng.choice(SERVICES)
    proc = rng.choice(running.processes[service])
    proc.pause()
    tally.pauses += 1
    tally.note(f"SIGSTOP {service} :{proc.http_port} for {SESSION_TIMEOUT_S + 3:.0f}s")
    await asyncio.sleep(SESSION_TIMEOUT_S + 3)
    proc.resume()
    tally.note(f"SIGCONT {service} :{proc.http_port}")


async def restart_broker(tally: Tally) -> None:
    tally.note("restarting Kafka")
    await asyncio.to_thread(local_kafka.restart_kafka)
    tally.broker_restarts += 1
    tally.note("Kafka back")


async def restart_database(tally: Tally) -> None:
    tally.note("stopping Postgres")
    await asyncio.to_thread(local_postgres.stop_postgres)
    await asyncio.sleep(2)
    await asyncio.to_thread(local_postgres.start_postgres)
    tally.db_restarts += 1
    tally.note("Postgres back")


async def faults(running: RunningSystem, tally: Tally, *, duration: float, kills_per_service: int, seed: int) -> None:
    rng = random.Random(seed)
    local = running.infra.origin == "local"
    plan: list[tuple[float, Any]] = [
        (rng.uniform(0.1, 0.9) * duration, ("kill", service)) for service in SERVICES for _ in range(kills_per_service)
    ]
    plan.append((0.3 * duration, ("pause", None)))
    if local:
        plan.append((0.5 * duration, ("broker", None)))
        plan.append((0.75 * duration, ("database", None)))
    else:
        tally.note(f"infrastructure from {running.infra.origin}: broker and database restarts left out")
    started = time.monotonic()
    for at, (kind, service) in sorted(plan, key=lambda item: item[0]):
        await asyncio.sleep(max(0.0, started + at - time.monotonic()))
        if kind == "kill":
            await kill_and_restart(running, service, tally, rng)
        elif kind == "pause":
            await pause(running, tally, rng)
        elif kind == "broker":
            await restart_broker(tally)
        else:
            await restart_database(tally)


async def rolling_restart(running: RunningSystem, driver: Driver, tally: Tally, chains: int) -> None:
    """Every replica in turn stopped cleanly (SIGTERM) and started, while chains keep coming."""
    first = len(driver.chains)
    baseline = {proc.http_port: await duplicates(proc) for proc in running.all_processes()}
    traffic = asyncio.create_task(pace(driver, first, chains, per_second=5))
    for proc in running.all_processes():
        seen = await duplicates(proc)
        tally.redelivered_in_rolling_restart += seen - baseline[proc.http_port]
        tally.duplicates_absorbed += seen
        proc.stop()
        tally.note(f"SIGTERM {proc.name} :{proc.http_port}")
        proc.start()
        await proc.wait_ready(timeout=120)
        baseline[proc.http_port] = 0.0  # its counters start again from zero
    await traffic
    await driver.wait_all(timeout=180)
    for proc in running.all_processes():
        seen = await duplicates(proc)
        tally.redelivered_in_rolling_restart += seen - baseline[proc.http_port]
        tally.duplicates_absorbed += seen
    tally.rolling_restarts += 1


async def pace(driver: Driver, first: int, count: int, *, per_second: float) -> None:
    started = time.monotonic()
    for i in range(count):
        await driver.begin(first + i)
        await asyncio.sleep(max(0.0, started + (i + 1) / per_second - time.monotonic()))


async def invariants(running: RunningSystem, driver: Driver) -> dict[str, Any]:
    ours = set(driver.chains) | set(driver.by_registration)
    facts: dict[tuple[str, str], set[str]] = defaultdict(set)
    copies: Counter[str] = Counter()
    notification_ids: dict[str, set[str]] = defaultdict(set)
    dlq = 0
    for seen in driver.seen:
        if seen.topic in DLQ_TOPICS:
            dlq += 1
            continue
        copies[seen.ce_id] += 1
        if seen.topic == NOTIFICATIONS:
            notification_ids[seen.subject_id].add(seen.ce_id)
        elif seen.ce_type in ONCE_PER_CHAIN and seen.subject_id in ours:
            facts[(seen.ce_type, seen.subject_id)].add(seen.ce_id)
    double_effects = sum(len(ids) - 1 for ids in facts.values() if len(ids) > 1)
    missing_facts = len(driver.chains) * len(ONCE_PER_CHAIN) - len(facts)
    conn = await asyncpg.connect(running.system.admin_dsn)
    try:
        budget = await conn.fetch(
            """SELECT b.programme_year, b.remaining_nok,
                      (SELECT coalesce(sum(amount_nok), 0) FROM funding.allocations a
                       WHERE a.programme_year = b.programme_year)
                    - (SELECT coalesce(sum(amount_nok), 0) FROM funding.grants g
                       WHERE g.programme_year = b.programme_year AND g.released_at IS NULL) AS expected
               FROM funding.budgets b WHERE b.programme_year = $1""",
            programme_year(),
        )
        # sums come back as numeric: whole NOK as int again
        overspent = int(sum(max(0, -row["remaining_nok"]) for row in budget))
        budget_mismatch = int(sum(abs(row["remaining_nok"] - row["expected"]) for row in budget))
        seats = await _overbooked_seats(conn)
        facilitators = await _facilitator_overlaps(conn)
    finally:
        await conn.close()
    return {
        "chains": len(driver.chains),
        "completed": len(driver.completed),
        "lost": len(driver.chains) - len(driver.completed),
        "failed": [c.failed for c in driver.failed][:5],
        "double_effects": double_effects,
        "missing_facts": missing_facts,
        "duplicate_notifications": sum(len(ids) - 1 for ids in notification_ids.values() if len(ids) > 1),
        "duplicates_delivered": sum(n - 1 for n in copies.values() if n > 1),
        "overspent_nok": overspent,
        "budget_mismatch_nok": budget_mismatch,
        "seats_double_booked": seats,
        "facilitator_overlaps": facilitators,
        "dlq_records": dlq,
    }


def programme_year() -> int:
    """The year the chains' decisions fall in: other tests' years are theirs to keep."""
    return datetime.now(ZoneInfo("Europe/Oslo")).year


async def _overbooked_seats(conn: asyncpg.Connection) -> int:
    """Workshops with more confirmed seats than capacity (the workshops service's own tables)."""
    query = await conn.fetchval("SELECT to_regclass('workshops.registrations') IS NOT NULL")
    if not query:
        return 0
    value = await conn.fetchval(
        """SELECT count(*) FROM (
             SELECT w.workshop_id FROM workshops.workshops w
             JOIN workshops.registrations r ON r.workshop_id = w.workshop_id AND r.status = 'confirmed'
             GROUP BY w.workshop_id, w.capacity HAVING count(*) > w.capacity) AS over"""
    )
    return int(value or 0)


async def _facilitator_overlaps(conn: asyncpg.Connection) -> int:
    present = await conn.fetchval("SELECT to_regclass('workshops.facilitator_bookings') IS NOT NULL")
    if not present:
        return 0
    value = await conn.fetchval(
        """SELECT count(*) FROM workshops.facilitator_bookings a JOIN workshops.facilitator_bookings b
             ON a.facilitator = b.facilitator AND a.workshop_id < b.workshop_id AND a.during && b.during
            WHERE a.active AND b.active"""
    )
    return int(value or 0)


async def run_chaos(*, chains: int, duration: float, kills_per_service: int, seed: int) -> dict[str, Any]:
    tally = Tally()
    running = await RunningSystem.start(replicas=2)
    driver = Driver(running.system.kafka_bootstrap, seed=seed)
    await driver.start()
    try:
        await driver.allocate_budget(chains * 800_000 * 4)
        await driver.schedule_workshops(6, starts_in_s=3)
        await asyncio.sleep(1)
        tally.note(f"{chains} chains over {duration:.0f}s, two replicas per service")
        traffic = asyncio.create_task(pace(driver, 0, chains, per_second=chains / duration))
        await faults(running, tally, duration=duration, kills_per_service=kills_per_service, seed=seed)
        await traffic
        await driver.wait_all(timeout=240, progress=progress("chains under faults"))
        await rolling_restart(running, driver, tally, chains=max(10, chains // 10))
        await asyncio.sleep(2)  # the last relays publish; then read what the topics and databases say
        result = await invariants(running, driver)
    finally:
        await driver.stop()
        running.stop()
    return {
        **result,
        "kills": tally.kills,
        "broker_restarts": tally.broker_restarts,
        "db_restarts": tally.db_restarts,
        "pauses": tally.pauses,
        "rolling_restarts": tally.rolling_restarts,
        "duplicates_absorbed": tally.duplicates_absorbed,
        "redelivered_in_rolling_restart": tally.redelivered_in_rolling_restart,
        "timeline": tally.log,
        "measured_at": datetime.now(UTC).isoformat(),
    }


def problems(result: dict[str, Any]) -> list[str]:
    """What the invariants say is wrong; empty when the run held every promise."""
    zero = (
        "lost",
        "double_effects",
        "missing_facts",
        "duplicate_notifications",
        "overspent_nok",
        "budget_mismatch_nok",
        "seats_double_booked",
        "facilitator_overlaps",
        "dlq_records",
        "redelivered_in_rolling_restart",
    )
    return [f"{name} = {result[name]}" for name in zero if result[name]]


def main(argv: list[str] | None = None) -> None:
    isolation.enter("bench.chaos", argv)
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--chains", type=int, default=300)
    parser.add_argument(
        "--duration", type=float, default=90.0, help="seconds over which chains start and faults strike"
    )
    parser.add_argument("--kills-per-service", type=int, default=2)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args(argv)
    result = asyncio.run(
        run_chaos(chains=args.chains, duration=args.duration, kills_per_service=args.kills_per_service, seed=args.seed)
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "chaos.json").write_text(json.dumps(result, indent=2))
    keys = (
        "chains",
        "completed",
        "kills",
        "broker_restarts",
        "db_restarts",
        "pauses",
        "rolling_restarts",
        "duplicates_delivered",
        "duplicates_absorbed",
        "lost",
        "double_effects",
        "duplicate_notifications",
        "overspent_nok",
        "seats_double_booked",
        "facilitator_overlaps",
        "dlq_records",
        "redelivered_in_rolling_restart",
    )
    for key in keys:
        print(f"{key:32} {result[key]}")
    found = problems(result)
    print("\nall invariants hold" if not found else "\nBROKEN: " + "; ".join(found))
    print("written: .bench/chaos.json")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
