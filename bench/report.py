"""The benchmark's table on the terminal, and its latency plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def print_table(r: dict[str, Any], *, plotted: bool = True) -> None:
    rows = [
        ("completed chains per second", f"{r['chains_per_s']:.1f}", ""),
        ("hops per second (transactions)", f"{r['hops_per_s']:.0f}", f"{r['hops_per_chain']:.1f} per chain"),
        ("Kafka ceiling, hops per second", f"{r['kafka_ceiling_hops_per_s']:.0f}", "raw aiokafka, same hops"),
        ("database ceiling, hops per second", f"{r['db_ceiling_hops_per_s']:.0f}", "one commit per hop, asyncpg"),
        ("system / Kafka ceiling", f"{r['ratio_to_kafka_ceiling']:.2f}", ""),
        ("system / database ceiling", f"{r['ratio_to_db_ceiling']:.2f}", "target >= 0.50"),
        ("relay publishes per second", f"{r['relay_per_s']:.0f}", ""),
        ("raw aiokafka produce per second", f"{r['raw_produce_per_s']:.0f}", ""),
        ("relay / raw produce", f"{r['relay_ratio_to_raw_produce']:.2f}", "target >= 0.50"),
        *[(f"events per second: {s}", f"{v:.0f}", "") for s, v in r["events_per_s"].items()],
        *[(f"CPU per hop: {k}", _ms(v), _CPU_NOTES.get(k, "per own hop")) for k, v in r["cpu_ms_per_hop"].items()],
        ("write commits per hop: system", f"{r['commits_per_hop']['system']:.2f}", "transaction ids taken / hops"),
        ("write commits per hop: db ceiling", _figure(r["commits_per_hop"]["db_ceiling"]), "one per hop by design"),
        *[
            (f"statements per hop: {k}", f"{v:.1f}", "round trips, its relay's included; the ceiling's: 5")
            for k, v in (r.get("statements_per_hop") or {}).items()
        ],
        (
            f"latency at {r['steady_commands_per_s']:.0f} commands/s",
            "p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f} ms".format(**r["latency_ms"]),
            "target p99 < 50 ms",
        ),
        *[(f"peak memory: {s}", f"{v:.0f} MB", "") for s, v in r["peak_rss_mb"].items()],
        (
            "back to 90 % after a broker restart",
            "-" if r["recovery_after_broker_restart_s"] is None else f"{r['recovery_after_broker_restart_s']:.1f} s",
            "target <= 30 s",
        ),
    ]
    width = max(len(a) for a, _, _ in rows)
    print(f"\n{'measure':{width}}  {'median of ' + str(len(r['runs'])) + ' runs':>34}  note")
    for name, value, note in rows:
        print(f"{name:{width}}  {value:>34}  {note}")
    print("\nwritten: .bench/bench.json" + (", .bench/latency.png" if plotted else ""))


_CPU_NOTES = {
    "all_services": "the three services together, per hop of the chain",
    "database": "the PostgreSQL server, per hop of the chain",
    "kafka_broker": "the Kafka broker, per hop of the chain",
    "driver": "the load driver (this process), per hop of the chain",
    "db_ceiling_client": "the ceiling's asyncpg client, per hop",
    "db_ceiling_database": "the PostgreSQL server, per ceiling hop",
}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def plot_latency(runs: list[list[tuple[float, float]]], path: Path, *, rate: float) -> None:
    import matplotlib as mpl  # noqa: PLC0415 - only the benchmark needs it

    mpl.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, axis = plt.subplots(figsize=(9, 4))
    for index, points in enumerate(runs):
        if points:
            xs, ys = zip(*points, strict=True)
            axis.scatter(xs, ys, s=4, alpha=0.5, label=f"run {index + 1}")
    axis.axhline(50, color="red", linewidth=0.8, linestyle="--", label="50 ms")
    axis.set_xlabel("seconds into the steady phase")
    axis.set_ylabel("command to first event, ms")
    axis.set_title(f"Command-to-event latency at {rate:.0f} commands/s")
    axis.legend(loc="upper right", markerscale=3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
