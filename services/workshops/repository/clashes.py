"""Constraints that refuse a racing command, turned into refusals inside a savepoint."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Final

import asyncpg

from shared.db import Connection
from workshops.domain import calendar, registrations

# Constraints that refuse a racing command, and the rule each one stands for.
_CLASH_RULES: Final = {
    "venue_double_booked": calendar.VENUE_DOUBLE_BOOKED,
    "facilitator_double_booked": calendar.FACILITATOR_DOUBLE_BOOKED,
    "facilitator_travel_buffer": calendar.FACILITATOR_DOUBLE_BOOKED,
    "workshops_pkey": calendar.DUPLICATE_WORKSHOP,
    "already_registered": registrations.ALREADY_REGISTERED,
    "registrations_pkey": registrations.ALREADY_REGISTERED,
}


class Clash(Exception):  # noqa: N818 - a refusal found by the database, not an error of ours
    """A constraint refused a write that a racing command made impossible; ``code`` is the rule's refusal code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@contextlib.asynccontextmanager
async def refusing_clashes(conn: Connection) -> AsyncIterator[None]:
    """A savepoint: a rule's constraint violated inside it raises Clash and leaves the outer transaction usable.

    The database's message is dropped: its detail quotes the key, and keys hold e-mails.
    """
    try:
        async with conn.transaction():
            yield
    except (asyncpg.ExclusionViolationError, asyncpg.UniqueViolationError) as error:
        code = _CLASH_RULES.get(error.constraint_name or "")
        if code is None:
            raise
        raise Clash(code) from None
