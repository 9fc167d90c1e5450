"""Bad input, generated: mutated envelopes and payloads sent to the running services.

Each generated record either cannot be read (it must land in its service's DLQ with the
x- headers, and a command type of ours with an id also gets a `malformed` refusal) or can be
read and breaks a rule (it gets exactly one `CommandRejected`). None may change state, and
every consumer must still answer afterwards. Values at the edges are among them: NUL in text, times
that cannot be moved to UTC, numbers beyond bigint, null and 100 kB keys, repeated CloudEvents
headers, bodies near the broker's limit.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devkit.driver import Record, Sender, TopicLog, command_headers
from devkit.ids import organisation_number
from devkit.payloads import PLAN, schedule_workshop, submit_application
from devkit.processes import ServiceProcess
from shared.contract.schemas import contract_models

EXAMPLES = 150


def valid_payload(ce_type: str, marker: str) -> dict[str, Any]:
    """A payload that the command's schema accepts, carrying `marker` as its aggregate's id."""
    org = organisation_number(random.Random(marker))
    payloads: dict[str, dict[str, Any]] = {
        "applications.SubmitApplication.v1": submit_application(org, application_id=marker, how=PLAN),
        "applications.AmendApplication.v1": {"application_id": marker, "changes": {"how": "a plan"}},
        "applications.ConfirmManagementCommitment.v1": {
            "application_id": marker,
            "confirmed_by": {"name": "N", "role": "CEO"},
            "confirmed_at": datetime.now(UTC).isoformat(),
        },
        "applications.WithdrawApplication.v1": {"application_id": marker, "reason": "r"},
        "workshops.ScheduleWorkshop.v1": schedule_workshop(datetime(2030, 1, 7, 9, tzinfo=UTC), workshop_id=marker),
        "workshops.RescheduleWorkshop.v1": {
            "workshop_id": marker,
            "starts_at": "2030-01-08T09:00:00+01:00",
            "ends_at": "2030-01-08T12:00:00+01:00",
        },
        "workshops.CancelWorkshop.v1": {"workshop_id": marker, "reason": "r"},
        "workshops.ChangeWorkshopCapacity.v1": {"workshop_id": marker, "capacity": 10},
        "workshops.RegisterParticipant.v1": {
            "workshop_id": marker,
            "registration_id": str(uuid.uuid4()),
            "participant": {"name": "N", "email": "n@example.no"},
        },
        "workshops.CancelRegistration.v1": {"workshop_id": marker, "registration_id": str(uuid.uuid4())},
        "workshops.RecordAttendance.v1": {"workshop_id": marker, "attended": [str(uuid.uuid4())]},
        "workshops.EraseParticipantData.v1": {"email": f"{marker}@example.no"},
        "funding.AllocateBudget.v1": {
            "allocation_id": marker,
            "programme_year": 2031,
            "amount_nok": 1_000,
            "source": "s",
        },
        "funding.DecideFunding.v1": {
            "application_id": marker,
            "outcome": "grant",
            "amount_nok": 1,
            "reason": "r",
            "decided_by": "d",
        },
        "funding.AcceptGrant.v1": {
            "application_id": marker,
            "accepted_by": {"name": "N", "role": "CEO"},
            "accepted_at": datetime.now(UTC).isoformat(),
        },
        "funding.ApprovePayment.v1": {
            "payment_id": str(uuid.uuid4()),
            "application_id": marker,
            "kind": "interim",
            "documented_costs_nok": 1_000,
            "approved_by": "d",
        },
        "applications.SubmitProgressReport.v1": {
            "report_id": str(uuid.uuid4()),
            "application_id": marker,
            "period_to": "2030-06-30",
            "summary": "s",
            "indicators": [{"indicator": "i", "value": "v"}],
        },
        "applications.SubmitFinalReport.v1": {
            "application_id": marker,
            "summary": "s",
            "results": [{"indicator": "i", "achieved": "a"}],
            "effects": "e",
        },
        "applications.AcceptFinalReport.v1": {"application_id": marker, "accepted_by": "d"},
        "applications.ReturnFinalReport.v1": {"application_id": marker, "reason": "r"},
    }
    return payloads[ce_type]


COMMAND_TYPES = sorted(t for t, m in contract_models().items() if "Command" in {c.__name__ for c in m.__mro__})


@dataclass(frozen=True)
class Mutant:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    marker: str
    readable: bool  # the envelope and type can be read; only the data is broken
    mutation: str


@st.composite
def mutants(draw: st.DrawFn) -> Mutant:  # noqa: PLR0912 - one branch per kind of damage
    ce_type = draw(st.sampled_from(COMMAND_TYPES))
    service = ce_type.split(".")[0]
    marker = str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4))
    payload = valid_payload(ce_type, marker)
    headers = command_headers(ce_type)
    value: bytes | None = json.dumps(payload).encode()
    kind = draw(
        st.sampled_from(
            [
                "drop_header",
                "bad_specversion",
                "naive_time",
                "unknown_type",
                "future_version",
                "bad_content_type",
                "header_not_utf8",
                "not_json",
                "value_not_utf8",
                "not_object",
                "missing_field",
                "extra_field",
                "wrong_type",
                "huge_string",
                "deep_nesting",
                "empty_value",
                *EDGE_KINDS,
            ]
        )
    )
    readable = kind in {
        "not_json",
        "value_not_utf8",
        "not_object",
        "missing_field",
        "extra_field",
        "wrong_type",
        "huge_string",
        "deep_nesting",
        "empty_value",
        *EDGE_KINDS,
    }
    raw_headers = {k: v.encode() for k, v in headers.items()}
    if kind == "drop_header":
        raw_headers.pop(
            draw(st.sampled_from(["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"]))
        )
    elif kind == "bad_specversion":
        raw_headers["ce_specversion"] = b"0.3"
    elif kind == "naive_time":
        raw_headers["ce_time"] = b"2027-01-01T10:00:00"
    elif kind == "unknown_type":
        raw_headers["ce_type"] = f"{service}.{draw(st.sampled_from(['Frobnicate', 'DeleteEverything']))}.v1".encode()
    elif kind == "future_version":
        raw_headers["ce_type"] = ce_type.replace(".v1", ".v2").encode()
    elif kind == "bad_content_type":
        raw_headers["content-type"] = b"text/xml"
    elif kind == "header_not_utf8":
        raw_headers[draw(st.sampled_from(["ce_source", "ce_time", "ce_type"]))] = b"\xff\xfe\xfa"
    elif kind == "not_json":
        value = draw(st.binary(min_size=1, max_size=60).filter(lambda b: not _is_json(b)))
    elif kind == "value_not_utf8":
        value = b'{"x": "\xff\xfe"}'
    elif kind == "not_object":
        value = json.dumps(draw(st.sampled_from([[1, 2], 3, "text", None, True]))).encode()
    elif kind == "missing_field":
        first = next(iter(payload))
        del payload[first]
        value = json.dumps(payload).encode()
    elif kind == "extra_field":
        payload[draw(st.sampled_from(["admin", "__proto__", "amount_nok_extra"]))] = draw(
            st.integers() | st.text(max_size=5)
        )
        value = json.dumps(payload).encode()
    elif kind == "wrong_type":
        name = draw(st.sampled_from(sorted(payload)))
        # Wrong for every field: an empty list would be a valid one where a list goes.
        payload[name] = draw(st.sampled_from([[[]], {"nested": 1}, 12.5, True]))
        value = json.dumps(payload).encode()
    elif kind == "huge_string":
        name = draw(st.sampled_from(sorted(k for k, v in payload.items() if isinstance(v, str)) or sorted(payload)))
        payload[name] = "x" * draw(st.integers(50_000, 300_000))
        value = json.dumps(payload).encode()
    elif kind == "deep_nesting":
        name = draw(st.sampled_from(sorted(payload)))
        depth = draw(st.integers(200, 5000))
        payload[name] = "__deep__"
        deep = '{"a": ' * depth + '"bottom"' + "}" * depth  # written out: json.dumps would hit its own recursion limit
        value = json.dumps(payload).replace('"__deep__"', deep).encode()
    elif kind == "empty_value":
        value = draw(st.sampled_from([b"", None]))
    key: bytes | None = marker.encode() if ce_type != "funding.AllocateBudget.v1" else f"budget-{marker}".encode()
    headers_out = list(raw_headers.items())
    if kind in EDGE_KINDS:
        value, key, headers_out = _at_the_edge(draw, kind, payload, key, headers_out)
    return Mutant(f"{service}.commands.v1", key, value, headers_out, marker, readable, kind)


# Values at the edges of what Postgres, Python and Kafka hold. Each must be refused (or
# dead-lettered as unreadable), never retried as a fault nor applied.
EDGE_KINDS = (
    "nul_text",
    "far_time",
    "huge_number",
    "null_key",
    "huge_key",
    "duplicate_header",
    "oversized_body",
)
_TIME_FIELDS = ("starts_at", "ends_at", "confirmed_at")
_FAR_TIMES = ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "1800-06-01T12:00:00+01:00")
_HUGE_NUMBERS = (2**70, -(2**70), 2**63, 10**30)


def _at_the_edge(
    draw: st.DrawFn, kind: str, payload: dict[str, Any], key: bytes | None, headers: list[tuple[str, bytes]]
) -> tuple[bytes, bytes | None, list[tuple[str, bytes]]]:
    """The payload, key and headers with one value pushed over an edge."""
    fields = sorted(payload)
    if kind == "nul_text":
        texts = sorted(k for k, v in payload.items() if isinstance(v, str)) or fields
        name = draw(st.sampled_from(texts))
        payload[name] = f"{payload[name]}\x00" if isinstance(payload[name], str) else "\x00"
    elif kind == "far_time":
        times = [k for k in _TIME_FIELDS if k in payload]
        if times:
            payload[draw(st.sampled_from(times))] = draw(st.sampled_from(_FAR_TIMES))
        else:  # a type without times: the far time where none belongs (an unknown field, refused)
            payload["at"] = draw(st.sampled_from(_FAR_TIMES))
    elif kind == "huge_number":
        numbers = sorted(k for k, v in payload.items() if isinstance(v, int) and not isinstance(v, bool))
        if "budget" in payload:
            payload["budget"] = {line: draw(st.sampled_from(_HUGE_NUMBERS)) for line in payload["budget"]}
        else:
            payload[draw(st.sampled_from(numbers or fields))] = draw(st.sampled_from(_HUGE_NUMBERS))
    elif kind == "oversized_body":
        payload["padding"] = "x" * draw(st.integers(600_000, 900_000))
    else:
        # The key or the headers are the edge: the data is broken too (a required field left out),
        # so that a command whose key or headers were taken at face value still cannot change state.
        del payload[fields[0]]
        if kind == "null_key":
            key = None
        elif kind == "huge_key":
            key = b"k" * 100_000
        else:  # the same CloudEvents headers twice
            headers = [*headers, *[(name, value) for name, value in headers if name in {"ce_type", "ce_source"}]]
    return json.dumps(payload).encode(), key, headers


async def _until_each_is_accounted_for(
    topic_log: TopicLog, mutants_: list[Mutant], markers: set[str], timeout: float = 120.0
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        lettered = {
            (r.key or "").removeprefix("budget-") for r in topic_log.where(lambda r: r.topic.endswith(".dlq.v1"))
        } & markers
        answered = {r.causation_id for r in topic_log.where(lambda r: not r.topic.endswith(".dlq.v1"))}
        missing = [
            m
            for m in mutants_
            if m.marker not in lettered and dict(m.headers).get("ce_id", b"").decode() not in answered
        ]
        if not missing or time.monotonic() > deadline:
            return  # what is still missing then fails the assertions below, naming it
        await asyncio.sleep(0.5)


def _answers_to(ce_id: str) -> Callable[[Record], bool]:
    return lambda r: r.causation_id == ce_id and not r.topic.endswith(".dlq.v1")


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


def generate() -> list[Mutant]:
    found: list[Mutant] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(mutants())
    def collect(mutant: Mutant) -> None:
        found.append(mutant)

    collect()
    return found


async def test_generated_bad_input_is_dead_lettered_or_refused_and_changes_nothing(
    programme: dict[str, ServiceProcess], sender: Sender, topic_log: TopicLog, admin_db: asyncpg.Pool
) -> None:
    mutants_ = generate()
    for mutant in mutants_:
        await sender.send_raw(mutant.topic, key=mutant.key, value=mutant.value, headers=mutant.headers)
    # A good command after the bad ones, on every service: each consumer is still going.
    probes = {
        "applications": await sender.send(
            "applications.commands.v1",
            "applications.WithdrawApplication.v1",
            str(uuid.uuid4()),
            {"application_id": str(uuid.uuid4()), "reason": "probe"},
        ),
        "workshops": await sender.send(
            "workshops.commands.v1",
            "workshops.CancelWorkshop.v1",
            str(uuid.uuid4()),
            {"workshop_id": str(uuid.uuid4()), "reason": "probe"},
        ),
        "funding": await sender.send(
            "funding.commands.v1",
            "funding.AllocateBudget.v1",
            "budget-2031",
            {"allocation_id": str(uuid.uuid4()), "programme_year": 2031, "amount_nok": 0, "source": "probe"},
        ),
    }
    for service, ce_id in probes.items():
        answer = await topic_log.answer_to(ce_id, f"{service}.events.v1", timeout=120)
        assert answer[0].ce_type == f"{service}.CommandRejected.v1"

    markers = {m.marker for m in mutants_}
    # The probes' answers say their own partitions moved on; mutants on other partitions may still
    # be in flight: wait, with a deadline, until each has its dead letter or its answer.
    await _until_each_is_accounted_for(topic_log, mutants_, markers)
    letters = topic_log.where(
        lambda r: r.topic.endswith(".dlq.v1") and (r.key or "").removeprefix("budget-") in markers
    )
    lettered = {(r.key or "").removeprefix("budget-") for r in letters}
    unread = [m for m in mutants_ if m.marker not in lettered]
    for mutant in unread:
        # Not dead-lettered: only a readable command whose data passed the schema may be, and it was refused.
        ce_id = dict(mutant.headers).get("ce_id", b"").decode()
        assert mutant.mutation in {"huge_string", "deep_nesting", *EDGE_KINDS}, mutant.mutation
        # The probes' answers say their partitions moved on; a mutant on another partition may still be in flight.
        answers = await topic_log.wait_for(_answers_to(ce_id), timeout=60)
        assert len({a.ce_id for a in answers}) == 1, (mutant.mutation, dict(mutant.headers).get("ce_type"))
        assert answers[0].ce_type.endswith("CommandRejected.v1")
    for letter in letters:
        assert letter.headers["x-error-code"]
        assert letter.headers["x-original-topic"].endswith(".commands.v1")
        assert int(letter.headers["x-original-offset"]) >= 0
    # Every readable one with an id got exactly one answer.
    for mutant in mutants_:
        headers = dict(mutant.headers)
        if mutant.readable and b"ce_id" in [k.encode() for k in headers]:
            ce_id = headers["ce_id"].decode()
            answers = await topic_log.wait_for(_answers_to(ce_id))
            assert len({a.ce_id for a in answers}) == 1
    # Nothing changed state.
    ids = [uuid.UUID(m) for m in markers]
    assert (
        await admin_db.fetchval("SELECT count(*) FROM applications.applications WHERE application_id = ANY($1)", ids)
        == 0
    )
    assert await admin_db.fetchval("SELECT count(*) FROM workshops.workshops WHERE workshop_id = ANY($1)", ids) == 0
    assert await admin_db.fetchval("SELECT count(*) FROM funding.allocations WHERE allocation_id = ANY($1)", ids) == 0
    print(f"\nbad input: {len(mutants_)} generated records, {len(letters)} dead-lettered, {len(unread)} refused")
