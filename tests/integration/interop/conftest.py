"""Other systems' clients against the funding service: commands in both CloudEvents modes, answers read back.

The funding service's AllocateBudget is the probe: it needs nothing before it, and it answers
with `BudgetAllocated` or, for a negative amount, `CommandRejected`. Each test takes a programme
year of its own from a range the funding tests do not use.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from devkit.processes import ServiceProcess
from devkit.system import System

ALLOCATE = "funding.AllocateBudget.v1"
ALLOCATED = "funding.BudgetAllocated.v1"
REJECTED = "funding.CommandRejected.v1"
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

_taken: set[int] = set()


def fresh_year() -> int:
    """A programme year no other interoperability test used in this run (the funding tests keep to 3000-9000)."""
    while (year := random.randint(9100, 9999)) in _taken:
        continue
    _taken.add(year)
    return year


@pytest.fixture(scope="module")
async def funding(system: System) -> AsyncIterator[ServiceProcess]:
    proc = system.process("funding", RETRY_BACKOFF_MAX_S="0.5", HANDLER_MAX_ATTEMPTS="2")
    proc.start()
    await proc.wait_ready()
    yield proc
    proc.stop()
