"""How records come out of aiokafka's fetches: a record another client wrote can never stop a consumer.

aiokafka decodes each fetched record batch inside `getmany`. A batch it cannot decode (a codec it
has no library for, a codec added to Kafka later, corrupt bytes, a CRC mismatch) or a header
*name* that is not UTF-8 raises there, after the fetcher has already moved the positions of the
partitions it drained in the same call: their records are lost, and faststream restarts the loop
at once, forever. The interception is at the one place aiokafka turns a fetched partition into
records (`PartitionRecords`), so the error is met where it happens and never escapes `getmany`:

- a record whose header names are not UTF-8 is read leniently: the names are decoded with
  `surrogateescape`, so they keep their original bytes, and the consumer dead-letters the record
  (`has_malformed_header_names`);
- a batch that cannot be decoded at all comes out as one `UndecodableBatch` record at the
  batch's first offset and the partition's position stays there: the consumer holds that
  partition (only that one) until an operator decides to move past it
  (`programme consumer skip-batch`).

`install()` puts both in place; `shared.kafka` calls it, so every consumer of ours reads this way.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord
from aiokafka.consumer import fetcher
from aiokafka.record.default_records import _DefaultRecordBatchPy
from aiokafka.record.memory_records import MemoryRecords

_LENGTH = struct.Struct(">i")
_LOG_OVERHEAD = 12  # BaseOffset Int64 and Length Int32 precede every batch
_MAGIC_OFFSET = 16
_MAGIC_V2 = 2  # the record batch format with headers; older formats have none to read leniently


@dataclass
class UndecodableBatch(ConsumerRecord[bytes, bytes]):  # type: ignore[misc]  # aiokafka's record is untyped
    """Stands for a record batch nobody can decode: its offsets and why. Never built from what a producer wrote."""

    next_offset: int = -1
    error: str = ""


def has_malformed_header_names(record: ConsumerRecord[bytes, bytes]) -> bool:
    """A header name that was not UTF-8 (read with surrogateescape, so it holds lone surrogates)."""
    return any(_has_surrogates(name) for name, _ in record.headers or ())


def printable_header_name(name: str) -> str:
    """A header name as text any producer can write: bytes that were not UTF-8 shown as \\xNN."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)


class _SlicedRecords:
    """aiokafka's records of one fetched partition, which also keeps each batch's bytes for a second reading."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._records = MemoryRecords(data)
        self._pos = 0
        self.last_slice = b""

    def size_in_bytes(self) -> int:
        return len(self._data)

    def has_next(self) -> bool:
        return bool(self._records.has_next())

    def next_batch(self) -> Any:
        start = self._pos
        if len(self._data) - start >= _LOG_OVERHEAD:
            self._pos = start + _LOG_OVERHEAD + _LENGTH.unpack_from(self._data, start + 8)[0]
        self.last_slice = self._data[start : self._pos]
        return self._records.next_batch()


class TolerantPartitionRecords(fetcher.PartitionRecords):  # type: ignore[misc]  # aiokafka is untyped
    """aiokafka's `PartitionRecords`, reading each batch whole before handing out any of its records."""

    next_fetch_offset: int

    def _unpack_records(self) -> Iterator[ConsumerRecord[bytes, bytes]]:
        records = self._records
        while records.has_next():
            try:
                batch = records.next_batch()
            except Exception as error:  # noqa: BLE001 - too short to be a batch: nothing after it can be read either
                yield self._undecodable(self.next_fetch_offset, self.next_fetch_offset, error)
                return
            if self._check_crcs and not batch.validate_crc():
                yield self._undecodable(batch.base_offset, batch.next_offset, "CRC mismatch")
                return
            if self._skipped(batch):
                self.next_fetch_offset = batch.next_offset
                continue
            try:
                # Whole, before any record goes out: a failure half-way must not leave the position inside the batch.
                decoded: list[Any] = list(batch)
            except Exception as error:  # noqa: BLE001 - whatever the codec or the bytes raise
                lenient = _lenient(records.last_slice)
                if lenient is None:
                    yield self._undecodable(batch.base_offset, batch.next_offset, error)
                    return
                decoded = lenient
            for record in decoded:
                if record.offset < self.next_fetch_offset:  # a compressed batch fetched from its middle
                    continue
                self.next_fetch_offset = record.offset + 1
                yield self._consumer_record(self._tp, record)
            self.next_fetch_offset = batch.next_offset

    def _skipped(self, batch: Any) -> bool:
        """A control batch, or one of an aborted transaction when reading committed: aiokafka's own rules."""
        if self._isolation_level == fetcher.READ_COMMITTED and batch.producer_id is not None:
            self._consume_aborted_up_to(batch.base_offset)
            if batch.is_control_batch and self._contains_abort_marker(batch):
                self._aborted_producers.discard(batch.producer_id)
            if batch.is_transactional and batch.producer_id in self._aborted_producers:
                return True
        return bool(batch.is_control_batch)

    def _undecodable(self, offset: int, next_offset: int, error: BaseException | str) -> UndecodableBatch:
        # The position stays at the batch: the partition is read from here again once an operator moved on.
        self.next_fetch_offset = max(self.next_fetch_offset, offset)
        text = error if isinstance(error, str) else _describe(error)
        return UndecodableBatch(
            self._tp.topic,
            self._tp.partition,
            offset,
            -1,
            0,
            None,
            None,
            None,
            -1,
            -1,
            (),
            next_offset=next_offset,
            error=text[:500],
        )


def _describe(error: BaseException) -> str:
    # aiokafka's errors already start with their class name.
    text = str(error)
    name = type(error).__name__
    return text if text.startswith(name) else f"{name}: {text}"


def _lenient(data: bytes) -> list[Any] | None:
    """A v2 batch read again with header names decoded leniently; None when it cannot be read even so."""
    if len(data) <= _MAGIC_OFFSET or data[_MAGIC_OFFSET] < _MAGIC_V2:
        return None
    try:
        batch = _LenientBatch(data)
        return list(batch)
    except Exception:  # noqa: BLE001 - not a header name: the batch is undecodable
        return None


class _LenientBytes(bytes):
    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:  # noqa: ARG002
        return super().decode(encoding, "surrogateescape")


class _LenientBuffer(bytearray):
    """A batch's bytes whose slices decode as text with surrogateescape: header names keep their bytes."""

    def __getitem__(self, index: Any) -> Any:
        item = super().__getitem__(index)
        return _LenientBytes(item) if isinstance(index, slice) else item


class _LenientBatch(_DefaultRecordBatchPy):  # type: ignore[misc]  # final in aiokafka's stubs, subclassed here only
    def _maybe_uncompress(self) -> None:
        super()._maybe_uncompress()
        self._buffer: bytearray = _LenientBuffer(self._buffer)


def install() -> None:
    """Every aiokafka consumer in this process reads fetched partitions through the classes above."""
    fetcher.MemoryRecords = _SlicedRecords
    fetcher.PartitionRecords = TolerantPartitionRecords
