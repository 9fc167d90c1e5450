"""`make bench-scale`: the chain's hop rate and p99 as the data it runs beside grows.

For each size N (10^3 to 10^6 by default), the bench's database is topped up to N pre-loaded
applications, workshops and grants (bench.preload, SQL straight into the services' schemas),
then the bench's chain runs briefly: its throughput phase for the hop rate, its steady phase
for the p99. Beside them, the rows the services read by sequential scan per hop
(pg_stat_user_tables): a figure that grows with N names a table some query of the chain scans
instead of finding its rows through an index.

The figures go to `.bench/bench.json` under `scale` (the rest of the file is kept), and a plot
to `.bench/scale.png`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
import uvloop

from bench import isolation, preload
from bench.run import RESULTS, latency, throughput
from bench.system import RunningSystem
from devkit.infra import resolve_infrastructure
from devkit.system import System
from shared.topics import SERVICES

DEFAULT_SIZES = (10**3, 10**4, 10**5, 10**6)
_READS = """SELECT schemaname || '.' || relname, seq_tup_read, coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables
            WHERE schemaname = ANY($1::text[])"""


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...]
    chains: int
    latency_s: float
    rate: float
    repeats: int = 3
    plot: bool = True


async def fresh_system() -> RunningSystem:
    """The system on a bench database made anew: each sweep starts from no history at all."""
    infra = resolve_infrastructure()
    conn = await asyncpg.connect(infra.admin_dsn)
    try:
        quoted = await conn.fetchval("SELECT quote_ident($1)", isolation.DATABASE)
        await conn.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        await conn.close()
    system = System(kafka_bootstrap=infra.kafka_bootstrap, admin_dsn=await isolation.own_database(infra.admin_dsn))
    await system.prepare(services=SERVICES)
    return RunningSystem(infra, system, await system.start_all(SERVICES, replicas=1, LOG_LEVEL="INFO"))


async def rows_read(dsn: str) -> dict[str, tuple[int, int]]:
    """Rows read so far by sequential scan and through an index, by table of the services' schemas."""
    conn = await asyncpg.connect(dsn)
    try:
        # Statistics reach the view when a backend flushes them (at most a second after its transaction).
        await asyncio.sleep(1.5)
        return {name: (int(seq), int(index)) for name, seq, index in await conn.fetch(_READS, list(SERVICES))}
    finally:
        await conn.close()


async def at_size(running: RunningSystem, rows: int, options: Options) -> dict[str, Any]:
    dsn = running.system.admin_dsn
    started = time.monotonic()
    added = await preload.preload(dsn, rows)
    loaded_s = time.monotonic() - started
    print(f"  {rows} rows of each: {added} added in {loaded_s:.0f} s", file=sys.stderr)
    read_before = await rows_read(dsn)
    # Several throughput phases, their median: one phase of a few seconds moves by a quarter from
    # run to run on a shared machine, more than the data would move it.
    chains = [await throughput(running, options.chains) for _ in range(options.repeats)]
    read_after = await rows_read(dsn)
    steady = await latency(running, seconds=options.latency_s, rate=options.rate)
    hops = max(1.0, sum(chain["hops_per_s"] * chain["elapsed_s"] for chain in chains))
    read = {t: _difference(before, read_after.get(t, before)) for t, before in read_before.items()}
    return {
        "hops_per_s": statistics.median(chain["hops_per_s"] for chain in chains),
        "hops_per_s_runs": [chain["hops_per_s"] for chain in chains],
        "p99_ms": steady["latency_ms"]["p99"],
        "p50_ms": steady["latency_ms"]["p50"],
        "chains": sum(chain["chains"] for chain in chains),
        "cpu_ms_per_hop": statistics.median(chain["cpu_ms_per_hop"]["all_services"] for chain in chains),
        "seq_rows_per_hop": sum(seq for seq, _ in read.values()) / hops,
        "index_rows_per_hop": sum(index for _, index in read.values()) / hops,
        "rows_per_hop_by_table": {
            t: {"seq": seq / hops, "index": index / hops} for t, (seq, index) in sorted(read.items()) if seq or index
        },
        "preload_s": loaded_s,
    }


def _difference(before: tuple[int, int], after: tuple[int, int]) -> tuple[int, int]:
    return after[0] - before[0], after[1] - before[1]


def merge_into_results(scale: dict[str, Any]) -> None:
    """`scale` in .bench/bench.json, beside whatever `make bench` wrote there."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "bench.json"
    results: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    results["scale"] = scale
    path.write_text(json.dumps(results, indent=2))


def plot(scale: dict[str, Any], path: Any) -> None:
    import matplotlib as mpl  # noqa: PLC0415 - only the benchmark needs it

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    sizes = [int(n) for n in scale]
    figure, (rate, p99) = plt.subplots(1, 2, figsize=(10, 4))
    rate.plot(sizes, [scale[str(n)]["hops_per_s"] for n in sizes], marker="o")
    rate.set_ylabel("hops per second")
    rate.set_ylim(bottom=0)
    p99.plot(sizes, [scale[str(n)]["p99_ms"] for n in sizes], marker="o", color="tab:orange")
    p99.axhline(50, color="red", linewidth=0.8, linestyle="--", label="50 ms")
    p99.set_ylabel("p99 command to first event, ms")
    p99.set_ylim(bottom=0)
    p99.legend(loc="upper left")
    for axis in (rate, p99):
        axis.set_xscale("log")
        axis.set_xlabel("pre-loaded applications, workshops and grants (each)")
    figure.suptitle("The chain as the data grows")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def print_table(scale: dict[str, Any]) -> None:
    header = ("rows of each", "hops/s", "p99 ms", "CPU ms/hop", "rows read/hop: seq", "index")
    print("\n" + "  ".join(f"{h:>{w}}" for h, w in zip(header, (12, 8, 7, 10, 18, 6), strict=True)))
    for rows, r in scale.items():
        print(
            f"{int(rows):>12}  {r['hops_per_s']:>8.0f}  {r['p99_ms']:>7.1f}  {r['cpu_ms_per_hop']:>10.2f}"
            f"  {r['seq_rows_per_hop']:>18.1f}  {r['index_rows_per_hop']:>6.1f}"
        )


async def main_async(options: Options) -> dict[str, Any]:
    running = await fresh_system()
    scale: dict[str, Any] = {}
    try:
        # The first chains of a fresh system pay for connections, consumer groups and first plans:
        # a warm-up keeps that out of the smallest size's figures.
        print("warm-up", file=sys.stderr)
        await throughput(running, options.chains)
        for rows in sorted(options.sizes):
            print(f"size {rows}", file=sys.stderr)
            scale[str(rows)] = await at_size(running, rows, options)
    finally:
        running.stop()
    merge_into_results(scale)
    if options.plot:
        plot(scale, RESULTS / "scale.png")
    print_table(scale)
    print("\nwritten: .bench/bench.json (scale)" + (", .bench/scale.png" if options.plot else ""))
    return scale


def main(argv: list[str] | None = None) -> None:
    isolation.enter("bench.scale", argv)
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="rows of each to pre-load, one run each"
    )
    parser.add_argument("--chains", type=int, default=600, help="chains in each of a size's throughput phases")
    parser.add_argument("--repeats", type=int, default=3, help="throughput phases per size (their median is reported)")
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=50.0, help="commands per second in the steady phase")
    parser.add_argument("--no-plot", action="store_true", help="no plot (runs without the bench group)")
    args = parser.parse_args(argv)
    # The services' event loop (ADR 4) for the driver and the ceilings' clients too: like for like.
    uvloop.run(
        main_async(
            Options(
                tuple(args.sizes),
                args.chains,
                args.latency_seconds,
                args.rate,
                repeats=args.repeats,
                plot=not args.no_plot,
            )
        )
    )


if __name__ == "__main__":
    main()
