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
from shared.cli.main import build_parser, run
from tests.integration.foundation.conftest import DLQ, applied_count, is_recorded, send_record


async def programme(system: System, *argv: str) -> int:
    return await run(build_parser().parse_args(["--bootstrap-servers", system.kafka_bootstrap, *argv]))


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
