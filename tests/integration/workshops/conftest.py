"""The workshops service on real Kafka and Postgres: a process per module, commands sent as another system would."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from devkit.driver import Record, Sender, TopicLog, command_headers
from devkit.payloads import register_participant, schedule_workshop
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.lookups import token_hash
from shared.topics import NOTIFICATIONS, WORKSHOPS_COMMANDS, WORKSHOPS_EVENTS

DLQ = "workshops.dlq.v1"


def iso(at: datetime) -> str:
    return at.isoformat()


def workshops_process(system: System, **env: str) -> ServiceProcess:
    return system.process("workshops", RETRY_BACKOFF_MAX_S="0.5", REMINDER_POLL_INTERVAL_S="0.2", **env)


# The look-ups' bearer token: every module's service answers them (test_lookups, test_activity_lookup).
LOOKUP_TOKEN = "a-token-for-the-workshops-look-ups"  # noqa: S105 - a test token
LOOKUP_AUTH = {"Authorization": f"Bearer {LOOKUP_TOKEN}"}


@pytest.fixture(scope="module")
async def workshops_service(system: System) -> AsyncIterator[ServiceProcess]:
    proc = workshops_process(system, LOOKUP_TOKEN_SHA256=token_hash(LOOKUP_TOKEN))
    proc.start()
    await proc.wait_ready()
    yield proc
    proc.stop()


@pytest.fixture
async def http(workshops_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the service's look-ups (send `LOOKUP_AUTH` with each request)."""
    async with httpx.AsyncClient(base_url=workshops_service.url, timeout=10.0) as client:
        yield client


@dataclass
class Client:
    """Sends workshops commands and reads their answers on the events and notifications topics."""

    sender: Sender
    log: TopicLog

    async def send(self, name: str, data: dict[str, Any], *, key: str | None = None, at: datetime | None = None) -> str:
        key = key if key is not None else str(data["workshop_id"])
        return await self.sender.send(WORKSHOPS_COMMANDS, f"workshops.{name}.v1", key, data, time_=at)

    async def send_to(self, partition: int, name: str, key: str, data: dict[str, Any]) -> str:
        """Send a command to this partition of the commands topic, whatever its key hashes to (as another
        partitioner would): two commands on one partition are read in order, on two by two consumers."""
        headers = command_headers(f"workshops.{name}.v1")
        await self.sender._producer.send_and_wait(
            WORKSHOPS_COMMANDS,
            value=json.dumps(data).encode(),
            key=key.encode(),
            headers=[(k, v.encode()) for k, v in headers.items()],
            partition=partition,
        )
        return headers["ce_id"]

    async def answer(self, ce_id: str, *, count: int = 1, timeout: float = 30.0) -> list[Record]:
        return await self.log.answer_to(ce_id, WORKSHOPS_EVENTS, count=count, timeout=timeout)

    async def ask(
        self, name: str, data: dict[str, Any], *, key: str | None = None, at: datetime | None = None, count: int = 1
    ) -> list[Record]:
        """Send a command and wait for ``count`` events it caused."""
        return await self.answer(await self.send(name, data, key=key, at=at), count=count)

    async def refusal(self, name: str, data: dict[str, Any], *, at: datetime | None = None) -> list[str]:
        """Send a command expected to be refused; return its reasons' codes."""
        (answer,) = await self.ask(name, data, at=at)
        assert answer.ce_type == "workshops.CommandRejected.v1", answer.data
        return [reason["code"] for reason in answer.data["reasons"]]

    def notifications(self, ce_id: str) -> list[Record]:
        return self.log.caused_by(ce_id, NOTIFICATIONS)

    async def wait_notifications(self, ce_id: str, *, count: int, timeout: float = 30.0) -> list[Record]:
        return await self.log.wait_for(
            lambda r: r.topic == NOTIFICATIONS and r.causation_id == ce_id, count=count, timeout=timeout
        )

    async def schedule(self, *, at: datetime | None = None, **fields: Any) -> dict[str, Any]:
        """Schedule a workshop (defaults: a fresh venue and facilitator, 30 days ahead); return its command."""
        data = schedule_workshop(**fields)
        (answer,) = await self.ask("ScheduleWorkshop", data, at=at)
        assert answer.ce_type == "workshops.WorkshopScheduled.v1", answer.data
        return data

    async def register(
        self,
        workshop_id: str,
        *,
        person: str | None = None,
        org: str | None = None,
        at: datetime | None = None,
        count: int = 1,
    ) -> tuple[str, str, list[Record]]:
        """Register someone; return (registration_id, ce_id, events caused)."""
        data = register_participant(workshop_id, organisation=org, person=person)
        ce_id = await self.send("RegisterParticipant", data, at=at)
        return data["registration_id"], ce_id, await self.answer(ce_id, count=count)


@pytest.fixture
def client(sender: Sender, topic_log: TopicLog) -> Client:
    return Client(sender, topic_log)


def utc(at: datetime) -> datetime:
    return at.astimezone(UTC)
