"""Creating and checking the contract's topics."""

from __future__ import annotations

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.topics import contract_topics


async def ensure_topics(
    bootstrap: str,
    *,
    partitions: int,
    replication: int,
    extra: tuple[str, ...] = (),
    options: dict[str, object] | None = None,
) -> list[str]:
    """Create every contract topic that is missing; return the ones created. Existing topics are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **(options or {}))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [topic for topic in (*contract_topics(), *extra) if topic not in existing]
        if wanted:
            await admin.create_topics(
                [NewTopic(name=topic, num_partitions=partitions, replication_factor=replication) for topic in wanted]
            )
        return wanted
    finally:
        await admin.close()


async def describe_topics(bootstrap: str, options: dict[str, object] | None = None) -> dict[str, int]:
    """Partitions per contract topic; a missing topic shows as 0."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **(options or {}))
    await admin.start()
    try:
        found = {
            description["topic"]: len(description["partitions"])
            for description in await admin.describe_topics(list(contract_topics()))
            if description.get("error_code", 0) == 0
        }
        return {topic: found.get(topic, 0) for topic in contract_topics()}
    finally:
        await admin.close()


async def topic_partitions(
    bootstrap: str, topics: list[str], options: dict[str, object] | None = None
) -> list[TopicPartition]:
    """Every partition of the topics that exist, asked of the cluster (a fresh consumer knows none yet)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **(options or {}))
    await admin.start()
    try:
        return [
            TopicPartition(description["topic"], partition["partition"])
            for description in await admin.describe_topics(topics)
            if description.get("error_code", 0) == 0
            for partition in description["partitions"]
        ]
    finally:
        await admin.close()
