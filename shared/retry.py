"""Which failures are the record's and which pass, and bounded exponential backoff with jitter for those that pass."""

from __future__ import annotations

import asyncio
import random

import asyncpg
from aiokafka.errors import KafkaError
from asyncpg.exceptions._base import DataError as ClientDataError
from asyncpg.exceptions._base import InternalClientError
from pydantic import ValidationError
from structlog.typing import FilteringBoundLogger

# Failures caused by the values a record carries: the same record fails the same way every time.
# Data exceptions (SQLSTATE class 22: a number out of range, a NUL in text, a date out of range;
# asyncpg's refusal to encode a value), integrity violations (class 23) the domain did not map to
# a refusal, limits a value exceeds (class 54: a text too long for an index entry), a value Python
# cannot compute with (a year 9999 moved to another offset).
_RECORD_FAULTS = (
    ValidationError,
    asyncpg.DataError,
    ClientDataError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.ProgramLimitExceededError,
    OverflowError,
)
# Whatever the database, the broker or the network answers, and the clients' own state: faults of
# the surroundings, which pass once someone mends them.
_SURROUNDINGS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    InternalClientError,
    KafkaError,
    OSError,
    TimeoutError,
)


def is_record_fault(error: BaseException) -> bool:
    """True when what is wrong is the record itself: retrying cannot help, it is dead-lettered."""
    return isinstance(error, _RECORD_FAULTS)


def is_transient(error: BaseException) -> bool:
    """True for a fault that passes once its cause is mended: retried without limit, never dead-lettered.

    An allow-list of passing SQLSTATEs let every fault nobody had listed (a read-only node after a
    failover, a rotated password, a revoked privilege, a table a migration has not created yet)
    dead-letter every message. So it is the other way round: anything the database, the broker or
    the network answers passes unless it is the record's fault (:func:`is_record_fault`). Neither
    is an error our own code raises (a bug): retried a few times, then dead-lettered, to be
    replayed once the fix is deployed.
    """
    return isinstance(error, _SURROUNDINGS) and not is_record_fault(error)


class Backoff:
    def __init__(self, *, first_s: float = 0.1, max_s: float = 5.0) -> None:
        self._first_s = first_s
        self._max_s = max_s
        self.attempt = 0

    def reset(self) -> None:
        self.attempt = 0

    def next_delay(self) -> float:
        delay = min(self._max_s, self._first_s * 2.0**self.attempt)
        self.attempt += 1
        jitter = 0.5 + random.random() / 2  # noqa: S311 - jitter, not security
        return float(delay * jitter)

    async def wait(self, log: FilteringBoundLogger, event: str, error: BaseException) -> None:
        delay = self.next_delay()
        log.warning(
            event, error=type(error).__name__, detail=str(error)[:300], retry_in_s=round(delay, 3), attempt=self.attempt
        )
        await asyncio.sleep(delay)
