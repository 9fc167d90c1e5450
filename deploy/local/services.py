"""The three services as local processes: `up` (background), `down`, `run` (foreground, Ctrl-C stops all)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from deploy.local import infra
from shared.cli import database, topics
from shared.topic_config import TopicSettings

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / ".local" / "run"
LOGS = ROOT / ".local" / "logs"
PORTS = {"applications": 8081, "workshops": 8082, "funding": 8083}
READY_TIMEOUT_S = 90.0


def _pid_file(service: str) -> Path:
    return RUN / f"{service}.pid"


def _running_pid(service: str) -> int | None:
    path = _pid_file(service)
    if not path.exists():
        return None
    pid = int(path.read_text().strip() or 0)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    return pid if service.encode() in cmdline else None


def _env(service: str, kafka: str, pg_port: int) -> dict[str, str]:
    prefix = f"{service.upper()}_"
    env = dict(os.environ)
    env.setdefault(f"{prefix}DATABASE_DSN", f"postgresql://{service}:{service}@127.0.0.1:{pg_port}/programme")
    env.setdefault(f"{prefix}KAFKA_BOOTSTRAP_SERVERS", kafka)
    env.setdefault(f"{prefix}HTTP_PORT", str(PORTS[service]))
    env.setdefault(f"{prefix}LOG_FORMAT", "json")
    return env


async def prepare() -> tuple[str, int]:
    """Kafka, Postgres, topics, roles, schemas and migrations: everything the services need before they start."""
    kafka = infra.ensure_kafka()
    admin_dsn = infra.ensure_postgres()
    pg_port = infra.pg_port()
    created = await topics.ensure_topics(kafka, settings=TopicSettings())
    print(f"topics: {len(created)} created, all contract topics present")
    for service in PORTS:
        for variable, role in (("DATABASE_DSN", service), ("MIGRATION_DSN", f"{service}_owner")):
            os.environ.setdefault(
                f"{service.upper()}_{variable}", f"postgresql://{role}:{role}@127.0.0.1:{pg_port}/programme"
            )
    await database.bootstrap_all(admin_dsn)
    applied = await database.migrate_all()
    print("migrations: " + ", ".join(f"{s} +{n}" for s, n in applied.items()))
    return kafka, pg_port


def start(service: str, kafka: str, pg_port: int) -> subprocess.Popen[bytes]:
    LOGS.mkdir(parents=True, exist_ok=True)
    RUN.mkdir(parents=True, exist_ok=True)
    log = (LOGS / f"{service}.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", service],
        cwd=ROOT,
        env=_env(service, kafka, pg_port),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _pid_file(service).write_text(str(process.pid))
    return process


async def wait_ready(services: list[str]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    pending = set(services)
    async with httpx.AsyncClient(timeout=2.0) as client:
        while pending:
            for service in sorted(pending):
                if _running_pid(service) is None:
                    raise SystemExit(f"{service} exited during start-up; see {LOGS / (service + '.log')}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"http://127.0.0.1:{PORTS[service]}/health/ready")).status_code == 200:
                        pending.discard(service)
                        print(f"{service:13} ready   http://127.0.0.1:{PORTS[service]}")
            if time.monotonic() > deadline:
                raise SystemExit(f"not ready within {READY_TIMEOUT_S:.0f}s: {', '.join(sorted(pending))}")
            await asyncio.sleep(0.3)


def stop(service: str) -> bool:
    pid = _running_pid(service)
    if pid is None:
        _pid_file(service).unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while _running_pid(service) is not None and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    if _running_pid(service) is not None:
        os.kill(pid, signal.SIGKILL)
    _pid_file(service).unlink(missing_ok=True)
    return True


def print_endpoints() -> None:
    print("\nThe programme is running:")
    for service, port in PORTS.items():
        base = f"http://127.0.0.1:{port}"
        print(f"  {service:13} health {base}/health/ready  metrics {base}/metrics  AsyncAPI {base}/docs/asyncapi")
    print(f"  Kafka {infra.kafka_bootstrap(infra.kafka_port())}   Postgres {infra.admin_dsn(infra.pg_port())}")
    print(f"  logs in {LOGS}")


async def up() -> None:
    kafka, pg_port = await prepare()
    wanted = [s for s in PORTS if _running_pid(s) is None]
    for service in wanted:
        start(service, kafka, pg_port)
    await wait_ready(list(PORTS))
    print_endpoints()


def down() -> None:
    for service in PORTS:
        if stop(service):
            print(f"{service} stopped")
    infra.main(["down"])


async def run() -> None:
    kafka_was_running = infra.kafka_running()
    pg_was_running = infra.postgres_running()
    kafka, pg_port = await prepare()
    for service in PORTS:
        if _running_pid(service) is None:
            start(service, kafka, pg_port)
    try:
        await wait_ready(list(PORTS))
        print_endpoints()
        print("\nCtrl-C stops everything.")
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopped.set)
        while not stopped.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopped.wait(), 1.0)
            for service in PORTS:
                if _running_pid(service) is None and not stopped.is_set():
                    print(f"{service} exited; see {LOGS / (service + '.log')}")
                    stopped.set()
    finally:
        print("\nstopping ...")
        for service in PORTS:
            stop(service)
        if not kafka_was_running:
            infra.stop_kafka()
        if not pg_was_running:
            infra.stop_postgres()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.services")
    parser.add_argument("action", choices=["up", "down", "run"])
    args = parser.parse_args(argv)
    if args.action == "up":
        asyncio.run(up())
    elif args.action == "down":
        down()
    else:
        asyncio.run(run())


if __name__ == "__main__":
    main()
