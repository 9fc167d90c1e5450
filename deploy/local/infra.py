"""Start and stop a real Kafka broker and a real PostgreSQL for local work, tests and CI.

No Docker engine is needed. Kafka (KRaft, one node) runs from Apache's jars on Maven Central,
fetched once into ``.cache/kafka/libs``; PostgreSQL runs from Debian's server binaries with a
data folder under ``.local/postgres``. Both listen on 127.0.0.1 only.

Command line::

    python -m deploy.local.infra up|down|status|env

`up` starts what is not running yet; `down` stops what this checkout started and nothing else.
Ports come from ``PROGRAMME_KAFKA_PORT`` / ``PROGRAMME_PG_PORT``, else 9092 (and 9093 for the
KRaft controller) and 55432. The Python API is in ``deploy.local.kafka`` and
``deploy.local.postgres``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from deploy.local import kafka, postgres
from deploy.local.host import InfraError, MissingPrerequisiteError, say


def _status_line(name: str, pid: int | None, port: int | None, answers: bool) -> str:
    if pid is None:
        return f"{name}: stopped"
    state = "answers" if answers else "NOT answering"
    return f"{name}: running, pid {pid}, 127.0.0.1:{port}, {state}"


def status_lines() -> list[str]:
    kafka_pid, pg_pid = kafka.kafka_pid(), postgres.postgres_pid()
    kafka_at, pg_at = kafka.running_kafka_port(), postgres.running_pg_port()
    kafka_ok = kafka_pid is not None and kafka_at is not None and kafka.kafka_answers(kafka.kafka_bootstrap(kafka_at))
    pg_ok = pg_pid is not None and pg_at is not None and postgres.pg_answers(pg_at)
    version = kafka.kafka_version() or "not fetched"
    return [
        _status_line(f"kafka ({version})", kafka_pid, kafka_at, kafka_ok),
        _status_line("postgres", pg_pid, pg_at, pg_ok),
    ]


def env_lines() -> list[str]:
    # A running component's own port wins over the environment it would be started with.
    kafka_at = (kafka.running_kafka_port() if kafka.kafka_running() else None) or kafka.kafka_port()
    pg_at = (postgres.running_pg_port() if postgres.postgres_running() else None) or postgres.pg_port()
    return [
        f"export KAFKA_BOOTSTRAP_SERVERS={kafka.kafka_bootstrap(kafka_at)}",
        f"export PROGRAMME_ADMIN_DSN={postgres.admin_dsn(pg_at)}",
    ]


def check_prerequisites() -> None:
    """Raise one error naming every missing tool, before anything is started."""
    problems: list[str] = []
    for check in (postgres.require_pg_binaries, postgres.pg_account, kafka.require_java):
        try:
            check()
        except MissingPrerequisiteError as exc:
            problems.append(str(exc))
    if not kafka.kafka_jars_fetched():
        try:
            kafka.require_maven()
        except MissingPrerequisiteError as exc:
            problems.append(str(exc))
    if problems:
        raise MissingPrerequisiteError("; ".join(problems))


def _up() -> None:
    started_at = time.monotonic()
    check_prerequisites()
    postgres.ensure_postgres()
    kafka.ensure_kafka()
    say(f"up in {time.monotonic() - started_at:.1f}s")
    print("\n".join(env_lines()))


def down() -> None:
    """Stop the broker and the server this checkout started; say so when neither was running."""
    stopped_kafka = kafka.stop_kafka()
    stopped_pg = postgres.stop_postgres()
    if not (stopped_kafka or stopped_pg):
        say("nothing was running")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.local.infra", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("up", "down", "status", "env"))
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "up":
            _up()
        elif arguments.command == "down":
            down()
        elif arguments.command == "status":
            print("\n".join(status_lines()))
        else:
            print("\n".join(env_lines()))
    except InfraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, MissingPrerequisiteError) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
