"""One application's whole life, driven through the running system as other systems would drive it.

A chain: register the applicant at a clarification workshop, submit an application with its
plan, confirm the management commitment, record attendance once the workshop has started,
decide the funding case once it is opened, and see the application approved. The driver
reacts to events, so many chains run at once; it records when each command was sent and when
its first answer came, and when each chain completed.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from devkit.ids import organisation_number
from shared.cli.messages import stop_consumer
from shared.cli.topics import topic_partitions
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


def submit_application(application_id: str, org: str, n: int, lead: str = "nce-raufoss") -> dict[str, Any]:
    return {
        "application_id": application_id,
        "applicant": {
            "organisation_number": org,
            "name": f"Bench Company {n} AS",
            "size": "small",
            "contact": {"name": f"Contact {n}", "email": f"applicant-{application_id[:8]}@bench.example"},
        },
        "lead_cluster": lead,
        "partner_clusters": [],
        "project_type": "company_project",
        "title": f"Digital twin for line {n}",
        "why": "Scrap rates are too high and nobody knows why: the line must be understood first.",
        "what": [{"objective": "Halve scrap", "indicator": "scrap rate", "target": "below 2 %"}],
        "how": "A digital twin of the machining line, built in three steps with the cluster.",
        "focus_areas": ["system_innovation", "digitalisation"],
        "budget": {"total_cost_nok": 2_000_000, "requested_nok": REQUESTED_NOK, "own_contribution_nok": 1_200_000},
        "period": {"start": "2027-01-01", "end": "2027-12-31"},
        "management_sponsor": {
            "name": f"Sponsor {n}",
            "role": "CEO",
            "email": f"ceo-{application_id[:8]}@bench.example",
        },
    }


def schedule_workshop(workshop_id: str, n: int, starts_at: datetime, *, capacity: int = 1000) -> dict[str, Any]:
    return {
        "workshop_id": workshop_id,
        "kind": "clarification",
        "title": f"Why before how ({n})",
        "hosting_cluster": "nce-raufoss",
        "location": {"town": "Raufoss", "venue": f"Bench hall {workshop_id[:8]}"},
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(days=2)).isoformat(),
        "capacity": capacity,
        "facilitators": [f"facilitator-{workshop_id[:8]}@bench.example"],
    }


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
    on_record: Callable[[str, dict[str, str], dict[str, Any]], None] | None = None
    _producer: AIOKafkaProducer | None = None
    _consumer: AIOKafkaConsumer | None = None
    _task: asyncio.Task[None] | None = None
    _rng: random.Random = field(default_factory=random.Random)
    _pending: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        self._rng.seed(self.seed)
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True, linger_ms=2
        )
        await self._producer.start()
        topics = [APPLICATIONS_EVENTS, WORKSHOPS_EVENTS, FUNDING_EVENTS, NOTIFICATIONS, *DLQ_TOPICS]
        partitions = await topic_partitions(self.bootstrap, topics)
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False)
        await self._consumer.start()
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for tp in partitions:
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._read())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await asyncio.gather(*self._pending, return_exceptions=True)
        if self._consumer:
            await stop_consumer(self._consumer)
        if self._producer:
            await self._producer.stop()

    async def send(
        self, topic: str, ce_type: str, key: str, data: dict[str, Any], *, ce_time: datetime | None = None
    ) -> str:
        assert self._producer is not None
        ce_id = str(uuid.uuid4())
        headers = {
            "ce_specversion": "1.0",
            "ce_id": ce_id,
            "ce_source": "/bench/driver",
            "ce_type": ce_type,
            "ce_time": (ce_time or datetime.now(UTC)).isoformat(),
            "content-type": "application/json",
        }
        self.sent[ce_id] = Sent(ce_type, time.monotonic())
        await self._producer.send(
            topic, json.dumps(data).encode(), key=key.encode(), headers=[(k, v.encode()) for k, v in headers.items()]
        )
        return ce_id

    async def flush(self) -> None:
        assert self._producer is not None
        await self._producer.flush()

    # set-up

    async def allocate_budget(self, amount: int) -> None:
        year = datetime.now(ZoneInfo("Europe/Oslo")).year  # the programme year decisions will fall in
        data = {"allocation_id": str(uuid.uuid4()), "programme_year": year, "amount_nok": amount, "source": "bench"}
        await self.send(FUNDING_COMMANDS, "funding.AllocateBudget.v1", f"budget-{year}", data)

    async def schedule_workshops(self, count: int, *, starts_in_s: float) -> None:
        starts_at = datetime.now(UTC) + timedelta(seconds=starts_in_s)
        for n in range(count):
            workshop_id = str(uuid.uuid4())
            self.workshops.append((workshop_id, starts_at))
            data = schedule_workshop(workshop_id, n, starts_at)
            await self.send(WORKSHOPS_COMMANDS, "workshops.ScheduleWorkshop.v1", workshop_id, data)

    # chains

    async def begin(self, n: int) -> Chain:
        workshop_id, _ = self.workshops[n % len(self.workshops)]
        chain = Chain(n, str(uuid.uuid4()), organisation_number(self._rng), workshop_id, str(uuid.uuid4()))
        chain.started = time.monotonic()
        self.chains[chain.application_id] = chain
        self.by_registration[chain.registration_id] = chain
        participant = {
            "name": f"Participant {n}",
            "email": f"participant-{chain.registration_id[:8]}@bench.example",
            "organisation_number": chain.organisation_number,
        }
        register = {"workshop_id": workshop_id, "registration_id": chain.registration_id, "participant": participant}
        await self.send(WORKSHOPS_COMMANDS, "workshops.RegisterParticipant.v1", workshop_id, register)
        submit = submit_application(chain.application_id, chain.organisation_number, n)
        await self.send(APPLICATIONS_COMMANDS, "applications.SubmitApplication.v1", chain.application_id, submit)
        confirm = {
            "application_id": chain.application_id,
            "confirmed_by": {"name": f"Sponsor {n}", "role": "CEO"},
            "confirmed_at": datetime.now(UTC).isoformat(),
        }
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

    async def _read(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            now = time.monotonic()
            for records in batches.values():
                for record in records:
                    self._seen(record, now)

    def _seen(self, record: Any, now: float) -> None:
        headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}
        ce_type = headers.get("ce_type", "")
        key = record.key.decode("utf-8", "replace") if record.key is not None else ""
        if record.topic in DLQ_TOPICS:
            self.seen.append(Seen(record.topic, ce_type, headers.get("ce_id", ""), key, ""))
            return
        self.events_seen[ce_type] = self.events_seen.get(ce_type, 0) + 1
        data = json.loads(record.value)
        subject = str(data.get("notification_id") or data.get("registration_id") or data.get("application_id") or "")
        self.seen.append(Seen(record.topic, ce_type, headers.get("ce_id", ""), key, subject))
        if self.on_record:
            self.on_record(record.topic, headers, data)
        if record.topic == NOTIFICATIONS:
            self.notifications += 1
            return
        cause = self.sent.get(headers.get("ce_causationid", ""))
        if cause is not None and cause.answered is None:
            cause.answered = now
        if ce_type.endswith(".CommandRejected.v1"):
            chain = self.chains.get(data.get("subject", "")) or self.by_registration.get(data.get("subject", ""))
            if chain is not None and chain.failed is None:
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
        data = {"workshop_id": chain.workshop_id, "attended": [chain.registration_id]}
        await self.send(WORKSHOPS_COMMANDS, "workshops.RecordAttendance.v1", chain.workshop_id, data)

    async def _decide(self, chain: Chain) -> None:
        data = {
            "application_id": chain.application_id,
            "outcome": "grant",
            "amount_nok": REQUESTED_NOK,
            "reason": "fits the programme's aims",
            "decided_by": "bench case handler",
        }
        await self.send(FUNDING_COMMANDS, "funding.DecideFunding.v1", chain.application_id, data)
