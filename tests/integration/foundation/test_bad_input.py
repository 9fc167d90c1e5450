"""Unreadable records go to the DLQ unchanged with the contract's headers; the consumer goes on."""

from __future__ import annotations

import uuid

import asyncpg

from devkit.driver import Sender, TopicLog, command_headers
from devkit.processes import ServiceProcess
from tests.integration.foundation.conftest import COMMANDS, DLQ, EVENTS, RECORD, applied_count, is_recorded, send_record


async def test_an_unreadable_record_lands_in_the_dlq_with_its_headers_and_the_next_is_processed(
    probe: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    item = uuid.uuid4()
    key = str(item).encode()
    headers = command_headers(RECORD)
    await sender.send_raw(COMMANDS, key=key, value=b"{not json", headers=headers)
    await send_record(sender, item)  # same key, same partition: it comes after the broken one

    letter = (await topic_log.wait_for(lambda r: r.topic == DLQ and r.ce_id == headers["ce_id"]))[0]
    assert letter.value == b"{not json"
    assert letter.key == str(item)
    assert letter.headers["x-error-code"] == "invalid_json"
    assert letter.headers["x-original-topic"] == COMMANDS
    assert int(letter.headers["x-original-partition"]) >= 0
    assert int(letter.headers["x-original-offset"]) >= 0
    assert letter.headers["ce_type"] == RECORD  # the original headers travel unchanged

    # It had an id and a command type, so the sender is told as well.
    rejection = (await topic_log.answer_to(headers["ce_id"], EVENTS))[0]
    assert rejection.ce_type == "probe.CommandRejected.v1"
    assert rejection.data["reasons"][0]["code"] == "malformed"

    await topic_log.wait_for(is_recorded(item))
    assert await applied_count(admin_db, item) == 1


async def test_records_without_envelope_or_of_unknown_types_are_dead_lettered_without_stopping(
    probe: ServiceProcess, sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    item = uuid.uuid4()
    no_headers_key = f"no-headers-{item}".encode()
    await sender.send_raw(COMMANDS, key=no_headers_key, value=b"{}", headers={})
    future = command_headers("probe.Record.v2")
    await sender.send_raw(COMMANDS, key=str(item).encode(), value=b'{"item_id": "x"}', headers=future)
    wrong_schema = command_headers(RECORD)
    await sender.send_raw(COMMANDS, key=str(item).encode(), value=b'{"item_id": 5, "n": "many"}', headers=wrong_schema)
    bad_utf8 = command_headers(RECORD)
    await sender.send_raw(COMMANDS, key=str(item).encode(), value=b'{"item_id": "\xff\xfe"}', headers=bad_utf8)
    await send_record(sender, item)

    await topic_log.wait_for(is_recorded(item))
    letters = await topic_log.wait_for(
        lambda r: r.topic == DLQ and (r.key == no_headers_key.decode() or r.key == str(item)), count=4
    )
    codes = {r.key if r.key != str(item) else r.ce_id: r.headers["x-error-code"] for r in letters}
    assert codes[no_headers_key.decode()] == "missing_header"
    assert codes[future["ce_id"]] == "unknown_type"
    assert codes[wrong_schema["ce_id"]] == "schema_violation"
    assert codes[bad_utf8["ce_id"]] in {"invalid_json", "schema_violation"}
    rejection = (await topic_log.answer_to(wrong_schema["ce_id"], EVENTS))[0]
    fields = {reason["field"] for reason in rejection.data["reasons"]}
    assert fields == {"item_id", "n"}  # every reason found, not only the first
    assert await applied_count(admin_db, item) == 1
