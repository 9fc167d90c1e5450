"""`make bench-scale` in a tiny form: its figures under `scale` in bench.json, its pre-load in the bench's database."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bench import isolation, preload
from devkit.infra import DSN_ENV, KAFKA_ENV
from devkit.system import System
from shared.topics import PREFIX_ENV, SERVICES

REPO = Path(__file__).resolve().parents[2]
SIZES = (10, 100)
# What `make bench` wrote before: the sweep adds `scale` beside it.
EARLIER = {"hops_per_s": 123.0, "latency_ms": {"p99": 9.0}}
PRELOADED = "SELECT count(*) FROM {table} WHERE {column} = $1"
# A pre-loaded table of each service, and the column its rows carry the sweep's marker in.
MARKED = (
    ("applications.applications", "submit_command_id"),
    ("funding.grants", "command_id"),
    ("funding.ledger", "command_id"),
)


@dataclass(frozen=True)
class Sweep:
    result: dict[str, Any]
    in_bench_database: dict[str, int]
    workshops_in_bench_database: int
    in_users_database: dict[str, int]


async def marked_rows(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return {
            table: int(await conn.fetchval(PRELOADED.format(table=table, column=column), preload.MARKER))
            for table, column in MARKED
        }
    finally:
        await conn.close()


async def preloaded_workshops(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM workshops.workshops WHERE title LIKE 'Workshop %'"))
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def sweep(system: System, tmp_path_factory: pytest.TempPathFactory) -> Sweep:
    """`python -m bench --scale` at two small sizes, a few seconds each, on the tests' servers."""
    workdir = tmp_path_factory.mktemp("scale")
    (workdir / ".bench").mkdir()
    (workdir / ".bench" / "bench.json").write_text(json.dumps(EARLIER))
    env = {key: value for key, value in os.environ.items() if key != PREFIX_ENV}
    env |= {KAFKA_ENV: system.kafka_bootstrap, DSN_ENV: system.admin_dsn, "PYTHONPATH": str(REPO)}
    sizes = [str(n) for n in SIZES]
    knobs = ["--sizes", *sizes, "--chains", "5", "--repeats", "1", "--latency-seconds", "2", "--rate", "10"]
    knobs.append("--no-plot")
    bench = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench", "--scale", *knobs, cwd=workdir, env=env)
    assert await asyncio.wait_for(bench.wait(), 600) == 0
    bench_dsn = isolation.database_dsn(system.admin_dsn)
    return Sweep(
        result=json.loads((workdir / ".bench" / "bench.json").read_text()),
        in_bench_database=await marked_rows(bench_dsn),
        workshops_in_bench_database=await preloaded_workshops(bench_dsn),
        in_users_database=await marked_rows(system.admin_dsn),
    )


@pytest.mark.timeout(660)
def test_the_sweep_writes_a_hop_rate_and_a_p99_per_size_beside_what_was_there(sweep: Sweep) -> None:
    result = sweep.result
    for key, value in EARLIER.items():
        assert result[key] == value, f"{key} was overwritten"
    scale = result["scale"]
    assert set(scale) == {str(n) for n in SIZES}
    for size, figures in scale.items():
        assert figures["chains"] == 5, size  # every chain of the run completed
        assert figures["hops_per_s"] > 0, size
        assert 0 < figures["p99_ms"] < 60_000, size
        assert figures["seq_rows_per_hop"] >= 0, size
        assert figures["index_rows_per_hop"] > 0, size  # the chain finds its rows by key
        assert {table.split(".")[0] for table in figures["rows_per_hop_by_table"]} <= set(SERVICES), size


@pytest.mark.timeout(660)
def test_the_preload_goes_to_the_benchs_database_and_none_to_the_users(sweep: Sweep) -> None:
    largest = max(SIZES)
    # One application, grant and grant entry per number, up to the largest size, and no more:
    # the smaller size's rows were kept and topped up.
    assert sweep.in_bench_database == dict.fromkeys(sweep.in_bench_database, largest)
    assert sweep.workshops_in_bench_database == largest
    assert sweep.in_users_database == dict.fromkeys(sweep.in_users_database, 0)
