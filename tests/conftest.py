"""Fixtures for every tier: real Kafka and Postgres (env, testcontainers or local), topics, services, logs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from devkit.driver import Sender, TopicLog
from devkit.infra import Infrastructure, resolve_infrastructure
from devkit.system import System
from shared.topics import contract_topics

PROBE_TOPICS = ("probe.commands.v1", "probe.events.v1", "probe.dlq.v1")


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[Infrastructure]:
    infra = resolve_infrastructure()
    try:
        yield infra
    finally:
        infra.close()


@pytest.fixture(scope="session")
async def system(infrastructure: Infrastructure) -> AsyncIterator[System]:
    system = System(kafka_bootstrap=infrastructure.kafka_bootstrap, admin_dsn=infrastructure.admin_dsn)
    await system.prepare(services=("applications", "workshops", "funding", "probe"), extra_topics=PROBE_TOPICS)
    try:
        yield system
    finally:
        system.stop_all()


@pytest.fixture(scope="session")
async def sender(system: System) -> AsyncIterator[Sender]:
    sender = Sender(system.kafka_bootstrap, source="/tests/portal")
    await sender.start()
    yield sender
    await sender.stop()


@pytest.fixture(scope="session")
async def topic_log(system: System) -> AsyncIterator[TopicLog]:
    log = TopicLog(system.kafka_bootstrap, (*contract_topics(), *PROBE_TOPICS))
    await log.start()
    yield log
    await log.stop()


@pytest.fixture(scope="session")
async def admin_db(system: System) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(system.admin_dsn, min_size=1, max_size=4)
    assert pool is not None
    yield pool
    await pool.close()
