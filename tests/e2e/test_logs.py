"""A service's stderr is JSON lines from start to stop, the Kafka client's own lines included."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devkit.processes import ROOT, free_port
from devkit.system import System


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(errors="replace").splitlines() if line.strip()]


async def test_every_line_of_a_service_is_json_also_aiokafkas(system: System, tmp_path: Path) -> None:
    # Its database is there; its broker is a port where nothing listens, so aiokafka has something to say.
    nowhere = free_port()
    env = {
        **os.environ,
        **system.service_env("funding"),
        "FUNDING_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{nowhere}",
        "FUNDING_HTTP_HOST": "127.0.0.1",
        "FUNDING_HTTP_PORT": str(free_port()),
    }
    env.pop("FUNDING_LOG_FORMAT", None)  # the default: JSON because stderr is not a terminal
    stderr = tmp_path / "funding.stderr"
    with stderr.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "funding"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=sink
        )
        try:
            deadline = time.monotonic() + 60
            while not any('"logger": "aiokafka' in line for line in _lines(stderr)):
                assert process.poll() is None, f"funding exited:\n{stderr.read_text()}"
                assert time.monotonic() < deadline, f"no line from aiokafka within 60 s:\n{stderr.read_text()}"
                await asyncio.sleep(0.2)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
    lines = _lines(stderr)
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise AssertionError(f"not JSON: {line!r}") from error
    for record in parsed:
        assert record["service"] == "funding", record
        assert record["level"], record
        assert record["event"], record
    assert any(record.get("logger", "").startswith("aiokafka") for record in parsed)
    assert any(record["event"] == "startup.broker_unreachable" for record in parsed)
