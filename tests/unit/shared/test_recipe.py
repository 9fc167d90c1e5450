"""The recipe's shared parts on their own: an Outcome, its Notices, the Recorder that records one, a Route's reading."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from shared.cause import Cause
from shared.consumer import Route
from shared.contract import applications, funding
from shared.contract.applications import ApplicationWithdrawn, WithdrawApplication
from shared.contract.base import NotificationRequested, Reason
from shared.db import Connection
from shared.envelope import Envelope
from shared.outbox import Recorder
from shared.outcome import Notice, Outcome, refusal

AT = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
APPLICATION = uuid.uuid4()


def recorder(seed: str = "applications.commands.v1/c-1", command_type: str | None = None) -> Recorder:
    return Recorder(
        service="applications",
        events_topic="applications.events.v1",
        seed=seed,
        time=AT,
        correlation_id="chain-1",
        causation_id="c-1",
        subject=str(APPLICATION),
        command_type=command_type,
    )


def declined_notice(**params: Any) -> Notice:
    return Notice(
        applications.DECLINED,
        about=str(APPLICATION),
        params={"application_id": str(APPLICATION), "title": "t", "reason": "r", **params},
        email="kari@example.no",
        fact=str(APPLICATION),
    )


def test_a_notice_carries_exactly_its_templates_params() -> None:
    assert declined_notice().params["reason"] == "r"
    with pytest.raises(ValueError, match=r"applications\.declined carries"):
        declined_notice(amount_nok=1)
    with pytest.raises(ValueError, match=r"applications\.declined carries"):
        Notice(applications.DECLINED, about="a", params={"application_id": "a"}, email="kari@example.no")


def test_a_notice_goes_to_an_e_mail_or_to_its_templates_staff_role_never_both() -> None:
    params = {"programme_year": 2027, "threshold": "low", "remaining_nok": 1, "total_nok": 10}
    Notice(funding.BUDGET_THRESHOLD, about="budget-2027", params=params)
    with pytest.raises(ValueError, match="exactly one"):
        Notice(funding.BUDGET_THRESHOLD, about="budget-2027", params=params, email="x@example.no")
    with pytest.raises(ValueError, match="exactly one"):
        Notice(applications.DECLINED, about="a", params=declined_notice().params)


def test_a_refusal_causes_no_event() -> None:
    withdrawn = ApplicationWithdrawn(application_id=APPLICATION, reason="r", status_before="submitted")
    with pytest.raises(ValueError, match="no events"):
        Outcome(messages=(withdrawn,), reasons=(Reason(code="x", message="m"),))


def test_the_recorder_records_an_outcome_in_its_order_under_ids_that_derive_from_the_cause() -> None:
    event = ApplicationWithdrawn(application_id=APPLICATION, reason="r", status_before="submitted")
    outcome: Outcome[None] = Outcome(None, (event, declined_notice()))
    first, again, other = recorder(), recorder(), recorder(seed="applications.commands.v1/c-2")
    for out in (first, again, other):
        out.record(outcome)
    assert [(row.topic, row.key, row.ce_type) for row in first.rows] == [
        ("applications.events.v1", str(APPLICATION), "applications.ApplicationWithdrawn.v1"),
        ("programme.notifications.v1", "kari@example.no", "programme.NotificationRequested.v1"),
    ]
    assert first.rows == again.rows  # the same cause records the same rows: a second recording is refused
    assert {row.event_id for row in first.rows}.isdisjoint(row.event_id for row in other.rows)
    notification = NotificationRequested.model_validate_json(first.rows[1].payload)
    assert notification.notification_id == first.derived_id(
        "notify", "applications.declined", "kari@example.no", str(APPLICATION)
    )
    assert (notification.audience, notification.recipient.role) == ("applicant", None)
    assert first.rows[0].headers["ce_causationid"] == "c-1"
    assert first.rows[0].headers["ce_correlationid"] == "chain-1"


def test_a_refused_outcome_records_the_commands_one_answer_first_then_its_notices() -> None:
    out = recorder(command_type=WithdrawApplication.ce_type)
    out.record(refusal(Reason(code="application_closed", message="m"), notices=(declined_notice(),)))
    assert out.rejected
    assert [row.ce_type for row in out.rows] == [
        "applications.CommandRejected.v1",
        "programme.NotificationRequested.v1",
    ]
    assert out.rows[0].key == str(APPLICATION)


async def _ignore(conn: Connection, data: Any, cause: Cause, out: Recorder) -> None:
    pass


def test_a_route_reads_another_services_event_tolerantly_and_a_command_strictly() -> None:
    event = {
        "application_id": str(APPLICATION),
        "reason": "r",
        "status_before": "submitted",
        "added_by_a_later_version": {"nested": True},
    }
    read = Route(ApplicationWithdrawn, _ignore).read(json.dumps(event).encode())
    assert isinstance(read, ApplicationWithdrawn)
    assert read.status_before == "submitted"
    command = {"application_id": str(APPLICATION), "reason": "r", "unknown": 1}
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Route(WithdrawApplication, _ignore).read(json.dumps(command).encode())


def test_a_cause_is_the_messages_envelope() -> None:

    envelope = Envelope("c-1", "/portal", "applications.WithdrawApplication.v1", AT, None, "chain-1", "p-0", "k")
    assert Cause.of(envelope) == Cause("c-1", AT, "/portal", "chain-1", "p-0")
