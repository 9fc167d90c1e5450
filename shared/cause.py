"""What a change comes from: a consumed message, or a scheduled fact come due; a use case gets it with its input."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.envelope import Envelope


@dataclass(frozen=True, slots=True)
class Cause:
    """The message's id (or the fact's name), its time, who sent it, and the chain it belongs to.

    ``at`` is the time a decision takes as now: a command's ``ce_time``, or when a scheduled
    fact was settled.
    """

    message_id: str
    at: datetime
    source: str
    correlation_id: str | None = None
    causation_id: str | None = None

    @classmethod
    def of(cls, envelope: Envelope) -> Cause:
        return cls(envelope.id, envelope.time, envelope.source, envelope.correlation_id, envelope.causation_id)
