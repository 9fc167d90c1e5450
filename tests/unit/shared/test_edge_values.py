"""Values at the edges, generated: every command reads them into what Postgres and Python can hold, or refuses them.

An amount beyond the bound is the amount rule's refusal, a time beyond the years the time rule's,
and text with a NUL character or a lone surrogate is malformed: never a value that would fail
inside a transaction (bigint overflow, a NUL Postgres rejects, a year moved past 9999).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from devkit.payloads import schedule_workshop, submit_application
from shared.contract.applications import ConfirmManagementCommitment, SubmitApplication
from shared.contract.base import (
    INVALID_AMOUNT,
    INVALID_BUDGET,
    INVALID_TIME,
    MAX_NOK,
    Command,
    read_rule_refusals,
)
from shared.contract.funding import AllocateBudget, DecideFunding
from shared.contract.workshops import RegisterParticipant, ScheduleWorkshop

BIGINT = 2**63 - 1
# Integers around every edge that matters: the bound, bigint, and far beyond.
huge_integers = st.one_of(
    st.integers(),
    st.integers(MAX_NOK - 2, MAX_NOK + 2),
    st.integers(BIGINT - 2, BIGINT + 2),
    st.sampled_from([2**70, -(2**70), -BIGINT - 1, 10**30]),
)
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda minutes: timezone(timedelta(minutes=minutes)))
far_times = st.builds(
    lambda moment, tz: moment.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),  # noqa: DTZ001 - offset added
    offsets,
) | st.sampled_from(
    [
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
        datetime(1, 1, 1, 0, 1, tzinfo=timezone(timedelta(hours=5))),
    ]
)
unstorable_text = st.builds(
    lambda before, bad, after: before + bad + after,
    st.text(max_size=20),
    st.sampled_from(["\x00", "\ud800", "\udfff"]),
    st.text(max_size=20),
)


def rule_codes(error: ValidationError) -> set[str]:
    return {reason.code for reason in read_rule_refusals(error)}


def read(model: type[Command], data: dict[str, Any]) -> Command:
    """As the consumer reads a command: from JSON bytes, strictly."""
    return model.model_validate_json(json.dumps(data))


def outcome(model: type[Command], data: dict[str, Any]) -> Command | ValidationError:
    """The command read, or why it was not."""
    try:
        return read(model, data)
    except ValidationError as error:
        return error


@settings(max_examples=300, deadline=None)
@given(amount=huge_integers)
def test_an_amount_is_within_bigint_or_refused_as_invalid_amount(amount: int) -> None:
    data = {"allocation_id": "0b0e4c9a-3c1e-4c2e-9d0a-1d6f5a1f6b10", "programme_year": 2031, "amount_nok": amount}
    command = outcome(AllocateBudget, {**data, "source": "s"})
    if isinstance(command, ValidationError):
        assert abs(amount) > MAX_NOK
        assert rule_codes(command) == {INVALID_AMOUNT}
    else:
        assert isinstance(command, AllocateBudget)
        assert abs(command.amount_nok) <= MAX_NOK < BIGINT


@settings(max_examples=200, deadline=None)
@given(amount=huge_integers)
def test_a_decision_amount_is_bounded_too(amount: int) -> None:
    data = {
        "application_id": "0b0e4c9a-3c1e-4c2e-9d0a-1d6f5a1f6b10",
        "outcome": "grant",
        "amount_nok": amount,
        "reason": "r",
        "decided_by": "d",
    }
    command = outcome(DecideFunding, data)
    if isinstance(command, ValidationError):
        assert rule_codes(command) == {INVALID_AMOUNT}
    else:
        assert abs(amount) <= MAX_NOK


@settings(max_examples=200, deadline=None)
@given(line=st.sampled_from(["total_cost_nok", "requested_nok", "own_contribution_nok"]), amount=huge_integers)
def test_a_budget_line_out_of_range_is_the_budget_rules_refusal(line: str, amount: int) -> None:
    payload = submit_application("974760673")
    payload["budget"][line] = amount
    command = outcome(SubmitApplication, payload)
    if isinstance(command, ValidationError):
        assert abs(amount) > MAX_NOK
        assert read_rule_refusals(command)[0].field == f"budget.{line}"
        assert rule_codes(command) == {INVALID_BUDGET}
    else:
        assert abs(amount) <= MAX_NOK


@settings(max_examples=300, deadline=None)
@given(start=far_times, hours=st.integers(1, 8))
def test_a_workshop_time_can_be_moved_to_utc_or_is_refused_as_invalid_time(start: datetime, hours: int) -> None:
    payload = schedule_workshop(datetime(2030, 1, 7, 9, tzinfo=UTC))
    payload["starts_at"] = start.isoformat()
    command = outcome(ScheduleWorkshop, payload)
    if isinstance(command, ValidationError):
        assert rule_codes(command) == {INVALID_TIME}
    else:
        assert isinstance(command, ScheduleWorkshop)
        # What the database and the domain do with it: to UTC and a few hours on.
        assert command.starts_at.astimezone(UTC) + timedelta(hours=hours) > command.starts_at - timedelta(days=1)


@settings(max_examples=200, deadline=None)
@given(at=far_times)
def test_a_confirmation_time_is_bounded_the_same_way(at: datetime) -> None:
    data = {"application_id": "0b0e4c9a-3c1e-4c2e-9d0a-1d6f5a1f6b10", "confirmed_by": {"name": "N", "role": "CEO"}}
    command = outcome(ConfirmManagementCommitment, {**data, "confirmed_at": at.isoformat()})
    if isinstance(command, ValidationError):
        assert rule_codes(command) == {INVALID_TIME}
    else:
        assert isinstance(command, ConfirmManagementCommitment)
        assert command.confirmed_at.astimezone(UTC).year <= 9999


@settings(max_examples=300, deadline=None)
@given(text=unstorable_text, where=st.sampled_from(["name", "organisation_number"]))
def test_text_postgres_cannot_store_is_malformed_wherever_it_is(text: str, where: str) -> None:
    participant = {"name": "N", "email": "n@example.no", where: text}
    data = {
        "workshop_id": "0b0e4c9a-3c1e-4c2e-9d0a-1d6f5a1f6b10",
        "registration_id": "1b0e4c9a-3c1e-4c2e-9d0a-1d6f5a1f6b10",
        "participant": participant,
    }
    with pytest.raises(ValidationError) as caught:
        RegisterParticipant.model_validate_json(json.dumps(data))
    # A schema refusal (malformed), not a rule's.
    assert read_rule_refusals(caught.value) == ()


@settings(max_examples=100, deadline=None)
@given(text=unstorable_text, where=st.sampled_from(["title", "why", "lead_cluster"]))
def test_nested_and_top_level_text_alike(text: str, where: str) -> None:
    payload = submit_application("974760673", **{where: text})
    with pytest.raises(ValidationError) as caught:
        read(SubmitApplication, payload)
    assert read_rule_refusals(caught.value) == ()
    if not any("\ud800" <= c <= "\udfff" for c in text):  # a lone surrogate is refused as invalid JSON already
        assert f"text at {where} holds a NUL character" in str(caught.value)


def test_text_without_them_is_read_as_sent() -> None:
    payload = submit_application("974760673", title="Tvilling \u00e6\u00f8\u00e5 \U0001f680 \t tab")
    command = read(SubmitApplication, payload)
    assert isinstance(command, SubmitApplication)
    assert command.title == payload["title"]
