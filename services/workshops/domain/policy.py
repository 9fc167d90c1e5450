"""What a deployment of the workshops service configures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

DEFAULT_TRAVEL_BUFFER: Final = timedelta(minutes=90)
DEFAULT_REMINDER_LEAD: Final = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Policy:
    """The programme's clusters, a facilitator's travel buffer, the reminder's lead, and what an invitation lists."""

    clusters: frozenset[str]
    travel_buffer: timedelta = DEFAULT_TRAVEL_BUFFER
    reminder_lead: timedelta = DEFAULT_REMINDER_LEAD
    invitation_horizon: timedelta = timedelta(days=180)
    invitation_max_workshops: int = 20
