"""The operator CLI against the running probe: send with an answer, list dead letters, replay after a fix."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import asyncpg
import pytest

from devkit.driver import Sender, TopicLog
from devkit.processes import ServiceProcess
from devkit.system import System
from programme import SERVICES
from shared.cli import outbox
from shared.cli.main import build_parser, run
from tests.integration.foundation.conftest import DLQ, applied_count, is_recorded, send_record


async def programme(system: System, *argv: str) -> int:
    return await run(build_parser().parse_args(["--bootstrap-servers", system.kafka_bootstrap, *argv]), SERVICES)


async def test_send_fills_the_envelope_and_prints_the_answer(
    probe: ServiceProcess, system: System, tmp_path: Path, capsys: pytest.CaptureFixture[str], topic_log: TopicLog
) -> None:
    item = uuid.uuid4()
    command = tmp_path / "record.json"
    command.write_text(
        json.dumps({"type": "probe.Record.v1", "key": str(item), "data": {"item_id": str(item), "n": 3}})
    )
    assert await programme(system, "send", str(command), "--wait", "30") == 0
    printed = capsys.readouterr().out
    assert "probe.Recorded.v1" in printed
    assert str(item) in printed
    sent = await topic_log.wait_for(is_recorded(item))
    assert sent[0].headers["ce_source"] == "/programme/probe"


async def test_a_dead_letter_is_replayed_once_the_cause_is_fixed(
    probe: ServiceProcess,
    system: System,
    sender: Sender,
    topic_log: TopicLog,
    admin_db: asyncpg.Pool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    item = uuid.uuid4()
    await admin_db.execute("INSERT INTO probe.blocked (item_id) VALUES ($1)", item)
    command_id = await send_record(sender, item)
    letter = (await topic_log.wait_for(lambda r: r.topic == DLQ and r.ce_id == command_id))[0]
    assert letter.headers["x-error-code"] == "processing_failed"

    assert await programme(system, "dlq", "list", "probe") == 0
    assert f"dlq@{letter.partition}:{letter.offset}" in capsys.readouterr().out

    await admin_db.execute("DELETE FROM probe.blocked WHERE item_id = $1", item)  # the fix
    replayed = await programme(
        system, "dlq", "replay", "probe", "--offset", str(letter.offset), "--partition", str(letter.partition)
    )
    assert replayed == 0
    await topic_log.wait_for(is_recorded(item))
    assert await applied_count(admin_db, item) == 1


async def test_the_outbox_backlog_counts_what_waits_and_what_went_out_in_the_last_minute(
    probe: ServiceProcess, system: System, sender: Sender, topic_log: TopicLog
) -> None:
    item = uuid.uuid4()
    await send_record(sender, item)
    await topic_log.wait_for(is_recorded(item))
    [backlog] = await outbox.backlogs(system.admin_dsn, ["probe", "no_such_schema"])
    assert backlog.service == "probe"
    assert backlog.sent_last_minute >= 1
    assert backlog.unsent >= 0
    assert (backlog.oldest is None) == (backlog.unsent == 0)


async def test_db_bootstrap_migrate_and_outbox_reach_every_service_the_entry_point_registers(
    system: System, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Both DSNs from this run's server: the CLI's local defaults name port 55432, which may be another's.
    for service in SERVICES:
        monkeypatch.setenv(f"{service.name.upper()}_DATABASE_DSN", system.dsn(service.name))
        monkeypatch.setenv(f"{service.name.upper()}_MIGRATION_DSN", system.owner_dsn(service.name))
    names = [service.name for service in SERVICES]
    assert names == ["applications", "workshops", "funding"]

    assert await programme(system, "db", "bootstrap", "--admin-dsn", system.admin_dsn) == 0
    assert f"roles and schemas ready: {', '.join(names)}" in capsys.readouterr().out
    assert await programme(system, "db", "migrate") == 0
    assert [line.split(":")[0] for line in capsys.readouterr().out.strip().split(", ")] == names
    assert await programme(system, "outbox", "--admin-dsn", system.admin_dsn) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.strip().splitlines()] == names
