"""The CloudEvents 1.0 envelope in Kafka's binding: building headers and strictly reading records.

We write binary mode (the attributes as `ce_*` headers, the data as the value). We read both
modes, as the binding asks of a receiver: structured mode (`content-type:
application/cloudevents+json`, the whole event as JSON in the value) is turned into the same
attributes and data bytes, then read by the same strict rules. Attributes we have no use for
(extensions such as `partitionkey`) are accepted and ignored; a W3C `traceparent` is kept so the
events a message causes carry it on.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from shared.contract.schemas import schema_id

SPECVERSION: Final = "1.0"
CONTENT_TYPE: Final = "application/json"
STRUCTURED_CONTENT_TYPE: Final = "application/cloudevents+json"
MAX_ID_LENGTH: Final = 256

REQUIRED_HEADERS: Final = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type")
TYPE_PATTERN: Final = re.compile(r"^(?P<service>[a-z]+)\.(?P<name>[A-Z][A-Za-z]+)\.v(?P<major>[1-9][0-9]*)$")
_RFC3339: Final = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
)
# W3C Trace Context, version 00: what a tracing system downstream can join; anything else is dropped.
_TRACEPARENT: Final = re.compile(r"^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$")
# Where a traceparent arrives, first found wins: the CloudEvents tracing extension, then plain W3C over Kafka.
TRACEPARENT_HEADERS: Final = ("ce_traceparent", "traceparent")


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
    traceparent: str | None = None


@dataclass(frozen=True, slots=True)
class EnvelopeError(Exception):
    """A record whose envelope cannot be read. ``ce_id``/``ce_type`` are what could be read, for a refusal."""

    code: str
    message: str
    ce_id: str | None = None
    ce_type: str | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


RawHeaders = Sequence[tuple[str, bytes | None]]


def read_record(raw: RawHeaders, key: bytes | None, value: bytes | None) -> tuple[Envelope, bytes]:
    """One record, in either mode: its checked envelope and its data as JSON bytes; EnvelopeError when unreadable."""
    headers = decode_headers(raw)
    if _media_type(headers.get("content-type", "")) == STRUCTURED_CONTENT_TYPE:
        headers, data = _from_structured(value)
        return read_envelope(headers, key), data
    return read_envelope(headers, key), value or b""


def _media_type(content_type: str) -> str:
    return content_type.split(";", maxsplit=1)[0].strip().lower()


def _from_structured(value: bytes | None) -> tuple[dict[str, str], bytes]:
    """A structured-mode value as the binary mode's headers and data, for the same strict reading."""
    try:
        event = json.loads(value or b"")
    except (ValueError, UnicodeDecodeError) as error:
        raise EnvelopeError("invalid_json", f"a structured CloudEvent that is not JSON: {error}"[:300]) from error
    if not isinstance(event, dict):
        raise EnvelopeError("invalid_json", "a structured CloudEvent must be a JSON object")
    # Only text attributes map onto headers; a required one of another type then reads as missing.
    headers = {
        f"ce_{name}": text
        for name, text in event.items()
        if isinstance(text, str) and name not in {"data", "data_base64", "datacontenttype"}
    }
    ce_id, ce_type = headers.get("ce_id"), headers.get("ce_type")
    # The JSON event format: no datacontenttype means the data is JSON.
    content_type = event.get("datacontenttype", CONTENT_TYPE)
    headers["content-type"] = content_type if isinstance(content_type, str) else ""
    if "data_base64" in event:
        try:
            data = base64.b64decode(str(event["data_base64"]), validate=True)
        except (binascii.Error, ValueError) as error:
            raise EnvelopeError("invalid_json", "data_base64 is not base64", ce_id, ce_type) from error
    elif "data" in event:
        data = json.dumps(event["data"], ensure_ascii=False).encode()
    else:
        data = b""
    return headers, data


def decode_headers(raw: RawHeaders) -> dict[str, str]:
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
        traceparent=_traceparent(headers),
    )


def _traceparent(headers: dict[str, str]) -> str | None:
    """The trace this message belongs to, when it names one well; a malformed one is ignored, never refused."""
    for name in TRACEPARENT_HEADERS:
        value = headers.get(name, "").strip().lower()
        if value:
            return value if _TRACEPARENT.match(value) else None
    return None


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
    traceparent: str | None = None,
) -> dict[str, str]:
    """The headers of an outgoing record, in binary mode; `ce_dataschema` names the exported schema of its type."""
    headers = {
        "ce_specversion": SPECVERSION,
        "ce_id": ce_id,
        "ce_source": source,
        "ce_type": ce_type,
        "ce_time": time.isoformat(),
        "ce_dataschema": schema_id(ce_type),
        "content-type": CONTENT_TYPE,
    }
    if subject is not None:
        headers["ce_subject"] = subject
    if correlation_id is not None:
        headers["ce_correlationid"] = correlation_id
    if causation_id is not None:
        headers["ce_causationid"] = causation_id
    if traceparent is not None:
        # Both names: the CloudEvents tracing extension's, and the one OpenTelemetry's Kafka propagators read.
        headers["ce_traceparent"] = headers["traceparent"] = traceparent
    return headers


def type_service(ce_type: str) -> str | None:
    """The service part of a ``<service>.<Name>.v<major>`` type, or None when it has not that shape."""
    match = TYPE_PATTERN.match(ce_type)
    return match.group("service") if match else None
