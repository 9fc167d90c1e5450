"""A double-booking refusal through Kafka carries its basis: the workshops it clashed with, the travel gap needed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from devkit.ids import email
from devkit.payloads import morning
from devkit.payloads import schedule_workshop as workshop_data
from tests.integration.workshops.conftest import Client, iso

pytestmark = pytest.mark.usefixtures("workshops_service")


async def test_a_facilitator_too_close_to_travel_is_refused_with_the_workshop_and_the_gap_it_needed(
    client: Client,
) -> None:
    leif = email("leif")
    start = morning(61)
    end = start + timedelta(hours=2)
    booked = await client.schedule(start=start, end=end, facilitators=[leif])
    halden = {"town": "Halden", "venue": f"Tista {uuid.uuid4().hex[:6]}"}
    too_soon = workshop_data(start=end + timedelta(minutes=60), location=halden, facilitators=["x@y.example", leif])

    (refusal,) = await client.ask("ScheduleWorkshop", too_soon)

    assert refusal.ce_type == "workshops.CommandRejected.v1", refusal.data
    assert [(r["code"], r["field"]) for r in refusal.data["reasons"]] == [
        ("facilitator_double_booked", "facilitators.1")
    ]
    assert refusal.data["basis"] == {
        "clashes": [
            {
                "code": "facilitator_double_booked",
                "field": "facilitators.1",
                "workshop_id": booked["workshop_id"],
                "travel_gap_needed_minutes": 90,
                "travel_gap_minutes": 60,
            }
        ]
    }


async def test_a_move_onto_another_workshop_names_it_for_the_facilitator_and_the_venue(client: Client) -> None:
    leif = email("leif")
    other = await client.schedule(start=morning(62), facilitators=[leif])
    moving = await client.schedule(start=morning(63), facilitators=[leif])
    onto_other = {
        "workshop_id": moving["workshop_id"],
        "starts_at": other["starts_at"],
        "ends_at": iso(morning(62) + timedelta(hours=1)),
        "location": other["location"],
    }

    (refusal,) = await client.ask("RescheduleWorkshop", onto_other)

    assert refusal.ce_type == "workshops.CommandRejected.v1", refusal.data
    clashes = refusal.data["basis"]["clashes"]
    assert [(c["code"], c["field"], c["workshop_id"]) for c in clashes] == [
        ("facilitator_double_booked", "facilitators.0", other["workshop_id"]),
        ("venue_double_booked", "location", other["workshop_id"]),
    ]
    assert all(c["travel_gap_needed_minutes"] is None and c["travel_gap_minutes"] is None for c in clashes)


async def test_a_refusal_without_a_clash_has_no_basis(client: Client) -> None:
    (refusal,) = await client.ask("ScheduleWorkshop", workshop_data(hosting_cluster="nce-atlantis"))
    assert [r["code"] for r in refusal.data["reasons"]] == ["unknown_cluster"]
    assert refusal.data["basis"] is None
