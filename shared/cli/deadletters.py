"""Listing dead letters and replaying chosen ones to the topic they came from."""

from __future__ import annotations

import uuid
from typing import Any

from aiokafka import AIOKafkaProducer

from shared.cli.messages import Seen, open_reader, records, stop_consumer
from shared.topics import dlq_topic


async def list_letters(bootstrap: str, service: str, options: dict[str, Any]) -> list[Seen]:
    reader = await open_reader(bootstrap, [dlq_topic(service)], from_beginning=True, options=options)
    try:
        return [seen async for seen in records(reader, follow=False)]
    finally:
        await stop_consumer(reader)


def describe(letter: Seen) -> str:
    h = letter.headers
    origin = f"{h.get('x-original-topic', '?')}[{h.get('x-original-partition', '?')}]@{h.get('x-original-offset', '?')}"
    return (
        f"dlq@{letter.partition}:{letter.offset:<6} {h.get('x-error-code', '?'):20} from {origin:34} "
        f"type={h.get('ce_type', '-')} id={h.get('ce_id', '-')}\n"
        f"    {h.get('x-error-message', '')[:200]}"
    )


async def replay(
    bootstrap: str, letters: list[Seen], *, new_ids: bool, options: dict[str, Any]
) -> list[tuple[Seen, str]]:
    """Publish each letter's original record to its original topic; return (letter, ce_id sent).

    The original ce_id is kept by default, so a record that was already applied once stays
    applied once. A malformed command that was answered with `CommandRejected` has its id in the
    inbox: replay it with ``new_ids`` (a fresh ce_id, the original one as correlation).
    """
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **options)
    await producer.start()
    sent = []
    try:
        for letter in letters:
            headers = {k: v for k, v in letter.headers.items() if not k.startswith("x-")}
            if new_ids:
                original = headers.get("ce_id", "")
                headers["ce_id"] = str(uuid.uuid4())
                headers.setdefault("ce_correlationid", original or headers["ce_id"])
            topic = letter.headers["x-original-topic"]
            await producer.send_and_wait(
                topic,
                value=letter.value,
                key=letter.key.encode() if letter.key is not None else None,
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
            sent.append((letter, headers.get("ce_id", "")))
    finally:
        await producer.stop()
    return sent
