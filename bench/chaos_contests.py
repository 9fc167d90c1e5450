"""The contests of the chaos run: more demand than there is to give, so that a broken guard shows.

- Seats: small workshops, each asked for by more people than it has seats. Whatever faults
  strike, exactly ``capacity`` of them get a seat and the others wait in line.
- Facilitators: rounds of workshops sent at one moment that share one facilitator at
  overlapping times. Keyed by their own ids they land on different partitions, so two
  replicas decide them at once: exactly one of each round is scheduled, the others refused.

The budget's contest is the chains' own (``bench.chaos``): their decisions ask for more than
the run's budget holds.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bench.chain import Driver, Seen
from devkit import payloads
from devkit.ids import email
from shared.topics import WORKSHOPS_COMMANDS

SEAT_CAPACITY = 3
SEAT_DEMAND = 8  # people asking for each contested workshop's seats
ROUND_SIZE = 3  # workshops competing for one facilitator in a round
REGISTERED = "workshops.ParticipantRegistered.v1"
WAITLISTED = "workshops.ParticipantWaitlisted.v1"
SCHEDULED = "workshops.WorkshopScheduled.v1"
REJECTED = "workshops.CommandRejected.v1"


@dataclass
class Contests:
    """What was contested: the small workshops and who asked for them; the facilitator rounds."""

    seats: dict[str, list[str]] = field(default_factory=dict)  # workshop id -> registration ids asking
    rounds: list[list[str]] = field(default_factory=list)  # workshop ids competing for one facilitator

    async def open_seats(self, driver: Driver, count: int) -> None:
        """Schedule the small workshops (weeks ahead, so that registrations stay open through any run)."""
        starts_at = datetime.now(UTC) + timedelta(days=40)
        for _ in range(count):
            data = payloads.schedule_workshop(starts_at, capacity=SEAT_CAPACITY)
            self.seats[data["workshop_id"]] = []
            await driver.send(WORKSHOPS_COMMANDS, "workshops.ScheduleWorkshop.v1", data["workshop_id"], data)

    async def run(self, driver: Driver, *, rounds: int, duration: float) -> None:
        """Every seat contest and facilitator round, spread over ``duration`` seconds (while faults strike)."""
        steps = [
            *(self._ask_for_seats(driver, w) for w in self.seats),
            *(self._round(driver, i) for i in range(rounds)),
        ]
        started = time.monotonic()
        for i, step in enumerate(steps):
            await asyncio.sleep(max(0.0, started + i * duration / max(1, len(steps)) - time.monotonic()))
            await step
        await driver.flush()

    async def _ask_for_seats(self, driver: Driver, workshop_id: str) -> None:
        for _ in range(SEAT_DEMAND):
            data = payloads.register_participant(workshop_id, person=email("contender"))
            self.seats[workshop_id].append(data["registration_id"])
            await driver.send(WORKSHOPS_COMMANDS, "workshops.RegisterParticipant.v1", workshop_id, data)

    async def _round(self, driver: Driver, index: int) -> None:
        # A day of its own for each round (rounds never meet), one facilitator, overlapping hours.
        start = payloads.morning(60 + index)
        facilitator = email("shared-facilitator")
        workshops = [
            payloads.schedule_workshop(start + timedelta(minutes=30 * i), facilitators=[facilitator])
            for i in range(ROUND_SIZE)
        ]
        self.rounds.append([data["workshop_id"] for data in workshops])
        for data in workshops:
            await driver.send(WORKSHOPS_COMMANDS, "workshops.ScheduleWorkshop.v1", data["workshop_id"], data)

    def verdict(self, seen: list[Seen]) -> dict[str, int]:
        """Contests decided wrongly, read from the topics: a seat too many or too few, a round without one winner."""
        by_key: dict[tuple[str, str], set[str]] = {}
        for record in seen:
            by_key.setdefault((record.ce_type, record.key), set()).add(record.subject_id or record.key)
        seats_wrong = 0
        for workshop_id, asking in self.seats.items():
            seated = by_key.get((REGISTERED, workshop_id), set()) & set(asking)
            waiting = by_key.get((WAITLISTED, workshop_id), set()) & set(asking)
            if len(seated) != min(SEAT_CAPACITY, len(asking)) or seated & waiting or seated | waiting != set(asking):
                seats_wrong += 1
        rounds_wrong = 0
        for ids in self.rounds:
            scheduled = {w for w in ids if (SCHEDULED, w) in by_key}
            refused = {w for w in ids if (REJECTED, w) in by_key}
            if len(scheduled) != 1 or scheduled & refused or scheduled | refused != set(ids):
                rounds_wrong += 1
        return {
            "seat_contests": len(self.seats),
            "seat_contests_wrong": seats_wrong,
            "facilitator_rounds": len(self.rounds),
            "facilitator_rounds_wrong": rounds_wrong,
        }
