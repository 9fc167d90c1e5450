"""`make chaos`: chains run through two replicas of each service while faults strike; then the invariants.

Faults: each service's replicas killed with SIGKILL at random moments and restarted; the Kafka
broker restarted once (when this run started it) and Postgres once (when this run can stop
it); one consumer paused with SIGSTOP past its session timeout; finally one clean rolling
restart, which must redeliver nothing.

Demand exceeds supply, so that the guards are tested and not just passed: the chains' funding
decisions ask for more than the run's budget (a programme year of its own) holds, contested
workshops have fewer seats than people asking, and rounds of workshops compete for one
facilitator (``bench.chaos_contests``). Granted chains go on past the decision: the grant
accepted, interim payments approved, some sent twice, some against costs over the interim cap
(``bench.chaos_payments``). Then, from the topics and the databases: every chain
completed exactly once or was refused for want of budget, exactly as many grants as the budget
holds, no fact recorded twice, no notification twice, budgets equal allocations minus what
grants hold (active ones whole, ended ones what they paid), every seat and facilitator given
exactly once, every payment command answered once, no payment paid twice or past the grant's
interim cap, nothing dead-lettered.
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
from bench.chain import DLQ_TOPICS, REQUESTED_NOK, Chain, Driver
from bench.chaos_contests import Contests
from bench.chaos_payments import Payments
from bench.run import progress
from bench.system import RunningSystem
from deploy.local import kafka as local_kafka
from devkit.processes import ServiceProcess
from shared.topics import NOTIFICATIONS, SERVICES

RESULTS = Path(".bench")
SESSION_TIMEOUT_S = 10.0  # the consumers' session timeout (shared/service.py)
OSLO = ZoneInfo("Europe/Oslo")
# The budget holds grants for this share of the chains: the rest must be refused, none overspent.
BUDGET_SHARE = 0.75
GRANTED = "funding.FundingGranted.v1"
# What a chain refused for want of budget never gets.
AFTER_GRANT = ("funding.FundingGranted.v1", "applications.ApplicationApproved.v1")
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


async def restart_database(running: RunningSystem, tally: Tally) -> None:
    database = running.infra.database
    if database is None:  # `faults` plans no restart then
        return
    tally.note("stopping Postgres")
    await asyncio.to_thread(database.stop)
    await asyncio.sleep(2)
    await asyncio.to_thread(database.start)
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
    else:
        tally.note(f"infrastructure from {running.infra.origin}: no broker restart (this run cannot restart it)")
    if running.infra.database is not None:
        plan.append((0.75 * duration, ("database", None)))
    else:
        tally.note(f"infrastructure from {running.infra.origin}: no database restart (this run cannot stop it)")
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
            await restart_database(running, tally)


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


@dataclass(frozen=True)
class Budget:
    """The run's own programme year: what was left in it before the run, and what the run adds."""

    year: int
    left_nok: int
    top_up_nok: int

    @property
    def available_nok(self) -> int:
        return self.left_nok + self.top_up_nok

    @property
    def grants(self) -> int:
        """How many chains the budget can fund: the others must be refused."""
        return self.available_nok // REQUESTED_NOK

    @property
    def decided_at(self) -> datetime:
        """The ce_time of the run's decisions: the programme year is the year of a decision's time."""
        return datetime(self.year, 7, 1, 12, tzinfo=OSLO)


async def own_budget(admin_dsn: str, *, chains: int) -> Budget:
    """A programme year of the run's own, topped up to grants for `BUDGET_SHARE` of the chains.

    The first year after this one that holds less than that: a previous run spent its year down
    to less than one grant, so runs repeated against one database stay as tight as the first.
    Other tests' budgets (this year's) are left alone.
    """
    need = max(1, int(chains * BUDGET_SHARE)) * REQUESTED_NOK
    this_year = datetime.now(OSLO).year
    conn = await asyncpg.connect(admin_dsn)
    try:
        for year in range(this_year + 1, this_year + 100):
            left = await conn.fetchval("SELECT remaining_nok FROM funding.budgets WHERE programme_year = $1", year)
            if (left or 0) < need:
                return Budget(year, int(left or 0), need - int(left or 0))
    finally:
        await conn.close()
    raise RuntimeError("every programme year of the next century holds more than a chaos run may have")


def refused_for_budget(chain: Chain) -> bool:
    """The chain's decision was refused because the budget was spent: the contest's expected loss."""
    failed = chain.failed or ""
    return failed.startswith("funding.DecideFunding") and "insufficient_budget" in failed


async def invariants(
    running: RunningSystem, driver: Driver, budget: Budget, contests: Contests, payments: Payments
) -> dict[str, Any]:
    facts: dict[tuple[str, str], set[str]] = defaultdict(set)
    copies: Counter[str] = Counter()
    notification_ids: dict[str, set[str]] = defaultdict(set)
    ours = set(driver.chains) | set(driver.by_registration)
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
    refused = [c for c in driver.chains.values() if refused_for_budget(c)]
    missing_facts = 0
    for chain in driver.chains.values():
        expected = [t for t in ONCE_PER_CHAIN if not (refused_for_budget(chain) and t in AFTER_GRANT)]
        missing_facts += sum(
            1 for t in expected if (t, chain.application_id) not in facts and (t, chain.registration_id) not in facts
        )
    grants = sum(1 for chain in driver.chains.values() if (GRANTED, chain.application_id) in facts)
    expected_grants = min(len(driver.chains), budget.grants)
    conn = await asyncpg.connect(running.system.admin_dsn)
    try:
        # What grants hold of the year: an active grant its whole amount, an ended one (lapsed, withdrawn,
        # completed) what it paid before it ended.
        row = await conn.fetchrow(
            """SELECT b.remaining_nok,
                      (SELECT coalesce(sum(amount_nok), 0) FROM funding.allocations a
                       WHERE a.programme_year = b.programme_year) AS allocated,
                      (SELECT coalesce(sum(CASE WHEN g.released_at IS NULL THEN g.amount_nok ELSE g.paid_nok END), 0)
                         FROM funding.grants g WHERE g.programme_year = b.programme_year) AS granted
               FROM funding.budgets b WHERE b.programme_year = $1""",
            budget.year,
        )
        seats = await _overbooked_seats(conn)
        facilitators = await _facilitator_overlaps(conn)
        paid = await payments.verdict(conn)
    finally:
        await conn.close()
    # sums come back as numeric: whole NOK as int again
    remaining, allocated, granted = (0, 0, 0) if row is None else (int(row[0]), int(row[1]), int(row[2]))
    # Granted beyond what there was, by the database's books and by the grants published.
    overspent = max(0, granted - allocated, grants * REQUESTED_NOK - budget.available_nok)
    return {
        "chains": len(driver.chains),
        "completed": len(driver.completed),
        "refused_for_budget": len(refused),
        "lost": len(driver.chains) - len(driver.completed) - len(refused),
        "failed": [c.failed for c in driver.failed if not refused_for_budget(c)][:5],
        "double_effects": double_effects,
        "missing_facts": missing_facts,
        "duplicate_notifications": sum(len(ids) - 1 for ids in notification_ids.values() if len(ids) > 1),
        "duplicates_delivered": sum(n - 1 for n in copies.values() if n > 1),
        "programme_year": budget.year,
        "budget_available_nok": budget.available_nok,
        "grants": grants,
        "grants_expected": expected_grants,
        "grants_off_budget": grants - expected_grants,
        "overspent_nok": overspent,
        "budget_mismatch_nok": abs(remaining - (allocated - granted)),
        "seats_double_booked": seats,
        "facilitator_overlaps": facilitators,
        **contests.verdict(driver.seen),
        **paid,
        "dlq_records": dlq,
    }


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


async def run_chaos(
    *, chains: int, duration: float, kills_per_service: int, seed: int, followed_grants: int
) -> dict[str, Any]:
    tally = Tally()
    running = await RunningSystem.start(replicas=2)
    rolling = max(10, chains // 10)  # chains started during the rolling restart
    budget = await own_budget(running.system.admin_dsn, chains=chains + rolling)
    driver = Driver(running.system.kafka_bootstrap, seed=seed, decided_at=budget.decided_at)
    contests = Contests()
    payments = Payments(driver, limit=followed_grants)
    driver.on_complete = payments.follow
    await driver.start()
    await payments.start()
    try:
        await driver.allocate_budget(budget.top_up_nok, year=budget.year)
        await driver.schedule_workshops(6, starts_in_s=3)
        await contests.open_seats(driver, count=max(4, chains // 25))
        await asyncio.sleep(1)
        tally.note(
            f"{chains} chains over {duration:.0f}s, two replicas per service; budget {budget.year} "
            f"for {budget.grants} grants of {chains + rolling} asked; "
            f"the first {followed_grants} granted go on to payments"
        )
        traffic = asyncio.create_task(pace(driver, 0, chains, per_second=chains / duration))
        contending = asyncio.create_task(contests.run(driver, rounds=max(6, chains // 25), duration=duration))
        await faults(running, tally, duration=duration, kills_per_service=kills_per_service, seed=seed)
        await traffic
        await contending
        await driver.wait_all(timeout=240, progress=progress("chains under faults"))
        await rolling_restart(running, driver, tally, chains=rolling)
        await payments.wait_all(timeout=180)
        await asyncio.sleep(2)  # the last relays publish; then read what the topics and databases say
        result = await invariants(running, driver, budget, contests, payments)
    finally:
        await payments.stop()
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


# Every invariant the run judges: each must be 0 (printed, and in .bench/chaos.json).
INVARIANTS = (
    "lost",
    "double_effects",
    "missing_facts",
    "grants_off_budget",
    "duplicate_notifications",
    "overspent_nok",
    "budget_mismatch_nok",
    "seats_double_booked",
    "facilitator_overlaps",
    "seat_contests_wrong",
    "facilitator_rounds_wrong",
    "follow_ups_unanswered",
    "follow_ups_answered_twice",
    "follow_ups_answered_wrong",
    "resends_answered_differently",
    "payment_orders_twice",
    "paid_twice",
    "paid_past_cap",
    "followed_grants_paid_wrong",
    "dlq_records",
    "redelivered_in_rolling_restart",
)


def problems(result: dict[str, Any]) -> list[str]:
    """What the invariants say is wrong; empty when the run held every promise."""
    return [f"{name} = {result[name]}" for name in INVARIANTS if result[name]]


def main(argv: list[str] | None = None) -> None:
    isolation.enter("bench.chaos", argv)
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--chains", type=int, default=300)
    parser.add_argument(
        "--duration", type=float, default=90.0, help="seconds over which chains start and faults strike"
    )
    parser.add_argument("--kills-per-service", type=int, default=2)
    parser.add_argument(
        "--followed-grants", type=int, default=100, help="granted chains taken on to acceptance and payments"
    )
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args(argv)
    result = asyncio.run(
        run_chaos(
            chains=args.chains,
            duration=args.duration,
            kills_per_service=args.kills_per_service,
            seed=args.seed,
            followed_grants=args.followed_grants,
        )
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "chaos.json").write_text(json.dumps(result, indent=2))
    keys = (
        "chains",
        "completed",
        "refused_for_budget",
        "grants",
        "grants_expected",
        "seat_contests",
        "facilitator_rounds",
        "grants_followed",
        "grants_accepted",
        "payment_commands",
        "payments_resent",
        "payments_past_cap_sent",
        "paid_nok",
        "kills",
        "broker_restarts",
        "db_restarts",
        "pauses",
        "rolling_restarts",
        "duplicates_delivered",
        "duplicates_absorbed",
        *INVARIANTS,
    )
    for key in keys:
        print(f"{key:32} {result[key]}")
    found = problems(result)
    print("\nall invariants hold" if not found else "\nBROKEN: " + "; ".join(found))
    print("written: .bench/chaos.json")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
