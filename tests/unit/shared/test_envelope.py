"""The envelope's strict reading, and the organisation number's check digit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.contract.base import organisation_number_is_valid
from shared.envelope import EnvelopeError, build_headers, decode_headers, read_envelope

GOOD = {
    "ce_specversion": "1.0",
    "ce_id": "c-1",
    "ce_source": "/portal",
    "ce_type": "applications.SubmitApplication.v1",
    "ce_time": "2027-01-05T10:00:00+01:00",
    "content-type": "application/json",
}


def test_a_complete_envelope_is_read_and_a_missing_correlation_starts_a_chain() -> None:
    envelope = read_envelope(GOOD, b"key-1")
    assert envelope.correlation_id == "c-1"
    assert envelope.key == "key-1"
    assert envelope.time == datetime(2027, 1, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"ce_id": ""}, "missing_header"),
        ({"ce_specversion": "0.3"}, "unsupported_specversion"),
        ({"content-type": "text/plain"}, "unsupported_content_type"),
        ({"ce_time": "2027-01-05T10:00:00"}, "invalid_header"),
        ({"ce_time": "yesterday"}, "invalid_header"),
    ],
)
def test_a_broken_envelope_names_what_is_wrong_and_keeps_what_could_be_read(change: dict[str, str], code: str) -> None:
    with pytest.raises(EnvelopeError) as caught:
        read_envelope({**GOOD, **change}, None)
    assert caught.value.code == code
    assert caught.value.ce_type == GOOD["ce_type"]


def test_headers_that_are_not_utf8_are_an_envelope_error() -> None:
    with pytest.raises(EnvelopeError, match="not UTF-8"):
        decode_headers([("ce_id", b"\xff\xfe")])


@given(
    st.lists(st.tuples(st.text(max_size=20), st.binary(max_size=40)), max_size=10), st.binary(max_size=20) | st.none()
)
def test_any_headers_either_read_or_raise_an_envelope_error(raw: list[tuple[str, bytes]], key: bytes | None) -> None:
    try:
        read_envelope(decode_headers(raw), key)
    except EnvelopeError as error:  # the only way a reading may fail, and it always says why
        code = error.code
    else:
        code = "read"
    assert code


def test_built_headers_read_back_unchanged() -> None:
    headers = build_headers(
        ce_id="e-1",
        source="/programme/funding",
        ce_type="funding.FundingGranted.v1",
        time=datetime(2027, 3, 1, 12, 0, tzinfo=UTC),
        subject="app-1",
        correlation_id="c-9",
        causation_id="cmd-3",
    )
    envelope = read_envelope(headers, b"app-1")
    assert (envelope.id, envelope.correlation_id, envelope.causation_id, envelope.subject) == (
        "e-1",
        "c-9",
        "cmd-3",
        "app-1",
    )


@pytest.mark.parametrize(
    ("number", "valid"), [("974760673", True), ("974760674", False), ("97476067", False), ("97476067a", False)]
)
def test_the_organisation_number_is_checked_with_its_mod11_digit(number: str, valid: bool) -> None:
    assert organisation_number_is_valid(number) is valid


def test_one_broken_header_still_leaves_the_id_and_type_readable_for_a_refusal() -> None:
    raw = [(k, v.encode()) for k, v in GOOD.items() if k != "ce_source"] + [("ce_source", b"\xff")]
    with pytest.raises(EnvelopeError) as caught:
        decode_headers(raw)
    assert (caught.value.code, caught.value.ce_id, caught.value.ce_type) == ("invalid_header", "c-1", GOOD["ce_type"])
