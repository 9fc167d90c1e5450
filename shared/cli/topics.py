"""Creating and checking the contract's topics, with the configs `shared.topic_config` gives each kind."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import for_code

from shared.topic_config import TopicSettings
from shared.topics import contract_topics

_TOPIC_ALREADY_EXISTS = 36
_DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs' config_source of a value set on the topic


@dataclass(frozen=True)
class TopicState:
    """One topic as the cluster has it, beside what the settings want."""

    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str]
    wanted: dict[str, str]
    # Every config set on the topic itself (not inherited from the broker), ours or an operator's.
    overrides: dict[str, str]

    @property
    def missing(self) -> bool:
        return self.partitions == 0

    def differences(self, settings: TopicSettings) -> list[str]:
        """What differs from the settings, as `name: found (wanted ...)`; empty when the topic is as wanted."""
        if self.missing:
            return ["missing"]
        found = {
            "partitions": str(self.partitions),
            "replication.factor": str(self.replication_factor),
            **self.configs,
        }
        wanted = {
            "partitions": str(settings.partitions),
            "replication.factor": str(settings.replication_factor),
            **self.wanted,
        }
        return [
            f"{name}={found.get(name)} (wanted {value})" for name, value in wanted.items() if found.get(name) != value
        ]


@contextlib.asynccontextmanager
async def _admin(bootstrap: str, options: dict[str, object] | None) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **(options or {}))
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def ensure_topics(
    bootstrap: str,
    *,
    settings: TopicSettings,
    extra: tuple[str, ...] = (),
    options: dict[str, object] | None = None,
) -> list[str]:
    """Create every contract topic that is missing; return the ones created. Existing topics are left as they are."""
    async with _admin(bootstrap, options) as admin:
        existing = set(await admin.list_topics())
        wanted = [topic for topic in (*contract_topics(), *extra) if topic not in existing]
        if wanted:
            response = await admin.create_topics(
                [
                    NewTopic(
                        name=topic,
                        num_partitions=settings.partitions,
                        replication_factor=settings.replication_factor,
                        topic_configs=settings.configs(topic),
                    )
                    for topic in wanted
                ]
            )
            _raise_on_errors(response.to_object()["topic_errors"])
        return wanted


def _raise_on_errors(errors: list[dict[str, object]]) -> None:
    for error in errors:
        code = int(str(error["error_code"]))
        # Another init step created it at the same moment: there it is.
        if code not in {0, _TOPIC_ALREADY_EXISTS}:
            message = error.get("error_message") or for_code(code).__name__
            msg = f"topic {error['topic']} was not created: {message}"
            raise RuntimeError(msg)


async def describe_topics(
    bootstrap: str,
    settings: TopicSettings,
    options: dict[str, object] | None = None,
    topics: tuple[str, ...] | None = None,
) -> list[TopicState]:
    """Each topic (default: the contract's) with its partitions, replicas and configs; missing ones too."""
    async with _admin(bootstrap, options) as admin:
        return await _describe(admin, settings, topics or contract_topics())


async def align_topics(
    bootstrap: str,
    settings: TopicSettings,
    options: dict[str, object] | None = None,
    topics: tuple[str, ...] | None = None,
) -> list[str]:
    """Give each existing topic whose configs differ the wanted ones, keeping its other topic-level overrides.

    Partitions and replicas are not changed: more partitions move keys, fewer are impossible.
    """
    async with _admin(bootstrap, options) as admin:
        differing = [
            state
            for state in await _describe(admin, settings, topics or contract_topics())
            if not state.missing and state.configs != state.wanted
        ]
        if differing:
            # AlterConfigs replaces a topic's whole set of overrides: send the ones it has too.
            resources = [
                ConfigResource(ConfigResourceType.TOPIC, state.name, {**state.overrides, **state.wanted})
                for state in differing
            ]
            for response in await admin.alter_configs(resources):
                for resource in response.to_object()["resources"]:
                    if resource["error_code"]:
                        reason = resource["error_message"] or for_code(resource["error_code"]).__name__
                        msg = f"topic {resource['resource_name']} was not changed: {reason}"
                        raise RuntimeError(msg)
        return [state.name for state in differing]


async def _describe(admin: AIOKafkaAdminClient, settings: TopicSettings, topics: tuple[str, ...]) -> list[TopicState]:
    found = {
        description["topic"]: description["partitions"]
        for description in await admin.describe_topics(list(topics))
        if description.get("error_code", 0) == 0
    }
    present = [topic for topic in topics if found.get(topic)]
    entries = await _config_entries(admin, present) if present else {}
    states = []
    for topic in topics:
        wanted = settings.configs(topic)
        topic_entries = entries.get(topic, [])
        states.append(
            TopicState(
                name=topic,
                partitions=len(found.get(topic, [])),
                replication_factor=min((len(p["replicas"]) for p in found.get(topic, [])), default=0),
                configs={e["config_names"]: e["config_value"] for e in topic_entries if e["config_names"] in wanted},
                wanted=wanted,
                overrides={
                    e["config_names"]: e["config_value"]
                    for e in topic_entries
                    if e["config_source"] == _DYNAMIC_TOPIC_CONFIG
                },
            )
        )
    return states


async def _config_entries(admin: AIOKafkaAdminClient, topics: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every config of each topic, with where its value comes from."""
    resources = [ConfigResource(ConfigResourceType.TOPIC, topic) for topic in topics]
    entries: dict[str, list[dict[str, Any]]] = {}
    for response in await admin.describe_configs(resources):
        for resource in response.to_object()["resources"]:
            entries[resource["resource_name"]] = resource["config_entries"]
    return entries


async def topic_partitions(
    bootstrap: str, topics: list[str], options: dict[str, object] | None = None
) -> list[TopicPartition]:
    """Every partition of the topics that exist, asked of the cluster (a fresh consumer knows none yet)."""
    async with _admin(bootstrap, options) as admin:
        return [
            TopicPartition(description["topic"], partition["partition"])
            for description in await admin.describe_topics(topics)
            if description.get("error_code", 0) == 0
            for partition in description["partitions"]
        ]
