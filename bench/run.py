"""`make bench`: the system against its two ceilings, in one run, medians of several runs."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import uvloop

from bench import ceilings, cost, isolation
from bench.chain import Driver
from bench.report import plot_latency, print_table
from bench.system import RunningSystem, applied, published
from deploy.local import kafka as local_kafka
from shared.topics import SERVICES

RESULTS = Path(".bench")
HOPS_PER_CHAIN = 9  # applications 4, workshops 3, funding 2 transactions per completed chain
CONSUMERS = 7  # subscriptions across the three services: the system's database concurrency


@dataclass
class Options:
    runs: int
    chains: int
    latency_s: float
    rate: float
    relay_rows: int
    broker_restart: bool
    plot: bool = True


def progress(label: str) -> Any:
    last: list[tuple[int, int]] = []

    def show(done: int, total: int) -> None:
        if last and last[-1] == (done, total):
            return  # redraw only what changed
        last.append((done, total))
        width = 30
        filled = int(width * done / max(1, total))
        sys.stderr.write(f"\r  {label:24} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


async def throughput(running: RunningSystem, chains: int) -> dict[str, Any]:
    """As many chains as the system takes, started together; completed chains per second."""
    before = {s: await running.metrics(s) for s in SERVICES}
    driver = Driver(running.system.kafka_bootstrap, seed=int(time.time()))
    await driver.start()
    try:
        await driver.allocate_budget(chains * 800_000 * 4)
        await driver.schedule_workshops(6, starts_in_s=2)
        await asyncio.sleep(2.5)  # the workshops have begun: attendance waits on no clock
        used_before = await cost.usage(running)
        started = time.monotonic()
        for n in range(chains):
            await driver.begin(n)
        await driver.flush()
        ok = await driver.wait_all(timeout=60 + chains * 0.5, progress=progress("chains"))
        used_after = await cost.usage(running)
        last = max((c.completed or 0.0) for c in driver.chains.values())
        elapsed = last - started
    finally:
        await driver.stop()
    after = {s: await running.metrics(s) for s in SERVICES}
    hops_by_service = {s: applied(after[s]) - applied(before[s]) for s in SERVICES}
    hops = sum(hops_by_service.values())
    if not ok:
        failures = [c.failed for c in driver.failed][:3]
        print(f"  warning: {len(driver.completed)}/{chains} chains completed; failures: {failures}", file=sys.stderr)
    return {
        "chains": len(driver.completed),
        "chains_per_s": len(driver.completed) / elapsed,
        "hops_per_s": hops / elapsed,
        "hops_per_chain": hops / max(1, len(driver.completed)),
        "events_per_s": {s: (published(after[s]) - published(before[s])) / elapsed for s in SERVICES},
        "elapsed_s": elapsed,
        "cpu_ms_per_hop": used_before.cpu_ms_per_hop(used_after, hops_by_service),
        "commits_per_hop": used_before.commits_per_hop(used_after, hops),
        "statements_per_hop": used_before.statements_per_hop(used_after, hops_by_service),
    }


async def latency(running: RunningSystem, *, seconds: float, rate: float) -> dict[str, Any]:
    """Chains started at a steady pace so that about `rate` commands per second reach the system."""
    commands_per_chain = 5
    driver = Driver(running.system.kafka_bootstrap, seed=int(time.time()) + 1)
    await driver.start()
    try:
        chains = int(seconds * rate / commands_per_chain)
        await driver.allocate_budget(chains * 800_000 * 4)
        await driver.schedule_workshops(6, starts_in_s=2)
        await asyncio.sleep(2.5)
        started = time.monotonic()
        interval = commands_per_chain / rate
        show = progress("steady load")
        for n in range(chains):
            await driver.begin(n)
            show(n + 1, chains)
            await asyncio.sleep(max(0.0, started + (n + 1) * interval - time.monotonic()))
        await driver.wait_all(timeout=60)
    finally:
        await driver.stop()
    points = driver.latencies_ms(since=started)
    values = sorted(v for _, v in points)
    sent = len([s for s in driver.sent.values() if s.at >= started])
    return {
        "commands": sent,
        "commands_per_s": sent / max(1e-9, (max(t for t, _ in points) - started) if points else 1.0),
        "latency_ms": {"p50": _pct(values, 50), "p95": _pct(values, 95), "p99": _pct(values, 99)},
        "points": [(t - started, v) for t, v in points],
    }


async def recovery_after_broker_restart(running: RunningSystem, *, rate: float, window_s: float = 1.0) -> float | None:
    """Seconds from the broker answering again until answered commands per second regain 90 % of their level before.

    Chains start at a steady pace for 10 s, the broker restarts, and the pace goes on for
    40 s more. None when this run did not start the broker (it cannot restart it).
    """
    if running.infra.origin != "local":
        return None
    commands_per_chain = 5
    driver = Driver(running.system.kafka_bootstrap, seed=int(time.time()) + 2)
    await driver.start()
    try:
        await driver.allocate_budget(10**12)
        await driver.schedule_workshops(6, starts_in_s=2)
        await asyncio.sleep(2.5)
        started = time.monotonic()
        interval = commands_per_chain / rate
        n = 0

        async def pace(until: float) -> None:
            nonlocal n
            while time.monotonic() < until:
                await driver.begin(n)
                n += 1
                await asyncio.sleep(max(0.0, started + n * interval - time.monotonic()))

        await pace(started + 10)
        pacing = asyncio.create_task(pace(started + 50))
        await asyncio.to_thread(local_kafka.restart_kafka)
        back = time.monotonic()
        await pacing
        await driver.wait_all(timeout=60)
    finally:
        await driver.stop()
    answered = sorted(s.answered for s in driver.sent.values() if s.answered is not None)

    def per_second(at: float) -> float:
        return sum(1 for a in answered if at <= a < at + window_s) / window_s

    before = statistics.median(per_second(started + 3 + i) for i in range(6))
    t = back
    while t < back + 40:
        if per_second(t) >= 0.9 * before:
            return t - back
        t += window_s / 4
    return float("inf")


async def relay_rate(running: RunningSystem, rows: int) -> float:
    """Outbox rows per second the relay publishes, from one commit of `rows` rows to all marked sent."""
    topic = "bench.relay.v1"
    await ceilings._fresh_topics(running.system.kafka_bootstrap, [topic], 6)  # noqa: SLF001
    conn = await asyncpg.connect(running.system.admin_dsn)
    try:
        ids = [str(uuid.uuid4()) for _ in range(rows)]
        headers = [json.dumps({"ce_id": i, "ce_type": "bench.Relayed.v1", "ce_specversion": "1.0"}) for i in ids]
        async with conn.transaction():
            await conn.execute(
                """INSERT INTO funding.outbox (event_id, topic, key, ce_type, headers, payload)
                   SELECT e, $2, e, 'bench.Relayed.v1', h::jsonb, $3 FROM unnest($1::text[], $4::text[]) AS r(e, h)""",
                ids,
                topic,
                ceilings.PAYLOAD,
                headers,
            )
        started = time.perf_counter()
        while await conn.fetchval("SELECT count(*) FROM funding.outbox WHERE sent_at IS NULL AND topic = $1", topic):
            await asyncio.sleep(0.01)
        return rows / (time.perf_counter() - started)
    finally:
        await conn.close()


def ceiling_per_hop(before: cost.Usage, after: cost.Usage, hops: int) -> dict[str, float | None]:
    """The database ceiling's cost per hop: its client's CPU (this process), the server's, and its commits."""
    database = after.database - before.database if after.database is not None and before.database is not None else None
    return {
        "cpu_ms_client": 1000 * (after.driver - before.driver) / hops,
        "cpu_ms_database": None if database is None else 1000 * database / hops,
        "commits": before.commits_per_hop(after, hops),
    }


def _pct(values: list[float], p: int) -> float:
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))
    return values[index]


async def one_run(options: Options, index: int) -> dict[str, Any]:
    print(f"run {index + 1}/{options.runs}", file=sys.stderr)
    running = await RunningSystem.start()
    try:
        bootstrap, admin = running.system.kafka_bootstrap, running.system.admin_dsn
        print("  ceilings ...", file=sys.stderr)
        kafka = await ceilings.kafka_ceiling(bootstrap, hops=HOPS_PER_CHAIN, messages=options.chains)
        transactions = options.chains * 4
        used = await cost.usage(running)
        before = await ceilings.database_ceiling(admin, transactions=transactions, concurrency=CONSUMERS)
        ceiling_cost = ceiling_per_hop(used, await cost.usage(running), (transactions // CONSUMERS) * CONSUMERS)
        produce = await ceilings.raw_produce_rate(bootstrap, messages=options.relay_rows, batch=500)
        system = await throughput(running, options.chains)
        # The ceiling again right after the system's phase, and their mean: a machine whose speed
        # drifts (other work on its cores) moves both sides of the ratio alike.
        after = await ceilings.database_ceiling(admin, transactions=transactions, concurrency=CONSUMERS)
        database = (before + after) / 2
        relay = await relay_rate(running, options.relay_rows)
        steady = await latency(running, seconds=options.latency_s, rate=options.rate)
        recovery = await recovery_after_broker_restart(running, rate=options.rate) if options.broker_restart else None
        rss = {s: running.peak_rss_mb(s) for s in SERVICES}
    finally:
        running.stop()
    return {
        "kafka_ceiling_hops_per_s": kafka,
        "db_ceiling_hops_per_s": database,
        "db_ceiling_hops_per_s_before_after": [before, after],
        "raw_produce_per_s": produce,
        "relay_per_s": relay,
        **system,
        "db_ceiling_cost": ceiling_cost,
        "steady": steady,
        "peak_rss_mb": rss,
        "recovery_after_broker_restart_s": recovery,
    }


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def median(key: str) -> float:
        return float(statistics.median(float(r[key]) for r in runs))

    return {
        "chains_per_s": median("chains_per_s"),
        "hops_per_s": median("hops_per_s"),
        "hops_per_chain": median("hops_per_chain"),
        "kafka_ceiling_hops_per_s": median("kafka_ceiling_hops_per_s"),
        "db_ceiling_hops_per_s": median("db_ceiling_hops_per_s"),
        # ratios within each run first, then their median: both sides saw the same machine state
        "ratio_to_kafka_ceiling": statistics.median(r["hops_per_s"] / r["kafka_ceiling_hops_per_s"] for r in runs),
        "ratio_to_db_ceiling": statistics.median(r["hops_per_s"] / r["db_ceiling_hops_per_s"] for r in runs),
        "relay_per_s": median("relay_per_s"),
        "raw_produce_per_s": median("raw_produce_per_s"),
        "relay_ratio_to_raw_produce": statistics.median(r["relay_per_s"] / r["raw_produce_per_s"] for r in runs),
        "events_per_s": {s: statistics.median(r["events_per_s"][s] for r in runs) for s in SERVICES},
        # What a hop costs, beside how many there were: these move less with the machine's load.
        "cpu_ms_per_hop": {
            **{k: _median_or_none([r["cpu_ms_per_hop"][k] for r in runs]) for k in runs[0]["cpu_ms_per_hop"]},
            "db_ceiling_client": median_of(runs, "db_ceiling_cost", "cpu_ms_client"),
            "db_ceiling_database": median_of(runs, "db_ceiling_cost", "cpu_ms_database"),
        },
        "commits_per_hop": {
            "system": median("commits_per_hop"),
            "db_ceiling": median_of(runs, "db_ceiling_cost", "commits"),
        },
        # Round trips per hop (pg_stat_statements): the ceiling's hop is five (BEGIN, three statements, COMMIT).
        "statements_per_hop": _median_by_key([r["statements_per_hop"] for r in runs]),
        "latency_ms": {p: statistics.median(r["steady"]["latency_ms"][p] for r in runs) for p in ("p50", "p95", "p99")},
        "steady_commands_per_s": statistics.median(r["steady"]["commands_per_s"] for r in runs),
        "peak_rss_mb": {s: max(r["peak_rss_mb"][s] for r in runs) for s in SERVICES},
        "recovery_after_broker_restart_s": _median_or_none([r["recovery_after_broker_restart_s"] for r in runs]),
        "runs": [
            {k: v for k, v in r.items() if k != "steady"} | {"steady": _without_points(r["steady"])} for r in runs
        ],
        "measured_at": datetime.now(UTC).isoformat(),
    }


def median_of(runs: list[dict[str, Any]], key: str, field: str) -> float | None:
    return _median_or_none([r[key][field] for r in runs])


def _median_by_key(runs: list[dict[str, float] | None]) -> dict[str, float] | None:
    known = [r for r in runs if r is not None]
    return {k: float(statistics.median(r[k] for r in known)) for k in known[0]} if known else None


def _median_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(statistics.median(known)) if known else None


def _without_points(steady: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in steady.items() if k != "points"}


async def main_async(options: Options) -> dict[str, Any]:
    runs = [await one_run(options, i) for i in range(options.runs)]
    result = summarise(runs)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "bench.json"
    # `make bench-scale`'s figures stay beside these: the two are run apart (the sweep takes long).
    earlier = json.loads(path.read_text()) if path.exists() else {}
    if "scale" in earlier:
        result["scale"] = earlier["scale"]
    path.write_text(json.dumps(result, indent=2))
    if options.plot:
        plot_latency([r["steady"]["points"] for r in runs], RESULTS / "latency.png", rate=options.rate)
    print_table(result, plotted=options.plot)
    return result


def main(argv: list[str] | None = None) -> None:
    isolation.enter("bench", argv)
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chains", type=int, default=2000, help="chains in the throughput phase (about 20 s here)")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=50.0, help="commands per second in the steady phase")
    parser.add_argument("--relay-rows", type=int, default=10_000)
    parser.add_argument("--no-broker-restart", action="store_true", help="leave out the recovery phase")
    parser.add_argument("--no-plot", action="store_true", help="no latency plot (runs without the bench group)")
    args = parser.parse_args(argv)
    # The services' event loop (ADR 4) for the driver and the ceilings' clients too: like for like.
    uvloop.run(
        main_async(
            Options(
                args.runs,
                args.chains,
                args.latency_seconds,
                args.rate,
                args.relay_rows,
                broker_restart=not args.no_broker_restart,
                plot=not args.no_plot,
            )
        )
    )
