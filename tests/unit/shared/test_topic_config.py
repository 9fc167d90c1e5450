"""Topics keep what they promise: replicas a write needs, retention per kind, sizes with room for dead letters."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.topic_config import DLQ_HEADROOM_BYTES, TopicSettings, topic_kind
from shared.topics import contract_topics


@pytest.mark.parametrize(("replicas", "insync"), [(1, 1), (2, 1), (3, 2), (4, 3), (5, 3)])
def test_min_insync_replicas_is_a_majority_that_survives_one_broker_down(replicas: int, insync: int) -> None:
    settings = TopicSettings(replication_factor=replicas)
    assert settings.insync_replicas() == insync
    assert settings.configs("funding.events.v1")["min.insync.replicas"] == str(insync)


def test_every_contract_topic_has_a_kind() -> None:
    kinds = {topic: topic_kind(topic) for topic in contract_topics()}
    assert kinds["applications.commands.v1"] == "commands"
    assert kinds["workshops.events.v1"] == "events"
    assert kinds["programme.notifications.v1"] == "events"
    assert kinds["funding.dlq.v1"] == "dlq"


def test_events_and_commands_are_kept_for_ever_and_dead_letters_for_a_stated_time() -> None:
    settings = TopicSettings()
    for topic in ("applications.events.v1", "programme.notifications.v1", "funding.commands.v1"):
        assert settings.configs(topic)["retention.ms"] == "-1"
        assert settings.configs(topic)["retention.bytes"] == "-1"
    assert settings.configs("workshops.dlq.v1")["retention.ms"] == str(30 * 24 * 3600 * 1000)
    assert {settings.configs(topic)["cleanup.policy"] for topic in contract_topics()} == {"delete"}


def test_retention_is_configurable_per_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROGRAMME_TOPIC_EVENTS_RETENTION_MS", "31536000000")
    monkeypatch.setenv("PROGRAMME_TOPIC_DLQ_RETENTION_MS", "604800000")
    settings = TopicSettings()
    assert settings.configs("funding.events.v1")["retention.ms"] == "31536000000"
    assert settings.configs("funding.dlq.v1")["retention.ms"] == "604800000"
    assert settings.configs("funding.commands.v1")["retention.ms"] == "-1"


def test_a_dead_letter_of_the_largest_record_fits_its_dlq() -> None:
    settings = TopicSettings(max_message_bytes=2_000_000, dlq_max_message_bytes=2_000_000 + DLQ_HEADROOM_BYTES)
    assert settings.configs("funding.commands.v1")["max.message.bytes"] == "2000000"
    assert settings.configs("funding.dlq.v1")["max.message.bytes"] == str(2_000_000 + DLQ_HEADROOM_BYTES)
    with pytest.raises(ValidationError, match="DLQ_MAX_MESSAGE_BYTES must be at least"):
        TopicSettings(max_message_bytes=2_000_000)


def test_min_insync_replicas_above_the_replicas_is_refused() -> None:
    with pytest.raises(ValidationError, match="no write could succeed"):
        TopicSettings(replication_factor=1, min_insync_replicas=2)
