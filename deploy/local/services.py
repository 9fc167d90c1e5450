"""The three services as local processes: `up` (background), `down`, `run` (foreground, Ctrl-C stops all)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from deploy.local import host, infra
from deploy.local import kafka as local_kafka
from deploy.local import postgres as local_postgres
from devkit.processes import ServiceProcess, ServiceProcessError
from devkit.system import System
from shared.cli.report_lookups import LOCAL_LOOKUP_TOKEN
from shared.lookups import token_hash
from shared.topics import SERVICES

LOGS = host.LOCAL_DIR / "logs"
PORTS = {"applications": 8081, "workshops": 8082, "funding": 8083}
READY_TIMEOUT_S = 90.0
LOG_POLL_S = 0.2


def service_process(service: str, settings: dict[str, str] | None = None) -> ServiceProcess:
    """The service's process, running or not: its pid file lets `down` find what `up` started.

    Settings already in the environment win over `settings`, as they would for a service
    started by hand; so does its HTTP port, `<SERVICE>_HTTP_PORT`, else the one in PORTS.
    """
    prefix = f"{service.upper()}_"
    return ServiceProcess(
        module=service,
        prefix=prefix,
        env={name: value for name, value in (settings or {}).items() if name not in os.environ},
        http_port=int(os.environ.get(f"{prefix}HTTP_PORT", PORTS[service])),
        name=service,
        log_file=LOGS / f"{service}.log",
        pid_file=host.RUN_DIR / f"{service}.pid",
        own_session=True,  # Ctrl-C reaches `run`, which then stops each service cleanly
    )


async def prepare() -> System:
    """Kafka, Postgres, topics, roles, schemas and migrations: everything the services need before they start."""
    dsns = {s: os.environ[f"{s.upper()}_DATABASE_DSN"] for s in SERVICES if f"{s.upper()}_DATABASE_DSN" in os.environ}
    system = System(local_kafka.ensure_kafka(), local_postgres.ensure_postgres(), dsns=dsns)
    partitions = int(os.environ.get("PROGRAMME_TOPIC_PARTITIONS", "6"))
    created = await system.prepare(services=SERVICES, partitions=partitions)
    print(f"topics: {len(created)} created, all contract topics present; roles, schemas and migrations ready")
    return system


def start_missing(system: System, log_format: str = "json") -> list[ServiceProcess]:
    """Every service's process, started unless it already runs; its log lines JSON unless told otherwise."""
    processes = []
    for service in SERVICES:
        settings = {
            f"{service.upper()}_DATABASE_DSN": system.dsn(service),
            f"{service.upper()}_KAFKA_BOOTSTRAP_SERVERS": system.kafka_bootstrap,
            f"{service.upper()}_LOG_FORMAT": log_format,
            # Local development's well-known look-up token, which `programme report` uses there by default.
            f"{service.upper()}_LOOKUP_TOKEN_SHA256": token_hash(LOCAL_LOOKUP_TOKEN),
        }
        proc = service_process(service, settings)
        if proc.pid is None:
            proc.start()
        processes.append(proc)
    return processes


async def wait_ready(processes: list[ServiceProcess]) -> None:
    async def ready(proc: ServiceProcess) -> None:
        await proc.wait_ready(READY_TIMEOUT_S)
        print(f"{proc.name:13} ready   {proc.url}")

    try:
        await asyncio.gather(*(ready(proc) for proc in processes))
    except ServiceProcessError as exc:
        raise SystemExit(f"{exc}\n(logs in {LOGS})") from exc


def print_endpoints(system: System, processes: list[ServiceProcess]) -> None:
    print("\nThe programme is running:")
    for proc in processes:
        base = proc.url
        print(f"  {proc.name:13} health {base}/health/ready  metrics {base}/metrics  AsyncAPI {base}/docs/asyncapi")
    print(f"  Kafka {system.kafka_bootstrap}   Postgres {system.admin_dsn}")
    print(f"  logs in {LOGS}")


async def up() -> None:
    system = await prepare()
    processes = start_missing(system)
    await wait_ready(processes)
    print_endpoints(system, processes)


def down() -> None:
    for service in SERVICES:
        proc = service_process(service)
        running = proc.pid is not None
        proc.stop()
        if running:
            print(f"{service} stopped")
    infra.down()


class LogFollower:
    """Prints what a log file gains from now on: `make run` shows the services' lines as they write them."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = path.stat().st_size if path.exists() else 0
        self._partial = b""

    def pump(self) -> None:
        if not self._path.exists():
            return
        if self._path.stat().st_size < self._offset:  # removed and written anew: start from its beginning
            self._offset, self._partial = 0, b""
        with self._path.open("rb") as log:
            log.seek(self._offset)
            gained = log.read()
        self._offset += len(gained)
        # Only whole lines: a service may be halfway through writing one.
        *lines, self._partial = (self._partial + gained).split(b"\n")
        for line in lines:
            sys.stdout.write(line.decode("utf-8", "replace") + "\n")
        sys.stdout.flush()


def run_log_format() -> str:
    """Readable lines for a person at a terminal; JSON lines, one object each, for a pipe or a file."""
    return "console" if sys.stdout.isatty() else "json"


async def run() -> None:
    kafka_was_running = local_kafka.kafka_running()
    pg_was_running = local_postgres.postgres_running()
    system = await prepare()
    followers = [LogFollower(service_process(service).log_path) for service in SERVICES]
    processes = start_missing(system, log_format=run_log_format())
    try:
        await wait_ready(processes)
        print_endpoints(system, processes)
        print("\nCtrl-C stops everything. The services' logs follow.\n", flush=True)
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopped.set)
        while not stopped.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopped.wait(), LOG_POLL_S)
            for follower in followers:
                follower.pump()
            for proc in processes:
                if proc.pid is None and not stopped.is_set():
                    print(f"{proc.name} exited; see {proc.log_path}")
                    stopped.set()
    finally:
        print("\nstopping ...")
        for proc in processes:
            proc.stop()
        for follower in followers:  # their last lines, the shutdown's
            follower.pump()
        if not kafka_was_running:
            local_kafka.stop_kafka()
        if not pg_was_running:
            local_postgres.stop_postgres()


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
