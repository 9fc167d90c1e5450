"""Values at the edges, sent to the running services: each gets its refusal, none ends as a failure.

Before the bounds, funding's amount of 2^70 overflowed Postgres' bigint, a year 9999 with a
negative offset could not be moved to UTC and a NUL was refused by Postgres: each failed inside the
transaction, was retried and ended as a `processing_failed` dead letter without an answer. (The
applications domain bounded its budget lines already; the schema now does so for every amount.)
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from devkit.driver import Record, Sender, TopicLog
from devkit.ids import organisation_number
from devkit.payloads import allocate_budget, schedule_workshop, submit_application
from devkit.processes import ServiceProcess
from devkit.system import System

SERVICES = ("applications", "workshops", "funding")


@pytest.fixture(scope="module")
async def services(system: System) -> AsyncIterator[dict[str, ServiceProcess]]:
    async with system.running(SERVICES, RETRY_BACKOFF_MAX_S="0.5", HANDLER_MAX_ATTEMPTS="2") as procs:
        yield procs


async def refusal(
    sender: Sender, topic_log: TopicLog, service: str, ce_type: str, key: str, data: dict[str, Any]
) -> Record:
    """The one answer to the command: a refusal, and no dead letter of it."""
    ce_id = await sender.send(f"{service}.commands.v1", ce_type, key, data)
    [answer] = await topic_log.answer_to(ce_id, f"{service}.events.v1", timeout=60)
    assert answer.ce_type == f"{service}.CommandRejected.v1", answer.ce_type
    await topic_log.settle(0.5)  # a dead letter of it would be out by now
    return answer


def codes(answer: Record) -> list[tuple[str, str | None]]:
    return [(reason["code"], reason["field"]) for reason in answer.data["reasons"]]


def letters_of(topic_log: TopicLog, service: str, answer: Record) -> list[Record]:
    ce_id = answer.causation_id
    return topic_log.where(lambda r: r.topic == f"{service}.dlq.v1" and r.headers.get("ce_id") == ce_id)


async def test_an_amount_beyond_bigint_is_refused_as_invalid_amount(
    services: dict[str, ServiceProcess], sender: Sender, topic_log: TopicLog
) -> None:
    data = allocate_budget(2031, 2**70)
    answer = await refusal(sender, topic_log, "funding", "funding.AllocateBudget.v1", "budget-2031", data)
    assert codes(answer) == [("invalid_amount", "amount_nok")]
    assert letters_of(topic_log, "funding", answer) == []


async def test_budget_lines_beyond_bigint_are_refused_as_invalid_budget(
    services: dict[str, ServiceProcess], sender: Sender, topic_log: TopicLog
) -> None:
    # Positive and adding up: only their size is wrong.
    data = submit_application(organisation_number())
    data["budget"] = {"total_cost_nok": 2**71, "requested_nok": 2**70, "own_contribution_nok": 2**70}
    key = data["application_id"]
    answer = await refusal(sender, topic_log, "applications", "applications.SubmitApplication.v1", key, data)
    assert sorted(codes(answer)) == [
        ("invalid_budget", "budget.own_contribution_nok"),
        ("invalid_budget", "budget.requested_nok"),
        ("invalid_budget", "budget.total_cost_nok"),
    ]
    assert letters_of(topic_log, "applications", answer) == []


async def test_a_time_in_year_9999_with_a_negative_offset_is_refused_as_invalid_time(
    services: dict[str, ServiceProcess], sender: Sender, topic_log: TopicLog
) -> None:
    data = schedule_workshop()
    data["starts_at"] = "9999-12-31T20:00:00-05:00"
    data["ends_at"] = "9999-12-31T23:00:00-05:00"
    key = data["workshop_id"]
    answer = await refusal(sender, topic_log, "workshops", "workshops.ScheduleWorkshop.v1", key, data)
    assert sorted(codes(answer)) == [("invalid_time", "ends_at"), ("invalid_time", "starts_at")]
    assert letters_of(topic_log, "workshops", answer) == []


async def test_a_nul_in_text_is_malformed_and_dead_lettered_as_unreadable_not_as_a_failure(
    services: dict[str, ServiceProcess], sender: Sender, topic_log: TopicLog
) -> None:
    data = schedule_workshop(title="Why\x00before how")
    key = data["workshop_id"]
    answer = await refusal(sender, topic_log, "workshops", "workshops.ScheduleWorkshop.v1", key, data)
    [(code, _)] = codes(answer)
    assert code == "malformed"
    assert "text at title holds a NUL character" in json.dumps(answer.data["reasons"])
    [letter] = letters_of(topic_log, "workshops", answer)
    assert letter.headers["x-error-code"] == "schema_violation"
