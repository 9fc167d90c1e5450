"""The decisions on seats, attendance, erasure and reminders, on their own: what each records, and in what order."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from workshops.domain import registrations, reminders
from workshops.domain.calendar import Workshop
from workshops.domain.policy import Policy
from workshops.domain.registrations import Registration
from workshops.domain.reminders import DueReminder

from shared.contract.workshops import (
    ParticipantDataErased,
    ParticipantPromoted,
    ParticipantRegistered,
    ParticipantWaitlisted,
    RecordAttendance,
    RegisterParticipant,
    RegistrationCancelled,
)
from shared.outcome import Notice, Outcome
from tests.unit.workshops.test_scheduling_rules import workshop as scheduled

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
POLICY = Policy(clusters=frozenset({"nce-raufoss"}))


def workshop(**changes: Any) -> Workshop:
    """A clarification workshop a week ahead, two seats, none taken."""
    start = NOW + timedelta(days=7)
    return scheduled(**{"starts_at": start, "ends_at": start + timedelta(hours=6), **changes})


def registration(at: Workshop, status: registrations.Status = "waitlisted", **changes: Any) -> Registration:
    base = Registration(uuid.uuid4(), at.workshop_id, "Kari", f"{uuid.uuid4().hex}@example.no", None, status)
    return replace(base, **changes)


def register(at: Workshop | None, *, waitlisted: int = 0) -> Outcome[registrations.Seats]:
    command = RegisterParticipant(
        workshop_id=at.workshop_id if at else uuid.uuid4(),
        registration_id=uuid.uuid4(),
        participant={"name": "Kari", "email": "Kari@Example.no ", "organisation_number": "974760673"},
    )
    return registrations.register(
        at, command, email_taken=False, id_taken=False, waitlisted=waitlisted, now=NOW, policy=POLICY
    )


def kinds(messages: tuple[object, ...]) -> list[str]:
    return [m.template.name if isinstance(m, Notice) else type(m).__name__ for m in messages]


def test_one_person_compares_by_e_mail_whatever_its_case_and_spacing() -> None:
    assert registrations.email_key(" Kari@Example.NO ") == registrations.email_key("kari@example.no")


def test_a_free_seat_confirms_tells_the_person_and_plans_their_reminder() -> None:
    at = workshop()
    outcome = register(at)
    assert kinds(outcome.messages) == ["ParticipantRegistered", "workshops.registered"]
    seats = outcome.state
    assert seats is not None
    assert seats.registration is not None
    assert (seats.registration.status, seats.registration.confirmed_at) == ("confirmed", NOW)
    assert seats.workshop.seats_taken == 1
    [planned] = seats.reminders
    assert planned.due_at == at.starts_at - POLICY.reminder_lead
    assert isinstance(outcome.events[0], ParticipantRegistered)


def test_a_full_workshop_waitlists_at_the_next_position() -> None:
    outcome = register(workshop(seats_taken=2), waitlisted=3)
    [event] = outcome.events
    assert isinstance(event, ParticipantWaitlisted)
    assert event.position == 4
    [notice] = outcome.notices
    assert (notice.template.name, notice.params["position"]) == ("workshops.waitlisted", 4)
    assert outcome.state is not None
    assert outcome.state.reminders == ()


def test_freed_seats_promote_the_head_of_the_waitlist_in_order_and_an_erased_person_is_not_told() -> None:
    at = workshop(capacity=3, seats_taken=1)
    first, erased, third = registration(at), registration(at, erased=True), registration(at)
    outcome = registrations.fill_seats(at, [first, erased, third], now=NOW, policy=POLICY)
    assert kinds(outcome.messages) == [
        "ParticipantPromoted",
        "workshops.promoted",
        "ParticipantPromoted",
    ]
    assert [e.registration_id for e in outcome.events if isinstance(e, ParticipantPromoted)] == [
        first.registration_id,
        erased.registration_id,
    ]
    assert outcome.state is not None
    assert outcome.state.promoted == (first.registration_id, erased.registration_id)
    assert outcome.state.workshop.seats_taken == 3


@pytest.mark.parametrize(("finished", "promoted"), [(False, 1), (True, 0)])
def test_a_cancelled_seat_promotes_only_while_the_workshop_is_open(finished: bool, promoted: int) -> None:
    at = workshop(capacity=1, seats_taken=1)
    if finished:
        at = replace(at, starts_at=NOW - timedelta(days=2), ends_at=NOW - timedelta(days=1))
    seated, waiting = registration(at, "confirmed", confirmed_at=NOW), registration(at)
    outcome = registrations.cancel(at, seated, waitlist=[waiting], now=NOW, policy=POLICY)
    [cancelled, *rest] = outcome.events
    assert isinstance(cancelled, RegistrationCancelled)
    assert cancelled.previous_status == "confirmed"
    assert len(rest) == promoted
    assert outcome.state is not None
    assert outcome.state.registration is not None
    assert outcome.state.registration.status == "cancelled"


def test_cancelling_an_unknown_or_cancelled_registration_is_refused() -> None:
    at = workshop()
    assert [r.code for r in registrations.cancel(at, None, waitlist=[], now=NOW, policy=POLICY).reasons] == [
        "unknown_registration"
    ]
    gone = registration(at, "cancelled")
    assert registrations.cancel(at, gone, waitlist=[], now=NOW, policy=POLICY).refused


def test_attendance_is_new_only_for_a_confirmed_seat_not_yet_attended() -> None:
    at = workshop(starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=5))
    new = registration(at, "confirmed", confirmed_at=NOW - timedelta(days=1))
    already = replace(new, registration_id=uuid.uuid4(), attended_at=at.starts_at)
    waiting = registration(at)
    command = RecordAttendance(
        workshop_id=at.workshop_id, attended=[new.registration_id, already.registration_id, waiting.registration_id]
    )
    outcome = registrations.attend(at, command, listed=[new, already, waiting], now=NOW)
    assert outcome.state is not None
    assert outcome.state.registration_ids == (new.registration_id,)
    again = registrations.attend(at, command, listed=[replace(new, attended_at=at.starts_at), already], now=NOW)
    assert [r.code for r in again.reasons] == ["unknown_registration"]


def test_an_erasure_counts_the_registrations_and_is_keyed_by_its_own_id() -> None:
    at = workshop()
    erasure_id = uuid.uuid4()
    outcome = registrations.erase([registration(at), registration(at)], erasure_id=erasure_id)
    [event] = outcome.events
    assert isinstance(event, ParticipantDataErased)
    assert (event.registrations, event.record_key()) == (2, str(erasure_id))


@pytest.mark.parametrize(
    ("change", "sent"),
    [
        ({}, True),
        ({"status": "cancelled"}, False),
        ({"erased": True}, False),
        ({"cancelled": True}, False),
        ({"schedule_version": 2}, False),
    ],
)
def test_a_due_reminder_is_sent_only_while_it_still_stands(change: dict[str, Any], sent: bool) -> None:
    at = workshop(**{k: v for k, v in change.items() if k in {"cancelled", "schedule_version"}})
    person = replace(registration(at, "confirmed"), **{k: v for k, v in change.items() if k in {"status", "erased"}})
    due = DueReminder(person.registration_id, plan_version=1)
    outcome = reminders.settle(due, person, at)
    assert outcome.state == ("sent" if sent else "withdrawn")
    assert kinds(outcome.messages) == (["workshops.reminder"] if sent else [])
    assert due.fact == f"reminder/{person.registration_id}/1"


def test_no_reminder_when_confirmed_at_or_after_it_would_be_due() -> None:
    at = workshop()
    due_at = at.starts_at - POLICY.reminder_lead
    assert reminders.plan(at, [(uuid.uuid4(), due_at)], lead=POLICY.reminder_lead) == ()
    assert len(reminders.plan(at, [(uuid.uuid4(), due_at - timedelta(seconds=1))], lead=POLICY.reminder_lead)) == 1
