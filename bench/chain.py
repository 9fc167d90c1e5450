"""One application's whole life, driven through the running system as other systems would drive it.

A chain: register the applicant at a clarification workshop, submit an application with its
plan, confirm the management commitment, record attendance once the workshop has started,
decide the funding case once it is opened, and see the application approved. The driver
reacts to events, so many chains run at once; it records when each command was sent and when
its first answer came, and when each chain completed.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from devkit import payloads
from devkit.driver import Record, Sender, TopicLog
from devkit.ids import email, organisation_number
from shared.topics import (
    APPLICATIONS_COMMANDS,
    APPLICATIONS_EVENTS,
    FUNDING_COMMANDS,
    FUNDING_EVENTS,
    NOTIFICATIONS,
    SERVICES,
    WORKSHOPS_COMMANDS,
    WORKSHOPS_EVENTS,
    dlq_topic,
)

REQUESTED_NOK = 800_000
DLQ_TOPICS = tuple(dlq_topic(service) for service in SERVICES)
WATCHED = (APPLICATIONS_EVENTS, WORKSHOPS_EVENTS, FUNDING_EVENTS, NOTIFICATIONS, *DLQ_TOPICS)


@dataclass
class Chain:
    n: int
    application_id: str
    organisation_number: str
    workshop_id: str
    registration_id: str
    started: float = 0.0
    completed: float | None = None
    registered: bool = False
    failed: str | None = None


@dataclass
class Sent:
    ce_type: str
    at: float
    answered: float | None = None


@dataclass(frozen=True)
class Seen:
    """A record the driver saw: enough to check the invariants afterwards."""

    topic: str
    ce_type: str
    ce_id: str
    key: str
    subject_id: str  # the application, registration or notification the record is about


@dataclass
class Driver:
    bootstrap: str
    seed: int = 7
    chains: dict[str, Chain] = field(default_factory=dict)
    by_registration: dict[str, Chain] = field(default_factory=dict)
    sent: dict[str, Sent] = field(default_factory=dict)
    notifications: int = 0
    events_seen: dict[str, int] = field(default_factory=dict)
    workshops: list[tuple[str, datetime]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    on_complete: Callable[[Chain], None] | None = None
    # The ce_time of funding decisions (None: now): a run dates them in a programme year of its own.
    decided_at: datetime | None = None
    _sender: Sender | None = None
    _log: TopicLog | None = None
    _rng: random.Random = field(default_factory=random.Random)
    _pending: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        self._rng.seed(self.seed)
        self._sender = Sender(self.bootstrap, source="/bench/driver", linger_ms=2)
        await self._sender.start()
        self._log = TopicLog(self.bootstrap, WATCHED, on_record=self._seen)
        await self._log.start()

    async def stop(self) -> None:
        if self._log:
            await self._log.stop()
        await asyncio.gather(*self._pending, return_exceptions=True)
        if self._sender:
            await self._sender.stop()

    async def send(
        self, topic: str, ce_type: str, key: str, data: dict[str, Any], *, ce_time: datetime | None = None
    ) -> str:
        if self._sender is None:
            raise RuntimeError("the driver has not started")
        ce_id = str(uuid.uuid4())
        # Noted before it leaves: its answer may be read before enqueue returns.
        self.sent[ce_id] = Sent(ce_type, time.monotonic())
        return await self._sender.enqueue(topic, ce_type, key, data, ce_id=ce_id, time_=ce_time)

    async def flush(self) -> None:
        if self._sender is not None:
            await self._sender.flush()

    # set-up

    async def allocate_budget(self, amount: int, *, year: int | None = None) -> None:
        year = year or datetime.now(payloads.OSLO).year  # the programme year decisions will fall in
        data = payloads.allocate_budget(year, amount, source="bench")
        await self.send(FUNDING_COMMANDS, "funding.AllocateBudget.v1", f"budget-{year}", data)

    async def schedule_workshops(self, count: int, *, starts_in_s: float) -> None:
        starts_at = datetime.now(UTC) + timedelta(seconds=starts_in_s)
        for _ in range(count):
            workshop_id = str(uuid.uuid4())
            self.workshops.append((workshop_id, starts_at))
            # Seats for every chain, and open (not finished) for as long as a run lasts.
            data = payloads.schedule_workshop(
                starts_at, starts_at + timedelta(days=2), workshop_id=workshop_id, capacity=1000
            )
            await self.send(WORKSHOPS_COMMANDS, "workshops.ScheduleWorkshop.v1", workshop_id, data)

    # chains

    async def begin(self, n: int) -> Chain:
        workshop_id, _ = self.workshops[n % len(self.workshops)]
        chain = Chain(n, str(uuid.uuid4()), organisation_number(self._rng), workshop_id, str(uuid.uuid4()))
        chain.started = time.monotonic()
        self.chains[chain.application_id] = chain
        self.by_registration[chain.registration_id] = chain
        register = payloads.register_participant(
            workshop_id, registration_id=chain.registration_id, organisation=chain.organisation_number
        )
        await self.send(WORKSHOPS_COMMANDS, "workshops.RegisterParticipant.v1", workshop_id, register)
        submit = payloads.submit_application(
            chain.organisation_number,
            application_id=chain.application_id,
            how=payloads.PLAN,
            lead_cluster="nce-raufoss",
            partner_clusters=[],
        )
        # Each chain its own recipients: notifications are keyed by e-mail, spread over partitions as real ones are.
        submit["applicant"]["contact"]["email"] = email("applicant")
        submit["management_sponsor"]["email"] = email("ceo")
        await self.send(APPLICATIONS_COMMANDS, "applications.SubmitApplication.v1", chain.application_id, submit)
        confirm = payloads.confirm_management_commitment(chain.application_id)
        await self.send(
            APPLICATIONS_COMMANDS, "applications.ConfirmManagementCommitment.v1", chain.application_id, confirm
        )
        return chain

    @property
    def completed(self) -> list[Chain]:
        return [c for c in self.chains.values() if c.completed is not None]

    @property
    def failed(self) -> list[Chain]:
        return [c for c in self.chains.values() if c.failed is not None]

    async def wait_all(self, timeout: float, progress: Callable[[int, int], None] | None = None) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = len(self.completed) + len(self.failed)
            if progress:
                progress(done, len(self.chains))
            if done >= len(self.chains):
                return not self.failed
            await asyncio.sleep(0.1)
        return False

    def latencies_ms(self, since: float = 0.0) -> list[tuple[float, float]]:
        """(sent at, command-to-first-answer latency) for the commands sent since `since`."""
        return sorted(
            (s.at, (s.answered - s.at) * 1000) for s in self.sent.values() if s.answered is not None and s.at >= since
        )

    # reactions

    def _seen(self, record: Record) -> None:
        now = time.monotonic()
        ce_type, key = record.ce_type, record.key or ""
        if record.topic in DLQ_TOPICS:
            self.seen.append(Seen(record.topic, ce_type, record.ce_id, key, ""))
            return
        self.events_seen[ce_type] = self.events_seen.get(ce_type, 0) + 1
        data = record.data
        subject = str(data.get("notification_id") or data.get("registration_id") or data.get("application_id") or "")
        self.seen.append(Seen(record.topic, ce_type, record.ce_id, key, subject))
        if record.topic == NOTIFICATIONS:
            self.notifications += 1
            return
        cause = self.sent.get(record.causation_id or "")
        if cause is not None and cause.answered is None:
            cause.answered = now
        if ce_type.endswith(".CommandRejected.v1"):
            chain = self.chains.get(data.get("subject", "")) or self.by_registration.get(data.get("subject", ""))
            # A completed chain has nothing left to fail: a later refusal answers its follow-up (bench.chaos_payments).
            if chain is not None and chain.failed is None and chain.completed is None:
                chain.failed = f"{data.get('command_type')}: {data.get('reasons')}"
            return
        if ce_type == "workshops.ParticipantRegistered.v1":
            chain = self.by_registration.get(data.get("registration_id", ""))
            if chain is not None and not chain.registered:
                chain.registered = True
                self._later(self._attend(chain))
        elif ce_type == "funding.FundingCaseOpened.v1":
            chain = self.chains.get(data.get("application_id", ""))
            if chain is not None:
                self._later(self._decide(chain))
        elif ce_type == "applications.ApplicationApproved.v1":
            chain = self.chains.get(data.get("application_id", ""))
            if chain is not None and chain.completed is None:
                chain.completed = now
                if self.on_complete:
                    self.on_complete(chain)

    def _later(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._pending.append(task)
        task.add_done_callback(self._pending.remove)

    async def _attend(self, chain: Chain) -> None:
        starts_at = dict(self.workshops)[chain.workshop_id]
        wait = (starts_at - datetime.now(UTC)).total_seconds() + 0.05
        if wait > 0:
            await asyncio.sleep(wait)
        data = payloads.record_attendance(chain.workshop_id, [chain.registration_id])
        await self.send(WORKSHOPS_COMMANDS, "workshops.RecordAttendance.v1", chain.workshop_id, data)

    async def _decide(self, chain: Chain) -> None:
        data = payloads.decide_funding(chain.application_id, amount_nok=REQUESTED_NOK)
        await self.send(
            FUNDING_COMMANDS, "funding.DecideFunding.v1", chain.application_id, data, ce_time=self.decided_at
        )
