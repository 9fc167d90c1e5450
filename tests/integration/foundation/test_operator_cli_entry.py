"""`programme` as an operator runs it (`python -m programme`, a process of its own) on real Kafka and Postgres.

Expected failures are one line and an exit code, never a traceback; `send` returns with its
answer; `tail` masks e-mails in keys too; `status` tells one application's story across services.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from devkit.driver import Sender
from devkit.processes import ROOT, ServiceProcess
from devkit.system import System
from shared.cli.messages import ANSWER_SETTLE_S

UNREACHABLE = 3
BAD_INPUT = 2


@dataclass(frozen=True)
class Done:
    code: int
    out: str
    err: str
    seconds: float


async def programme(*argv: str, timeout: float = 120.0) -> Done:
    # The operator's environment, without this shell's broker or database: each test says which it means.
    env = {k: v for k, v in os.environ.items() if k not in {"KAFKA_BOOTSTRAP_SERVERS", "PROGRAMME_ADMIN_DSN"}}
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "programme", *argv,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return Done(proc.returncode, out.decode(), err.decode(), time.monotonic() - started)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def with_password(dsn: str, password: str) -> str:
    parts = urlsplit(dsn)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def one_line(done: Done) -> str:
    """The failure's line: alone on stderr, and no traceback anywhere."""
    assert "Traceback" not in done.err + done.out
    lines = done.err.strip().splitlines()
    assert len(lines) == 1, done.err
    return lines[0]


async def test_a_broker_that_does_not_answer_is_one_line_with_what_to_do() -> None:
    port = free_port()
    done = await programme("--bootstrap-servers", f"127.0.0.1:{port}", "tail", "applications.events.v1")
    assert done.code == UNREACHABLE
    line = one_line(done)
    assert line.startswith(f"programme: cannot reach Kafka at 127.0.0.1:{port} (")
    assert "--bootstrap-servers or PROGRAMME_KAFKA_BOOTSTRAP_SERVERS" in line


async def test_a_database_that_does_not_answer_is_one_line_with_what_to_do(system: System) -> None:
    dsn = f"postgresql://postgres:postgres@127.0.0.1:{free_port()}/programme"
    done = await programme("outbox", "--admin-dsn", dsn)
    assert done.code == UNREACHABLE
    line = one_line(done)
    assert line.startswith("programme: cannot reach the database (")
    assert "check the host and port in --admin-dsn or PROGRAMME_ADMIN_DSN" in line


async def test_wrong_database_credentials_are_one_line_with_what_to_do(system: System) -> None:
    done = await programme("outbox", "--admin-dsn", with_password(system.admin_dsn, "not-the-password"))
    assert done.code == UNREACHABLE
    line = one_line(done)
    assert line.startswith("programme: the database refused the login (password authentication failed")
    assert "check the user and password in --admin-dsn or PROGRAMME_ADMIN_DSN" in line
    assert "not-the-password" not in line


async def test_an_unknown_topic_is_one_line_with_what_to_do(system: System) -> None:
    done = await programme("--bootstrap-servers", system.kafka_bootstrap, "tail", "no.such.topic.v1", "--no-follow")
    assert done.code == BAD_INPUT
    line = one_line(done)
    assert line.startswith("programme: no such topic(s): no.such.topic.v1")
    assert "`programme topics create`" in line


async def test_send_returns_as_soon_as_its_answer_arrives(
    probe: ServiceProcess, system: System, tmp_path: Path
) -> None:
    item = uuid.uuid4()
    command = tmp_path / "record.json"
    command.write_text(
        json.dumps({"type": "probe.Record.v1", "key": str(item), "data": {"item_id": str(item), "n": 3}})
    )
    wait_s = 90.0
    done = await programme("--bootstrap-servers", system.kafka_bootstrap, "send", str(command), "--wait", str(wait_s))
    assert done.code == 0, done.err
    assert "probe.Recorded.v1" in done.out
    # It used to wait out the whole --wait; now the answer plus a short settling time (and the
    # interpreter's start) is all, well below the bound even on a loaded machine.
    assert done.seconds < wait_s / 3, f"took {done.seconds:.1f}s (settling {ANSWER_SETTLE_S}s)"


async def test_tail_masks_an_e_mail_in_the_key_as_in_the_data(system: System, sender: Sender) -> None:
    email = f"kari.{uuid.uuid4().hex[:8]}@example.no"
    about = str(uuid.uuid4())
    data = {"about": about, "template": "workshops.reminder", "recipient": {"email": email}, "params": {}}
    await sender.send("programme.notifications.v1", "programme.NotificationRequested.v1", email, data)

    masked = await programme(
        "--bootstrap-servers", system.kafka_bootstrap,
        "tail", "programme.notifications.v1", "--from-beginning", "--no-follow",
    )  # fmt: skip
    assert masked.code == 0, masked.err
    [line] = [line for line in masked.out.splitlines() if about in line]
    assert email not in masked.out
    assert "key=***" in line
    assert '"email":"***"' in line

    shown = await programme(
        "--bootstrap-servers", system.kafka_bootstrap,
        "tail", "programme.notifications.v1", "--from-beginning", "--no-follow", "--show-personal",
    )  # fmt: skip
    [line] = [line for line in shown.out.splitlines() if about in line]
    assert f"key={email}" in line


async def test_status_shows_an_applications_events_across_the_services_in_order(system: System, sender: Sender) -> None:
    application = str(uuid.uuid4())
    other = str(uuid.uuid4())
    start = datetime.now(UTC) - timedelta(minutes=5)
    # Sent out of order, across the three events topics; each service's consumers let these pass.
    story = [
        ("funding.events.v1", "funding.FundingCaseOpened.v1", 2),
        ("applications.events.v1", "applications.ManagementCommitmentConfirmed.v1", 0),
        ("applications.events.v1", "applications.ApplicationApproved.v1", 4),
        ("workshops.events.v1", "workshops.WorkshopCancelled.v1", 1),
        ("funding.events.v1", "funding.FundingGranted.v1", 3),
    ]
    for topic, ce_type, minute in story:
        at = start + timedelta(minutes=minute)
        await sender.send(topic, ce_type, application, {"application_id": application}, time_=at)
    await sender.send("applications.events.v1", "applications.ApplicationApproved.v1", other, {"application_id": other})

    done = await programme("--bootstrap-servers", system.kafka_bootstrap, "status", application)
    assert done.code == 0, done.err
    lines = done.out.strip().splitlines()
    assert [line.split()[1] for line in lines[:-1]] == [ce_type for _, ce_type, _ in sorted(story, key=lambda s: s[2])]
    assert other not in done.out
    assert lines[-1] == f"5 event(s) keyed {application} from applications, funding, workshops"

    nothing = await programme("--bootstrap-servers", system.kafka_bootstrap, "status", str(uuid.uuid4()))
    assert nothing.code == 1
    assert "no events keyed" in nothing.out
