"""The applications service's look-ups: one application with its history, and a filtered list, read-only.

The history is what the service published about the application, in order: the outbox's rows
under the application's key on the events topic (its refusals, `CommandRejected`, included). Sent
rows are kept for OUTBOX_RETENTION_HOURS, so the history reaches back that far; the status and
the figures come from the application's row, which is kept for good.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared import outbox
from shared.db import Connection
from shared.lookups import Keyset, Lookup, Param
from shared.topics import APPLICATIONS_EVENTS

Status = Literal[
    "submitted", "ready_for_decision", "approved", "declined", "withdrawn", "running", "lapsed", "completed"
]
PAGE_LIMIT_DEFAULT = 50
_OSLO_YEAR = "extract(year FROM submitted_at AT TIME ZONE 'Europe/Oslo')::int"
_SUMMARY_COLUMNS = """application_id, organisation_number, status,
                      content -> 'applicant' ->> 'name' AS applicant_name, content ->> 'title' AS title,
                      content ->> 'lead_cluster' AS lead_cluster, content ->> 'project_type' AS project_type,
                      (content -> 'budget' ->> 'requested_nok')::bigint AS requested_nok, approved_nok,
                      ARRAY(SELECT jsonb_array_elements_text(coalesce(content -> 'focus_areas', '[]'))) AS focus_areas,
                      submitted_at, ready_at, updated_at"""


class Event(BaseModel):
    """One event the service published about the application."""

    event_id: str
    type: str = Field(description="the CloudEvents type, e.g. applications.ApplicationSubmitted.v1")
    time: datetime
    data: dict[str, Any]
    published: bool = Field(description="false while the event waits in the outbox for the relay")


class ApplicationSummary(BaseModel):
    application_id: UUID
    organisation_number: str
    applicant_name: str
    title: str
    lead_cluster: str
    project_type: str
    focus_areas: list[str] = []
    status: Status
    requested_nok: int
    approved_nok: int | None
    submitted_at: datetime
    ready_at: datetime | None
    updated_at: datetime


class ApplicationRecord(ApplicationSummary):
    """An application, its status and its history."""

    version: int
    history: list[Event] = Field(description="every event published about it, in order, within the outbox's retention")


class ApplicationPage(BaseModel):
    """A page of applications, oldest submission first; `next_cursor` asks for the next page, null on the last."""

    items: list[ApplicationSummary]
    next_cursor: str | None


async def application(conn: Connection, arguments: Mapping[str, Any]) -> ApplicationRecord | None:
    application_id: UUID = arguments["application_id"]
    row = await conn.fetchrow(
        f"SELECT {_SUMMARY_COLUMNS}, version FROM applications WHERE application_id = $1", application_id
    )
    if row is None:
        return None
    history = [
        Event(
            event_id=event.event_id,
            type=event.ce_type,
            time=datetime.fromisoformat(event.time),
            data=json.loads(event.payload),
            published=event.sent,
        )
        for event in await outbox.published(conn, topic=APPLICATIONS_EVENTS, key=str(application_id))
    ]
    return ApplicationRecord(**dict(row), history=history)


async def applications(conn: Connection, arguments: Mapping[str, Any]) -> ApplicationPage:
    page = Keyset.of(arguments, default_limit=PAGE_LIMIT_DEFAULT)
    rows = await conn.fetch(
        f"""SELECT {_SUMMARY_COLUMNS} FROM applications
            WHERE ($1::text IS NULL OR status = $1)
              AND ($2::text IS NULL OR content ->> 'lead_cluster' = $2)
              AND ($3::int IS NULL OR {_OSLO_YEAR} = $3)
              AND ($4::timestamptz IS NULL OR (submitted_at, application_id) > ($4, $5::uuid))
            ORDER BY submitted_at, application_id
            LIMIT $6""",
        arguments["status"],
        arguments["cluster"],
        arguments["year"],
        page.after_at,
        page.after_id,
        page.rows_to_fetch,
    )
    items, next_cursor = page.cut(
        [ApplicationSummary(**dict(row)) for row in rows], lambda item: (item.submitted_at, item.application_id)
    )
    return ApplicationPage(items=items, next_cursor=next_cursor)


LOOKUPS = (
    Lookup(
        "/v1/applications/{application_id}",
        "One application: its status, figures and every event published about it, in order",
        ApplicationRecord,
        application,
        params=(Param("application_id", UUID, "the application's id"),),
    ),
    Lookup(
        "/v1/applications",
        "Applications, filtered, oldest submission first, a page at a time (keyset pagination)",
        ApplicationPage,
        applications,
        params=(
            Param("status", Status, "only applications in this status"),
            Param("cluster", str, "only applications led by this cluster (its id)"),
            Param("year", Annotated[int, Field(ge=2000, le=9999)], "submitted in this calendar year (Europe/Oslo)"),
            Param(
                "limit", Annotated[int, Field(ge=1, le=500)], f"applications per page (default {PAGE_LIMIT_DEFAULT})"
            ),
            Param("cursor", str, "the previous page's next_cursor"),
        ),
    ),
)
