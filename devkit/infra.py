"""Find or start the Kafka broker and PostgreSQL server that integration tests run against.

Order: (a) both ``KAFKA_BOOTSTRAP_SERVERS`` and ``PROGRAMME_ADMIN_DSN`` set: use them as they
are; (b) a Docker engine answers: start containers with testcontainers; (c) otherwise start
Kafka from Apache's jars and Debian's PostgreSQL with ``deploy.local.kafka`` and
``deploy.local.postgres``. Whatever this module started, :meth:`Infrastructure.close` stops,
and nothing else. ``Infrastructure.database`` stops and starts the database for outage tests in
(b) and (c); in (a) it is None, and :data:`CANNOT_STOP_GIVEN_DATABASE` says why.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from deploy.local import kafka as local_kafka
from deploy.local import postgres as local_postgres

Origin = Literal["environment", "testcontainers", "local"]

KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS"
DSN_ENV = "PROGRAMME_ADMIN_DSN"
# The Confluent image is what testcontainers' KafkaContainer knows how to boot (KRaft >= 7.0).
KAFKA_IMAGE = os.environ.get("PROGRAMME_KAFKA_IMAGE", "confluentinc/cp-kafka:7.9.0")
POSTGRES_IMAGE = os.environ.get("PROGRAMME_POSTGRES_IMAGE", "postgres:15")


@dataclass(frozen=True)
class DatabaseControl:
    """Stopping and starting again the PostgreSQL server of this run, for tests of an outage."""

    stop: Callable[[], object]
    start: Callable[[], object]


# Why a run given its endpoints cannot stop the database: it is someone else's server.
CANNOT_STOP_GIVEN_DATABASE = (
    f"the database came from {DSN_ENV} and {KAFKA_ENV}: this run did not start it and cannot stop it; "
    "unset them to let the tests start their own (locally or with testcontainers)"
)


@dataclass(frozen=True)
class Infrastructure:
    """Where tests reach Kafka and PostgreSQL, and how to give back what was started."""

    kafka_bootstrap: str
    admin_dsn: str
    origin: Origin
    # None when the database is not this run's to stop (endpoints from the environment).
    database: DatabaseControl | None = None
    # Mutable on purpose inside the frozen object: close() empties it, so a second close is a no-op.
    _stoppers: list[Callable[[], object]] = field(default_factory=list, repr=False, compare=False)

    def close(self) -> None:
        """Stop what this object started, newest first; leave everything else running."""
        errors: list[BaseException] = []
        while self._stoppers:
            stop = self._stoppers.pop()
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 - stop the rest, then report
                errors.append(exc)
        if errors:
            raise errors[0]


def resolve_infrastructure() -> Infrastructure:
    """Return the infrastructure for this test run, starting it when nothing is given."""
    from_env = _from_environment()
    if from_env is not None:
        return from_env
    if _docker_answers():
        return _start_containers()
    return _start_local()


def _from_environment() -> Infrastructure | None:
    bootstrap = os.environ.get(KAFKA_ENV, "").strip()
    dsn = os.environ.get(DSN_ENV, "").strip()
    if bootstrap and dsn:
        return Infrastructure(bootstrap, dsn, "environment")
    return None


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415 - optional

        client = docker.from_env()
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - no client, no socket, no engine: all mean "no Docker"
        return False


def _start_containers() -> Infrastructure:
    # Imported here: testcontainers is only needed when a Docker engine is present.
    from testcontainers.community.kafka import (  # type: ignore[import-untyped,unused-ignore] # noqa: PLC0415
        KafkaContainer,
    )
    from testcontainers.community.postgres import (  # type: ignore[import-untyped,unused-ignore] # noqa: PLC0415
        PostgresContainer,
    )

    stoppers: list[Callable[[], object]] = []
    try:
        postgres: Any = (
            PostgresContainer(
                POSTGRES_IMAGE,
                username=local_postgres.PG_SUPERUSER,
                password=local_postgres.PG_PASSWORD,
                dbname=local_postgres.PG_DATABASE,
                driver=None,
            )
            .with_command("postgres -c max_connections=300")
            # A fixed host port: a container stopped and started again keeps it, so DSNs stay valid.
            .with_bind_ports(5432, _free_host_port())
        )
        postgres.start()
        stoppers.append(postgres.stop)
        kafka: Any = KafkaContainer(KAFKA_IMAGE).with_kraft()
        for name, value in _KAFKA_CONTAINER_SETTINGS.items():
            kafka.with_env(name, value)
        kafka.start()
        stoppers.append(kafka.stop)
        return Infrastructure(
            str(kafka.get_bootstrap_server()),
            str(postgres.get_connection_url(driver=None)),
            "testcontainers",
            DatabaseControl(stop=postgres.get_wrapped_container().stop, start=lambda: _start_container(postgres)),
            stoppers,
        )
    except BaseException:
        _stop_quietly(stoppers)
        raise


# The same broker behaviour the local broker has (deploy/local/kafka-server.properties.tmpl).
_KAFKA_CONTAINER_SETTINGS = {
    "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
    "KAFKA_NUM_PARTITIONS": "6",
    "KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS": "6",
    "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
    "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
    "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
}


def _start_local() -> Infrastructure:
    stoppers: list[Callable[[], object]] = []
    try:
        postgres = local_postgres.provide_postgres()
        if postgres.started:
            stoppers.append(local_postgres.stop_postgres)
        kafka = local_kafka.provide_kafka()
        if kafka.started:
            stoppers.append(local_kafka.stop_kafka)
    except BaseException:
        _stop_quietly(stoppers)
        raise
    control = DatabaseControl(stop=local_postgres.stop_postgres, start=local_postgres.start_postgres)
    return Infrastructure(kafka.address, postgres.address, "local", control, stoppers)


def _free_host_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_container(postgres: Any, timeout_s: float = 60.0) -> None:
    """Start the stopped container again and wait until its server accepts connections."""
    postgres.get_wrapped_container().start()
    deadline = time.monotonic() + timeout_s
    while (
        postgres.get_wrapped_container()
        .exec_run(["pg_isready", "-h", "127.0.0.1", "-U", local_postgres.PG_SUPERUSER])
        .exit_code
    ):
        if time.monotonic() > deadline:
            msg = f"the PostgreSQL container did not accept connections within {timeout_s:.0f}s of its start"
            raise TimeoutError(msg)
        time.sleep(0.5)


def _stop_quietly(stoppers: list[Callable[[], object]]) -> None:
    # Used on a failed start: the original error matters more than a failing clean-up.
    for stop in reversed(stoppers):
        with contextlib.suppress(Exception):
            stop()
