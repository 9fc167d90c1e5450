"""Bounded exponential backoff with jitter, for passing faults."""

from __future__ import annotations

import asyncio
import random

from structlog.typing import FilteringBoundLogger


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
