"""asyncpg queries of the workshops service: plain functions (conn, *, ...) that never commit.

One module per role; callers use them through this package as ``repo``.
"""

from __future__ import annotations

from workshops.repository.clashes import (
    Clash,
    refusing_clashes,
)
from workshops.repository.registrations import (
    Registration,
    add_registration,
    cancel_registration,
    email_is_registered,
    email_key,
    erase_person,
    forget_sent_messages_to,
    get_registration,
    has_clarification_attendance,
    known_registration_ids,
    promote,
    record_attendance,
    registration_exists,
    registrations_in,
    waitlist,
    waitlist_position,
)
from workshops.repository.reminders import (
    ClaimedReminder,
    DueReminder,
    claim_reminder,
    due_reminders,
    plan_reminders,
    withdraw_reminders,
)
from workshops.repository.schedule import (
    book_facilitators,
    cancel_workshop,
    get_workshop,
    insert_workshop,
    move_workshop,
    set_capacity,
    surroundings,
    upcoming_clarification_workshops,
    workshop_exists,
)

__all__ = [
    "ClaimedReminder",
    "Clash",
    "DueReminder",
    "Registration",
    "add_registration",
    "book_facilitators",
    "cancel_registration",
    "cancel_workshop",
    "claim_reminder",
    "due_reminders",
    "email_is_registered",
    "email_key",
    "erase_person",
    "forget_sent_messages_to",
    "get_registration",
    "get_workshop",
    "has_clarification_attendance",
    "insert_workshop",
    "known_registration_ids",
    "move_workshop",
    "plan_reminders",
    "promote",
    "record_attendance",
    "refusing_clashes",
    "registration_exists",
    "registrations_in",
    "set_capacity",
    "surroundings",
    "upcoming_clarification_workshops",
    "waitlist",
    "waitlist_position",
    "withdraw_reminders",
    "workshop_exists",
]
