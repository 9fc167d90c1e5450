"""Both modes of the CloudEvents Kafka binding read alike; extensions pass; a trace and the data schema travel on."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.contract.schemas import schema_id
from shared.envelope import EnvelopeError, build_headers, read_record

TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
DATA = {"allocation_id": "1b4e28ba-2fa1-41d2-883f-0016d3cca427", "programme_year": 2027, "amount_nok": 5}
ATTRIBUTES = {
    "specversion": "1.0",
    "id": "c-1",
    "source": "/portal",
    "type": "funding.AllocateBudget.v1",
    "time": "2027-01-05T10:00:00Z",
}


def _binary(**extra: str) -> list[tuple[str, bytes | None]]:
    headers = {f"ce_{name}": value for name, value in ATTRIBUTES.items()} | {"content-type": "application/json"}
    return [(name, value.encode()) for name, value in (headers | extra).items()]


def _structured(
    event: Mapping[str, object], content_type: str = "application/cloudevents+json"
) -> tuple[list[tuple[str, bytes | None]], bytes, bytes]:
    return [("content-type", content_type.encode())], b"budget-2027", json.dumps(event).encode()


def test_a_structured_event_reads_as_the_same_binary_one() -> None:
    binary, binary_data = read_record(_binary(), b"budget-2027", json.dumps(DATA).encode())
    structured, structured_data = read_record(*_structured({**ATTRIBUTES, "data": DATA}))
    assert structured == binary
    assert json.loads(structured_data) == json.loads(binary_data) == DATA


def test_structured_mode_takes_base64_data_a_charset_and_an_explicit_json_content_type() -> None:
    encoded = base64.b64encode(json.dumps(DATA).encode()).decode()
    event = {**ATTRIBUTES, "datacontenttype": "application/json", "data_base64": encoded}
    envelope, data = read_record(*_structured(event, "application/cloudevents+json; charset=utf-8"))
    assert envelope.type == "funding.AllocateBudget.v1"
    assert json.loads(data) == DATA


@pytest.mark.parametrize(
    ("value", "code", "readable_id"),
    [
        (b"not json", "invalid_json", None),
        (b'["a", "list"]', "invalid_json", None),
        (json.dumps({**ATTRIBUTES, "id": 7, "data": DATA}).encode(), "missing_header", None),
        (json.dumps({**ATTRIBUTES, "specversion": "0.3", "data": DATA}).encode(), "unsupported_specversion", "c-1"),
        (
            json.dumps({**ATTRIBUTES, "datacontenttype": "text/xml", "data": "<a/>"}).encode(),
            "unsupported_content_type",
            "c-1",
        ),
        (json.dumps({**ATTRIBUTES, "data_base64": "@@@"}).encode(), "invalid_json", "c-1"),
    ],
)
def test_a_broken_structured_event_is_an_envelope_error_keeping_what_could_be_read(
    value: bytes, code: str, readable_id: str | None
) -> None:
    with pytest.raises(EnvelopeError) as caught:
        read_record([("content-type", b"application/cloudevents+json")], None, value)
    assert caught.value.code == code
    assert caught.value.ce_id == readable_id


def test_extension_attributes_are_accepted_and_ignored_in_both_modes() -> None:
    extensions = {"ce_partitionkey": "budget-2027", "ce_dataref": "s3://x", "ce_comexampleextension1": "value"}
    plain, _ = read_record(_binary(), b"budget-2027", b"{}")
    extended, _ = read_record(_binary(**extensions), b"budget-2027", b"{}")
    assert extended == plain
    structured = {**ATTRIBUTES, "partitionkey": "budget-2027", "sequence": 3, "data": DATA}
    assert read_record(*_structured(structured))[0] == plain


@pytest.mark.parametrize("header", ["ce_traceparent", "traceparent"])
def test_a_well_formed_traceparent_is_kept_and_a_malformed_one_ignored(header: str) -> None:
    kept, _ = read_record(_binary(**{header: TRACE}), None, b"{}")
    assert kept.traceparent == TRACE
    ignored, _ = read_record(_binary(**{header: "00-not-a-trace"}), None, b"{}")
    assert ignored.traceparent is None
    structured, _ = read_record(*_structured({**ATTRIBUTES, "traceparent": TRACE, "data": DATA}))
    assert structured.traceparent == TRACE


def test_published_headers_name_the_schema_and_carry_the_trace() -> None:
    headers = build_headers(
        ce_id="e-1",
        source="/programme/funding",
        ce_type="funding.BudgetAllocated.v1",
        time=datetime(2027, 3, 1, 12, 0, tzinfo=UTC),
        subject="budget-2027",
        correlation_id="c-1",
        causation_id="c-1",
        traceparent=TRACE,
    )
    assert headers["ce_dataschema"] == schema_id("funding.BudgetAllocated.v1")
    assert headers["ce_traceparent"] == headers["traceparent"] == TRACE
    raw = [(name, value.encode()) for name, value in headers.items()]
    envelope, _ = read_record(raw, b"budget-2027", b"{}")
    assert envelope.traceparent == TRACE
    untraced = build_headers(
        ce_id="e-2",
        source="/programme/funding",
        ce_type="funding.BudgetAllocated.v1",
        time=datetime(2027, 3, 1, 12, 0, tzinfo=UTC),
        subject=None,
        correlation_id=None,
        causation_id=None,
    )
    assert "ce_traceparent" not in untraced


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10,
)


@given(
    st.dictionaries(st.sampled_from([*ATTRIBUTES, "data", "data_base64", "datacontenttype", "x"]), _JSON, max_size=8)
    | st.builds(
        lambda base, extra: {**ATTRIBUTES, **base, **extra},
        st.just({"data": DATA}),
        st.dictionaries(st.text(max_size=8), _JSON, max_size=3),
    ),
    st.binary(max_size=20) | st.none(),
)
def test_any_structured_value_either_reads_or_raises_an_envelope_error(
    event: dict[str, object], key: bytes | None
) -> None:
    raw = [("content-type", b"application/cloudevents+json")]
    try:
        envelope, data = read_record(raw, key, json.dumps(event).encode())
    except EnvelopeError as error:  # the only way a reading may fail, and it always says why
        outcome = error.code
    else:
        outcome = "read" if envelope.id == event["id"] and isinstance(data, bytes) else ""
    assert outcome
