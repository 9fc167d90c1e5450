"""Time-driven work: every replica polls for what has come due and settles each item once, in its own transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from shared.cause import Cause
from shared.db import Connection, is_transient
from shared.logging import get_logger
from shared.outbox import Recorder
from shared.retry import Backoff
from shared.runtime import Runtime

log = get_logger(__name__)

DueT = TypeVar("DueT")


@dataclass(frozen=True)
class Job(Generic[DueT]):
    """What comes due with no message arriving (a reminder, a deadline), and the use case that settles it.

    ``due`` lists what is due now, at most the number it is given, by the database's clock so that
    every replica agrees. ``fact`` names one item: the ids of what settling it records derive from
    that name, so a second recording is refused by the outbox. ``settle`` is a use case like a
    message's, run in `Runtime.unit_of_work`: it claims the item (skipping one another replica
    holds, ``FOR UPDATE SKIP LOCKED``), decides and records, and says whether it had the item.
    Plans are rows of the service's own tables, so they survive restarts.
    """

    name: str
    due: Callable[[Connection, int], Awaitable[Sequence[DueT]]]
    fact: Callable[[DueT], str]
    settle: Callable[[Connection, DueT, Cause, Recorder], Awaitable[bool]]
    poll_interval_s: float = 1.0
    batch_size: int = 100


async def settle_due(runtime: Runtime, job: Job[DueT]) -> int:
    """Settle what is due now; returns how many items this replica settled."""
    async with runtime.pool.acquire() as conn:
        due = await job.due(conn, job.batch_size)
    settled = 0
    for item in due:
        async with runtime.unit_of_work(fact=job.fact(item)) as (conn, cause, out):
            settled += await job.settle(conn, item, cause, out)
    return settled


async def run(runtime: Runtime, job: Job[Any]) -> None:
    """The job's loop on this replica, until the service stops; faults are retried with backoff."""
    backoff = Backoff(max_s=runtime.settings.retry_backoff_max_s)
    while not runtime.is_stopping():
        try:
            settled = await settle_due(runtime, job)
        except Exception as error:
            if runtime.is_stopping():
                return
            if not is_transient(error):
                log.exception("job.failed", job=job.name)
            await backoff.wait(log, "job.retry_after_fault", error)
            continue
        backoff.reset()
        if settled < job.batch_size:
            await asyncio.sleep(job.poll_interval_s)
