"""The workshops look-up: workshops by period, cluster and town, with seats taken, the waitlist and attendance.

Only counts are read from the registrations: never a participant's name or e-mail. Facilitators
are left out too, since they are named by their e-mail.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.db import Connection
from shared.lookups import Keyset, Lookup, LookupArgumentError, Param
from workshops.domain.calendar import name_key

PAGE_LIMIT_DEFAULT = 100


class WorkshopFigures(BaseModel):
    workshop_id: UUID
    kind: Literal["clarification", "competence", "cluster_meeting"]
    title: str
    hosting_cluster: str
    town: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    past: bool = Field(description="it has ended")
    cancelled_at: datetime | None
    capacity: int
    seats_taken: int = Field(description="confirmed registrations")
    waitlist: int = Field(description="registrations waiting for a seat")
    attended: int = Field(description="registrations recorded as attending")
    companies_attended: int = Field(description="distinct organisation numbers among those who attended")


class PlaceActivity(BaseModel):
    """What the workshops held at one place (a hosting cluster or a town) reached in a period."""

    name: str
    workshops_held: int = Field(description="not cancelled, and ended or with attendance recorded")
    participants: int = Field(description="registrations recorded as attending")
    companies: int = Field(description="distinct organisation numbers among those who attended, over all its workshops")


class Activity(BaseModel):
    """Workshops held in a period, by hosting cluster and by town, companies counted once per place."""

    clusters: list[PlaceActivity]
    towns: list[PlaceActivity]


class WorkshopPage(BaseModel):
    """Workshops in start order; `next_cursor` asks for the next page, null on the last."""

    items: list[WorkshopFigures]
    next_cursor: str | None


def _period(arguments: Mapping[str, Any]) -> tuple[date | None, date | None]:
    """The look-up's `from` and `to` days, either open; refused when `to` comes first."""
    first: date | None = arguments["from"]
    last: date | None = arguments["to"]
    if first is not None and last is not None and last < first:
        msg = "to: before from"
        raise LookupArgumentError(msg)
    return first, last


async def workshops(conn: Connection, arguments: Mapping[str, Any]) -> WorkshopPage:
    first, last = _period(arguments)
    page = Keyset.of(arguments, default_limit=PAGE_LIMIT_DEFAULT)
    town: str | None = arguments["town"]
    # Days are Oslo's: a workshop belongs to the day it starts on there.
    rows = await conn.fetch(
        """SELECT w.workshop_id, w.kind, w.title, w.hosting_cluster, w.town, w.venue, w.starts_at, w.ends_at,
                  w.ends_at < now() AS past, w.cancelled_at, w.capacity, w.seats_taken,
                  count(r.*) FILTER (WHERE r.status = 'waitlisted') AS waitlist,
                  count(r.*) FILTER (WHERE r.attended_at IS NOT NULL) AS attended,
                  count(DISTINCT r.organisation_number) FILTER (WHERE r.attended_at IS NOT NULL) AS companies_attended
           FROM workshops w LEFT JOIN registrations r USING (workshop_id)
           WHERE ($1::date IS NULL OR w.starts_at >= ($1::date::timestamp AT TIME ZONE 'Europe/Oslo'))
             AND ($2::date IS NULL OR w.starts_at < (($2::date + 1)::timestamp AT TIME ZONE 'Europe/Oslo'))
             AND ($3::text IS NULL OR w.hosting_cluster = $3)
             AND ($4::text IS NULL OR w.town_key = $4)
             AND ($5::timestamptz IS NULL OR (w.starts_at, w.workshop_id) > ($5, $6::uuid))
           GROUP BY w.workshop_id
           ORDER BY w.starts_at, w.workshop_id
           LIMIT $7""",
        first,
        last,
        arguments["cluster"],
        name_key(town) if town is not None else None,
        page.after_at,
        page.after_id,
        page.rows_to_fetch,
    )
    items, next_cursor = page.cut(
        [WorkshopFigures(**dict(row)) for row in rows], lambda item: (item.starts_at, item.workshop_id)
    )
    return WorkshopPage(items=items, next_cursor=next_cursor)


_HELD_IN_PERIOD = """WITH held AS (
        SELECT w.workshop_id, w.hosting_cluster, w.town FROM workshops w
        WHERE w.cancelled_at IS NULL
          AND ($1::date IS NULL OR w.starts_at >= ($1::date::timestamp AT TIME ZONE 'Europe/Oslo'))
          AND ($2::date IS NULL OR w.starts_at < (($2::date + 1)::timestamp AT TIME ZONE 'Europe/Oslo'))
          AND (w.ends_at < now() OR EXISTS (
                SELECT 1 FROM registrations a WHERE a.workshop_id = w.workshop_id AND a.attended_at IS NOT NULL)))
    SELECT h.{place} AS name, count(DISTINCT h.workshop_id) AS workshops_held,
           count(r.*) FILTER (WHERE r.attended_at IS NOT NULL) AS participants,
           count(DISTINCT r.organisation_number) FILTER (WHERE r.attended_at IS NOT NULL) AS companies
    FROM held h LEFT JOIN registrations r USING (workshop_id)
    GROUP BY h.{place} ORDER BY h.{place}"""


async def activity(conn: Connection, arguments: Mapping[str, Any]) -> Activity:
    first, last = _period(arguments)
    by_place = {
        place: [
            PlaceActivity(**dict(row)) for row in await conn.fetch(_HELD_IN_PERIOD.format(place=place), first, last)
        ]
        for place in ("hosting_cluster", "town")
    }
    return Activity(clusters=by_place["hosting_cluster"], towns=by_place["town"])


LOOKUPS = (
    Lookup(
        "/v1/workshops",
        "Workshops, upcoming and past, by period, cluster and town, with seats taken, waitlist and attendance",
        WorkshopPage,
        workshops,
        params=(
            Param("from", date, "starting on or after this day (Europe/Oslo)"),
            Param("to", date, "starting on or before this day (Europe/Oslo)"),
            Param("cluster", str, "hosted by this cluster (its id)"),
            Param("town", str, "in this town (case and spacing do not matter)"),
            Param("limit", Annotated[int, Field(ge=1, le=1000)], f"workshops per page (default {PAGE_LIMIT_DEFAULT})"),
            Param("cursor", str, "the previous page's next_cursor"),
        ),
    ),
    Lookup(
        "/v1/activity",
        "Workshops held in a period by hosting cluster and by town: participants, and companies counted once",
        Activity,
        activity,
        params=(
            Param("from", date, "starting on or after this day (Europe/Oslo)"),
            Param("to", date, "starting on or before this day (Europe/Oslo)"),
        ),
    ),
)
