"""asyncpg queries of the workshops service: plain functions (conn, *, ...) that never commit.

One module per subject; use cases call them through this package as ``repo``.
"""

from __future__ import annotations

from workshops.repository.clashes import Clash, refusing_clashes
from workshops.repository.registrations import (
    RegistrationFacts,
    add_registration,
    cancel_registration,
    erase,
    get_registration,
    has_clarification_attendance,
    lock_person,
    lock_registrations_of,
    promote,
    record_attendance,
    registration_facts,
    registrations_in,
    seat,
    waitlist,
)
from workshops.repository.reminders import (
    claim_reminder,
    due_reminders,
    plan_reminders,
    settle_reminder,
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
    "Clash",
    "RegistrationFacts",
    "add_registration",
    "book_facilitators",
    "cancel_registration",
    "cancel_workshop",
    "claim_reminder",
    "due_reminders",
    "erase",
    "get_registration",
    "get_workshop",
    "has_clarification_attendance",
    "insert_workshop",
    "lock_person",
    "lock_registrations_of",
    "move_workshop",
    "plan_reminders",
    "promote",
    "record_attendance",
    "refusing_clashes",
    "registration_facts",
    "registrations_in",
    "seat",
    "set_capacity",
    "settle_reminder",
    "surroundings",
    "upcoming_clarification_workshops",
    "waitlist",
    "withdraw_reminders",
    "workshop_exists",
]
