"""Fail points: named spots where a test can make the process die at once, as a crash would.

Active points come from the service's ``FAILPOINTS`` setting (comma-separated names); in
production it is empty and each check is a set lookup.
"""

from __future__ import annotations

import os
import signal

_active: frozenset[str] = frozenset()


def activate(spec: str) -> None:
    global _active  # noqa: PLW0603 - process-wide by nature, like the signal it sends
    _active = frozenset(name.strip() for name in spec.split(",") if name.strip())


def reach(name: str) -> None:
    """Die with SIGKILL here if this point is active: no clean-up, no flush, like a power cut."""
    if name in _active:
        os.kill(os.getpid(), signal.SIGKILL)
