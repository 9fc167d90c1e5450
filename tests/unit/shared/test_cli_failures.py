"""The CLI's line for each expected failure, including those no local broker can stage (SASL refusals)."""

from __future__ import annotations

import logging

import asyncpg
import pytest
from aiokafka import errors as kafka_errors

from shared.cli.failures import BAD_INPUT, UNREACHABLE, echo_library_lines, explain, library_lines

BROKER = "kafka.example:9093"


def test_a_sasl_refusal_names_the_credentials_to_check() -> None:
    failure = explain(kafka_errors.SaslAuthenticationFailed("bad password"), kafka=BROKER)
    assert failure is not None
    assert failure.exit_code == UNREACHABLE
    assert failure.message.startswith(f"Kafka at {BROKER} refused us (")
    assert "PROGRAMME_KAFKA_SASL_USERNAME, _SASL_PASSWORD" in failure.message


def test_an_unreachable_broker_quotes_the_librarys_reason() -> None:
    reason = 'Unable connect to "kafka.example:9093": SaslAuthenticationFailed'
    failure = explain(kafka_errors.KafkaConnectionError("Unable to bootstrap"), kafka=BROKER, reason=reason)
    assert failure is not None
    assert failure.exit_code == UNREACHABLE
    assert f"cannot reach Kafka at {BROKER} ({reason})" in failure.message


def test_an_unknown_topic_and_a_wrong_input_are_exit_2() -> None:
    topic = explain(kafka_errors.UnknownTopicOrPartitionError(), kafka=BROKER)
    assert topic is not None
    assert topic.exit_code == BAD_INPUT
    assert "`programme topics create`" in topic.message
    wrong = explain(ValueError("'x' is not a <service>.<Name>.v<N> type"), kafka=BROKER)
    assert wrong is not None
    assert (wrong.message, wrong.exit_code) == ("'x' is not a <service>.<Name>.v<N> type", BAD_INPUT)


def test_database_failures_name_the_dsn_to_check() -> None:
    refused = explain(asyncpg.InvalidPasswordError("password authentication failed"), kafka=BROKER)
    assert refused is not None
    assert refused.exit_code == UNREACHABLE
    assert "--admin-dsn or PROGRAMME_ADMIN_DSN" in refused.message
    slow = explain(TimeoutError(), kafka=BROKER)
    assert slow is not None
    assert slow.message.startswith("the database did not answer in time")


def test_a_fault_of_ours_keeps_its_traceback() -> None:
    assert explain(RuntimeError("a bug"), kafka=BROKER) is None
    assert explain(AttributeError("a bug"), kafka=BROKER) is None


def test_the_librarys_lines_are_held_not_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with library_lines() as held:
        logging.getLogger("aiokafka.conn").error('Unable connect to "%s": refused', "h:1")
    assert held.last == 'Unable connect to "h:1": refused'
    assert capsys.readouterr().err == ""
    assert logging.getLogger("aiokafka").propagate


def test_once_echoing_the_librarys_lines_are_printed_as_they_come(capsys: pytest.CaptureFixture[str]) -> None:
    with library_lines() as held:
        echo_library_lines()
        logging.getLogger("aiokafka.consumer").warning("Unable connect to node 1")
    assert held.last == "Unable connect to node 1"
    assert capsys.readouterr().err == "programme: aiokafka.consumer: Unable connect to node 1\n"
