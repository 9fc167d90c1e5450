"""`programme topics`: topics created with their retention, replicas and sizes; differences shown and mended."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from devkit.system import System
from programme import SERVICES
from shared.cli.main import build_parser, run
from shared.cli.topics import describe_topics, ensure_topics
from shared.topic_config import TopicSettings

DLQ = "funding.dlq.v1"


async def programme(system: System, *argv: str) -> int:
    return await run(build_parser().parse_args(["--bootstrap-servers", system.kafka_bootstrap, *argv]), SERVICES)


@pytest.fixture
async def admin(system: System) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=system.kafka_bootstrap)
    await client.start()
    yield client
    await client.close()


async def test_topics_are_created_with_the_configs_of_their_kind(system: System, admin: AIOKafkaAdminClient) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    extra = (f"{prefix}.commands.v1", f"{prefix}.events.v1", f"{prefix}.dlq.v1")
    settings = TopicSettings(partitions=3, replication_factor=1, dlq_retention_ms=7 * 24 * 3600 * 1000)
    try:
        created = await ensure_topics(system.kafka_bootstrap, settings=settings, extra=extra)
        assert set(extra) <= set(created)
        states = {state.name: state for state in await describe_topics(system.kafka_bootstrap, settings, topics=extra)}
        for topic in extra:
            assert states[topic].partitions == 3
            assert states[topic].replication_factor == 1
            assert states[topic].configs == settings.configs(topic)
            assert states[topic].differences(settings) == []
        assert states[f"{prefix}.events.v1"].configs["retention.ms"] == "-1"
        assert states[f"{prefix}.dlq.v1"].configs["retention.ms"] == "604800000"
        assert int(states[f"{prefix}.dlq.v1"].configs["max.message.bytes"]) > int(
            states[f"{prefix}.commands.v1"].configs["max.message.bytes"]
        )
    finally:
        await admin.delete_topics(list(extra))


async def test_check_flags_a_topic_that_differs_and_fix_mends_it_keeping_other_overrides(
    system: System, admin: AIOKafkaAdminClient, capsys: pytest.CaptureFixture[str]
) -> None:
    wanted = TopicSettings().configs(DLQ)
    # Whatever this broker's topics were made with before, they are as wanted from here on.
    assert await programme(system, "topics", "check", "--fix") == 0
    assert "every topic as the settings want" in capsys.readouterr().out
    try:
        changed = {**wanted, "retention.ms": "86400000", "segment.ms": "3600000"}
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, DLQ, changed)])

        assert await programme(system, "topics", "check") == 1
        printed = capsys.readouterr().out
        assert f"{DLQ} " in printed
        assert f"retention.ms=86400000 (wanted {wanted['retention.ms']})" in printed
        assert "1 topic(s) missing or differing" in printed

        assert await programme(system, "topics", "check", "--fix") == 0
        assert f"configs set on 1 topic(s): {DLQ}" in capsys.readouterr().out
        [state] = await describe_topics(system.kafka_bootstrap, TopicSettings(), topics=(DLQ,))
        assert state.configs == wanted
        assert state.overrides["segment.ms"] == "3600000", "an operator's own override is kept"
    finally:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, DLQ, wanted)])
