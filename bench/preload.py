"""Years of history in the services' schemas, written by SQL straight into the bench's database.

The sweep (bench.scale) measures the chain with N applications, workshops and grants already
there. Sending N chains through the system would take hours at 10^6; these statements write
what those chains would have left, in the shapes the services' constraints allow: statuses
spread over the whole life of an application, seven programme years, a booked facilitator and
registrations (attended, cancelled) per workshop, a funding case, a grant and its ledger entry
per grant.

The calendar holds the N workshops within those years (and the rest of this one), so it grows
denser with N: a query that reads every workshop of a period shows at 10^5 what a real
calendar would show only after decades.

None of it gives the services' clocks work to do during a run, so that what the sweep measures
is the chain: running projects have their reminders settled, grants awaiting acceptance have
their deadline ahead, and no workshop reminder is planned.

Organisation numbers here start with 0, which a real (and the driver's) never does: a chain's
applicant never shares a history, and so never a de minimis total, with a pre-loaded one.
Rows are numbered 1..N and their ids derived from the number, so a larger size adds only the
rows a smaller one lacks.
"""

from __future__ import annotations

import json

import asyncpg

from devkit import payloads

MARKER = "scale-preload"  # the command id of every pre-loaded row: how they are counted and told apart
YEARS = 7  # programme years of history, ending the year before this one
_DAY = "interval '1 day'"


def _uuid(kind: str, number: str = "g") -> str:
    return f"md5('{kind}-' || {number})::uuid"


_ORGANISATION = "lpad(g::text, 9, '0')"
_APPLICATION = _uuid("application")
_WORKSHOP = _uuid("workshop")
# Spread over the years of history, newest last: days before the start of this year.
_SUBMITTED_AT = f"date_trunc('year', now()) - (1 + (g * 7919) % ({YEARS} * 365)) * {_DAY}"
_STATUSES = "(ARRAY['submitted','ready_for_decision','approved','declined','withdrawn','running','lapsed','completed'])"

_APPLICATIONS = f"""
INSERT INTO applications.applications (
    application_id, organisation_number, status, version, content, submitted_content,
    plan_completed_at, commitment, commitment_confirmed_at, clarification_workshop_id, clarification_attended_at,
    ready_at, approved_nok, decline_reason, withdrawal_reason, submit_command_id, submitted_at, updated_at,
    final_report_due_at, final_report_reminder_at, final_report_reminder_settled_at, final_report_overdue_settled_at)
SELECT {_APPLICATION}, {_ORGANISATION}, s, 3, $3::jsonb, $3::jsonb,
       at, CASE WHEN s <> 'submitted' THEN $4::jsonb END, CASE WHEN s <> 'submitted' THEN at + {_DAY} END,
       CASE WHEN s <> 'submitted' THEN {_WORKSHOP} END, CASE WHEN s <> 'submitted' THEN at + 2 * {_DAY} END,
       CASE WHEN s NOT IN ('submitted', 'withdrawn') THEN at + 2 * {_DAY} END,
       CASE WHEN s IN ('approved', 'running', 'lapsed', 'completed') THEN 800000 END,
       CASE WHEN s = 'declined' THEN 'outside the programme''s focus' END,
       CASE WHEN s = 'withdrawn' THEN 'the company was sold' END,
       '{MARKER}', at, at + 40 * {_DAY},
       CASE WHEN s IN ('running', 'completed') THEN at + 400 * {_DAY} END,
       CASE WHEN s IN ('running', 'completed') THEN at + 370 * {_DAY} END,
       CASE WHEN s IN ('running', 'completed') THEN at + 370 * {_DAY} END,
       CASE WHEN s IN ('running', 'completed') THEN at + 400 * {_DAY} END
FROM (SELECT g, {_STATUSES}[1 + g % 8] AS s, {_SUBMITTED_AT} AS at FROM generate_series($1::bigint, $2) AS g) AS r
"""

_ATTENDANCES = f"""
INSERT INTO applications.clarification_attendances
    (organisation_number, workshop_id, registration_id, attended_at, message_id)
SELECT {_ORGANISATION}, {_WORKSHOP}, {_uuid("attended")}, {_SUBMITTED_AT} + 2 * {_DAY}, '{MARKER}-' || g
FROM generate_series($1::bigint, $2) AS g WHERE g % 8 <> 0
"""

# Workshop g: one a day on average over the years of history and a year ahead, each in a venue of its own.
_WORKSHOPS = f"""
INSERT INTO workshops.workshops (workshop_id, kind, title, hosting_cluster, town, venue, town_key, venue_key,
                                 starts_at, ends_at, capacity, seats_taken, facilitators, cancelled_at, cancel_reason)
SELECT {_WORKSHOP}, (ARRAY['clarification','clarification','competence','cluster_meeting'])[1 + g % 4],
       'Workshop ' || g, (ARRAY['nce-raufoss','nce-systems-engineering','gce-ocean'])[1 + g % 3],
       'Town ' || g % 97, 'Venue ' || g, 'town ' || g % 97, 'venue ' || g,
       at, at + interval '3 hours', 30, CASE WHEN g % 20 = 0 THEN 0 ELSE 1 END,
       ARRAY['facilitator-' || g || '@example.no'],
       CASE WHEN g % 20 = 0 THEN at - 10 * {_DAY} END, CASE WHEN g % 20 = 0 THEN 'too few registered' END
FROM (SELECT g, date_trunc('year', now()) - ({YEARS} * 365 - (g * 7919) % (({YEARS} + 1) * 365)) * {_DAY}
                + interval '9 hours' AS at
      FROM generate_series($1::bigint, $2) AS g) AS w
"""

_BOOKINGS = f"""
INSERT INTO workshops.facilitator_bookings (workshop_id, facilitator, town_key, during, travel, active)
SELECT workshop_id, facilitators[1], town_key, tstzrange(starts_at, ends_at),
       tstzrange(starts_at, ends_at + interval '2 hours'), cancelled_at IS NULL
FROM generate_series($1::bigint, $2) AS g JOIN workshops.workshops w ON w.workshop_id = {_WORKSHOP}
"""

# Two registrations a workshop: the applicant's, confirmed (and attended once it began), and a cancelled one.
_REGISTRATIONS = f"""
INSERT INTO workshops.registrations (registration_id, workshop_id, name, email, email_key, organisation_number,
                                     status, registered_at, confirmed_at, cancelled_at, attended_at)
SELECT {_uuid("attended")}, {_WORKSHOP}, 'Kari Nordmann', 'kari-' || g || '@example.no', 'kari-' || g || '@example.no',
       {_ORGANISATION}, 'confirmed', w.starts_at - 20 * {_DAY}, w.starts_at - 20 * {_DAY}, NULL,
       CASE WHEN w.starts_at < now() THEN w.starts_at END
FROM generate_series($1::bigint, $2) AS g JOIN workshops.workshops w ON w.workshop_id = {_WORKSHOP}
WHERE g % 20 <> 0
UNION ALL
SELECT {_uuid("cancelled")}, {_WORKSHOP}, 'Ola Nordmann', 'ola-' || g || '@example.no', 'ola-' || g || '@example.no',
       {_ORGANISATION}, 'cancelled', w.starts_at - 25 * {_DAY}, w.starts_at - 25 * {_DAY}, w.starts_at - 15 * {_DAY},
       NULL
FROM generate_series($1::bigint, $2) AS g JOIN workshops.workshops w ON w.workshop_id = {_WORKSHOP}
"""

# Budgets for the years of history, large enough for every grant; grants draw from them below.
_BUDGETS = f"""
INSERT INTO funding.budgets (programme_year, total_nok, remaining_nok)
SELECT y, 10000000000000, 10000000000000
FROM generate_series(extract(year FROM now())::int - {YEARS}, extract(year FROM now())::int - 1) AS y
WHERE $1::bigint <= $2  -- the batch's bounds, unused: every statement here takes them
ON CONFLICT (programme_year) DO NOTHING
"""

_GRANTED = "(ARRAY['granted','accepted','accepted','completed','released','lapsed'])[1 + g % 6]"
_CASES = f"""
INSERT INTO funding.funding_cases (application_id, organisation_number, applicant_name, size, lead_cluster,
                                   project_type, title, requested_nok, total_cost_nok, status, opened_at, updated_at)
SELECT {_uuid("grant")}, {_ORGANISATION}, 'Company ' || g, 'small', 'nce-raufoss', 'company_project',
       'Project ' || g, 800000, 2000000, {_GRANTED}, at, at + 5 * {_DAY}
FROM (SELECT g, {_SUBMITTED_AT} AS at FROM generate_series($1::bigint, $2) AS g) AS c
"""

_ORGANISATIONS = f"""
INSERT INTO funding.organisations (organisation_number)
SELECT {_ORGANISATION} FROM generate_series($1::bigint, $2) AS g ON CONFLICT DO NOTHING
"""

_GRANTS = f"""
INSERT INTO funding.grants (application_id, organisation_number, programme_year, amount_nok, decided_by, reason,
                            command_id, granted_at, released_at, accept_by, accepted_at, final_report_accepted_at,
                            paid_nok)
SELECT c.application_id, c.organisation_number, extract(year FROM c.opened_at)::int, 800000, 'case-handler-17',
       'meets the criteria', '{MARKER}', c.opened_at,
       CASE WHEN c.status IN ('completed', 'released', 'lapsed') THEN c.opened_at + 400 * {_DAY} END,
       CASE WHEN c.status = 'granted' THEN now() + 30 * {_DAY} ELSE c.opened_at + 30 * {_DAY} END,
       CASE WHEN c.status IN ('accepted', 'completed') THEN c.opened_at + 10 * {_DAY} END,
       CASE WHEN c.status = 'completed' THEN c.opened_at + 390 * {_DAY} END,
       CASE WHEN c.status = 'completed' THEN 800000 ELSE 0 END
FROM generate_series($1::bigint, $2) AS g JOIN funding.funding_cases c ON c.application_id = {_uuid("grant")}
"""

_LEDGER = f"""
INSERT INTO funding.ledger (entry, programme_year, application_id, organisation_number, amount_nok, actor, reason,
                            command_id, occurred_at)
SELECT 'grant', g.programme_year, g.application_id, g.organisation_number, -g.amount_nok, g.decided_by, g.reason,
       '{MARKER}', g.granted_at
FROM generate_series($1::bigint, $2) AS n JOIN funding.grants g ON g.application_id = {_uuid("grant", "n")}
"""

_CONTACTS = f"""
INSERT INTO funding.applicant_contacts (application_id, contact_name, email)
SELECT {_uuid("grant")}, 'Kari Nordmann', 'kari-' || g || '@example.no' FROM generate_series($1::bigint, $2) AS g
"""

_DRAW_BUDGETS = f"""
UPDATE funding.budgets b SET remaining_nok = b.remaining_nok - d.drawn
FROM (SELECT programme_year, sum(CASE WHEN released_at IS NULL THEN amount_nok ELSE paid_nok END) AS drawn
      FROM funding.grants WHERE command_id = '{MARKER}' AND application_id = ANY(
          SELECT {_uuid("grant")} FROM generate_series($1::bigint, $2) AS g)
      GROUP BY programme_year) AS d
WHERE b.programme_year = d.programme_year
"""

# After the applications, each with the batch's first and last number.
STATEMENTS = (
    _ATTENDANCES,
    _WORKSHOPS,
    _BOOKINGS,
    _REGISTRATIONS,
    _BUDGETS,
    _CASES,
    _ORGANISATIONS,
    _GRANTS,
    _LEDGER,
    _CONTACTS,
    _DRAW_BUDGETS,
)
TABLES = (
    "applications.applications",
    "applications.clarification_attendances",
    "workshops.workshops",
    "workshops.facilitator_bookings",
    "workshops.registrations",
    "funding.budgets",
    "funding.funding_cases",
    "funding.organisations",
    "funding.grants",
    "funding.ledger",
    "funding.applicant_contacts",
)


async def preloaded(conn: asyncpg.Connection) -> int:
    """How many of each (applications, workshops, grants) the database holds already."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM applications.applications WHERE submit_command_id = $1", MARKER
    )
    return count


async def preload(dsn: str, rows: int, *, batch: int = 50_000) -> int:
    """Top up the pre-loaded history to `rows` of each; returns how many of each were added.

    Batches keep each transaction's memory and WAL bounded at 10^6; the tables are analysed
    afterwards, as autovacuum would have done over the years the rows stand for.
    """
    submitted = payloads.submit_application("000000000", how=payloads.PLAN)
    commitment = payloads.confirm_management_commitment(submitted["application_id"])
    content, commitment_json = json.dumps(submitted), json.dumps(commitment)
    conn = await asyncpg.connect(dsn)
    try:
        have = await preloaded(conn)
        for first in range(have + 1, rows + 1, batch):
            last = min(rows, first + batch - 1)
            async with conn.transaction():
                await conn.execute(_APPLICATIONS, first, last, content, commitment_json)
                for statement in STATEMENTS:
                    await conn.execute(statement, first, last)
        await conn.execute(f"ANALYZE {', '.join(TABLES)}")
    finally:
        await conn.close()
    return max(0, rows - have)
