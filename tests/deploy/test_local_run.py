"""`make run` (deploy.local.services run) shows the services' logs: readable at a terminal, JSON in a pipe."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from devkit.infra import Infrastructure
from devkit.processes import ROOT
from devkit.system import System

FOLLOW = "The services' logs follow."
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SERVICES = ("applications", "workshops", "funding")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def local_only(infrastructure: Infrastructure, system: System) -> None:
    # `run` brings up the local Kafka and Postgres on PROGRAMME_*_PORT: the same ones only when the tests started them.
    if infrastructure.origin != "local":
        pytest.skip(f"`make run` uses the local Kafka and Postgres; this run's come from {infrastructure.origin}")


def run_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"KAFKA_BOOTSTRAP_SERVERS", "PROGRAMME_ADMIN_DSN"}}
    # Ports of their own: the defaults (8081-8083) may be taken by a system already up on this machine.
    env.update({f"{service.upper()}_HTTP_PORT": str(free_port()) for service in SERVICES})
    for service in SERVICES:
        env.pop(f"{service.upper()}_LOG_FORMAT", None)
    return env


def read_until(read: Callable[[], bytes], seen: list[str], done: Callable[[str], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    text = ""
    while not done(text):
        assert time.monotonic() < deadline, f"not seen within {timeout}s; output so far:\n{text}"
        chunk = read()
        if chunk:
            seen.append(chunk.decode("utf-8", "replace"))
            text = "".join(seen)


def log_lines_after_follow(text: str) -> list[str]:
    after = ANSI.sub("", text.replace("\r\n", "\n")).split(FOLLOW, 1)[1]
    return [line for line in after.splitlines() if line.strip() and not line.startswith(("===", "stopping"))]


@pytest.fixture
def stopper() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:  # Ctrl-C, as a person would: `run` stops the services it started
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(90)


def interrupt(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    assert proc.wait(90) == 0


def has_service_line(text: str) -> bool:
    return FOLLOW in text and any("relay.active" in line for line in log_lines_after_follow(text))


def test_at_a_terminal_the_services_lines_are_readable(
    local_only: None, stopper: list[subprocess.Popen[bytes]]
) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "deploy.local.services", "run"],
        cwd=ROOT, env=run_env(), stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
    )  # fmt: skip
    stopper.append(proc)
    os.close(follower)

    def read() -> bytes:
        if not select.select([leader], [], [], 0.5)[0]:
            return b""
        try:
            return os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is gone
            return b""

    seen: list[str] = []
    try:
        read_until(read, seen, has_service_line, timeout=240)
        interrupt(proc)
        read_until(read, seen, lambda text: "stopping" in text, timeout=10)
    finally:
        os.close(leader)
    lines = log_lines_after_follow("".join(seen))
    services = {service for service in SERVICES if any(f"service={service}" in line for line in lines)}
    assert services == set(SERVICES), lines
    assert not [line for line in lines if line.lstrip().startswith("{")], "JSON at a terminal"
    assert any(re.search(r"\[info\s*\] relay\.active", line) for line in lines), lines


def test_in_a_pipe_the_services_lines_are_json(local_only: None, stopper: list[subprocess.Popen[bytes]]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "deploy.local.services", "run"],
        cwd=ROOT, env=run_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    stopper.append(proc)
    assert proc.stdout is not None
    stdout = proc.stdout
    os.set_blocking(stdout.fileno(), False)

    def read() -> bytes:
        select.select([stdout], [], [], 0.5)
        return stdout.read() or b""

    seen: list[str] = []
    read_until(read, seen, has_service_line, timeout=240)
    interrupt(proc)
    seen.append((stdout.read() or b"").decode())
    records = [json.loads(line) for line in log_lines_after_follow("".join(seen))]
    assert {record["service"] for record in records} == set(SERVICES)
    assert "relay.active" in {record["event"] for record in records}
