"""The CloudEvents 1.0 envelope in Kafka's binary binding: building headers and strictly reading records."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

SPECVERSION: Final = "1.0"
CONTENT_TYPE: Final = "application/json"
MAX_ID_LENGTH: Final = 256

REQUIRED_HEADERS: Final = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type")
TYPE_PATTERN: Final = re.compile(r"^(?P<service>[a-z]+)\.(?P<name>[A-Z][A-Za-z]+)\.v(?P<major>[1-9][0-9]*)$")
_RFC3339: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
)


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the headers of one record say, read and checked."""

    id: str
    source: str
    type: str
    time: datetime
    subject: str | None
    correlation_id: str
    causation_id: str | None
    key: str | None


@dataclass(frozen=True, slots=True)
class EnvelopeError(Exception):
    """A record whose envelope cannot be read. ``ce_id``/``ce_type`` are what could be read, for a refusal."""

    code: str
    message: str
    ce_id: str | None = None
    ce_type: str | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def decode_headers(raw: tuple[tuple[str, bytes], ...] | list[tuple[str, bytes]]) -> dict[str, str]:
    """Header bytes as UTF-8 text; the first of a repeated name wins.

    A value that is not UTF-8 is an EnvelopeError, raised only after the others are read, so
    that a readable ``ce_id`` and ``ce_type`` still let the sender be told why.
    """
    headers: dict[str, str] = {}
    broken: list[str] = []
    for name, value in raw:
        if name in headers or name in broken:
            continue
        try:
            headers[name] = value.decode("utf-8") if value is not None else ""
        except UnicodeDecodeError:
            broken.append(name)
    if broken:
        raise EnvelopeError(
            "invalid_header",
            f"header(s) not UTF-8: {', '.join(broken)}",
            headers.get("ce_id") or None,
            headers.get("ce_type") or None,
        )
    return headers


def read_envelope(headers: dict[str, str], key: bytes | None) -> Envelope:
    """Check the binary-mode headers strictly; raise EnvelopeError naming the first broken one."""
    ce_id = headers.get("ce_id") or None
    ce_type = headers.get("ce_type") or None
    missing = [name for name in REQUIRED_HEADERS if not headers.get(name)]
    if missing:
        raise EnvelopeError("missing_header", f"missing header(s): {', '.join(missing)}", ce_id, ce_type)
    if headers["ce_specversion"] != SPECVERSION:
        raise EnvelopeError("unsupported_specversion", "ce_specversion must be 1.0", ce_id, ce_type)
    if len(headers["ce_id"]) > MAX_ID_LENGTH:
        raise EnvelopeError("invalid_header", f"ce_id is longer than {MAX_ID_LENGTH}", None, ce_type)
    if headers["content-type"].split(";")[0].strip().lower() != CONTENT_TYPE:
        raise EnvelopeError("unsupported_content_type", "content-type must be application/json", ce_id, ce_type)
    time = parse_time(headers["ce_time"])
    if time is None:
        raise EnvelopeError("invalid_header", "ce_time is not an RFC 3339 time with an offset", ce_id, ce_type)
    try:
        decoded_key = key.decode("utf-8") if key is not None else None
    except UnicodeDecodeError as error:
        raise EnvelopeError("invalid_key", "the record key is not UTF-8", ce_id, ce_type) from error
    ce_id_text = headers["ce_id"]
    return Envelope(
        id=ce_id_text,
        source=headers["ce_source"],
        type=headers["ce_type"],
        time=time,
        subject=headers.get("ce_subject") or None,
        correlation_id=headers.get("ce_correlationid") or ce_id_text,
        causation_id=headers.get("ce_causationid") or None,
        key=decoded_key,
    )


def parse_time(text: str) -> datetime | None:
    if not _RFC3339.match(text):
        return None
    try:
        return datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError:
        return None


def build_headers(
    *,
    ce_id: str,
    source: str,
    ce_type: str,
    time: datetime,
    subject: str | None,
    correlation_id: str | None,
    causation_id: str | None,
) -> dict[str, str]:
    """The headers of an outgoing record, in binary mode."""
    headers = {
        "ce_specversion": SPECVERSION,
        "ce_id": ce_id,
        "ce_source": source,
        "ce_type": ce_type,
        "ce_time": time.isoformat(),
        "content-type": CONTENT_TYPE,
    }
    if subject is not None:
        headers["ce_subject"] = subject
    if correlation_id is not None:
        headers["ce_correlationid"] = correlation_id
    if causation_id is not None:
        headers["ce_causationid"] = causation_id
    return headers


def type_service(ce_type: str) -> str | None:
    """The service part of a ``<service>.<Name>.v<major>`` type, or None when it has not that shape."""
    match = TYPE_PATTERN.match(ce_type)
    return match.group("service") if match else None
