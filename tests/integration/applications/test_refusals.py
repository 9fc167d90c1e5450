"""Every refusal of the applications contract, through Kafka: one CommandRejected, every reason, nothing changed."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from devkit.payloads import submit_application as submission
from tests.integration.applications.conftest import SUBMIT, Portal


def _with(path: str, value: Any) -> dict[str, Any]:
    """A valid submission with one (possibly nested) field replaced."""
    data = submission()
    *parents, last = path.split(".")
    target = data
    for part in parents:
        target = target[part]
    target[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "code", "field"),
    [
        ("applicant.organisation_number", "974760674", "invalid_organisation_number", "applicant.organisation_number"),
        ("applicant.organisation_number", "97476067", "invalid_organisation_number", "applicant.organisation_number"),
        ("lead_cluster", "nce-nowhere", "unknown_cluster", "lead_cluster"),
        ("partner_clusters", ["nce-raufoss", "nce-elsewhere"], "unknown_cluster", "partner_clusters.1"),
        ("partner_clusters", ["nce-systems-engineering"], "lead_cluster_in_partners", "partner_clusters"),
        ("applicant.size", "large", "not_sme", "applicant.size"),
        ("why", "Too short to say why.", "missing_why", "why"),
        ("what", [], "missing_what", "what"),
        ("what", [{"objective": "o", "indicator": "i", "target": "t"}] * 11, "missing_what", "what"),
        ("focus_areas", ["digitalisation", "new_technology"], "missing_focus_area", "focus_areas"),
        ("focus_areas", ["productivity", "blockchain"], "missing_focus_area", "focus_areas.1"),
        ("budget.requested_nok", 0, "invalid_budget", "budget.requested_nok"),
        ("budget.own_contribution_nok", 1_200_001, "invalid_budget", "budget"),
        ("period.end", "2026-12-31", "invalid_period", "period.end"),
        ("period.end", "2030-01-02", "invalid_period", "period.end"),
    ],
)
async def test_a_submission_breaking_a_rule_is_refused_with_its_code_and_creates_nothing(
    portal: Portal, admin_db: asyncpg.Pool, path: str, value: Any, code: str, field: str
) -> None:
    data = _with(path, value)
    ce_id = await portal.submit(data)

    rejection = await portal.rejection(ce_id)
    assert [(r.code, r.field) for r in rejection.reasons] == [(code, field)]
    assert (rejection.command_id, rejection.command_type, rejection.subject) == (ce_id, SUBMIT, data["application_id"])
    assert await _stored(admin_db, data["application_id"]) is None
    assert portal.notifications(data["application_id"]) == []


async def test_a_refusal_reports_every_reason_found_in_the_command(portal: Portal, admin_db: asyncpg.Pool) -> None:
    data = submission(
        lead_cluster="nce-nowhere",
        partner_clusters=["nce-nowhere"],
        project_type="company_project",
        why="",
        what=[],
        focus_areas=["digitalisation"],
        budget={"total_cost_nok": 100, "requested_nok": 200, "own_contribution_nok": -5},
        period={"start": "2027-06-01", "end": "2027-06-01"},
    )
    data["applicant"] = {**data["applicant"], "organisation_number": "123456789", "size": "large"}
    ce_id = await portal.submit(data)

    rejection = await portal.rejection(ce_id)
    assert [r.code for r in rejection.reasons] == [
        "invalid_organisation_number",
        "unknown_cluster",
        "unknown_cluster",
        "lead_cluster_in_partners",
        "not_sme",
        "missing_why",
        "missing_what",
        "missing_focus_area",
        "invalid_budget",
        "invalid_budget",
        "invalid_budget",
        "invalid_period",
    ]
    assert all(r.message for r in rejection.reasons)
    assert await _stored(admin_db, data["application_id"]) is None


async def test_the_same_id_with_other_content_is_a_duplicate_and_the_same_content_again_changes_nothing(
    portal: Portal, admin_db: asyncpg.Pool
) -> None:
    data = submission()
    app = data["application_id"]
    first = await portal.submit(data)
    await portal.answer(first, count=1)

    again = await portal.submit(data)  # the same content under a new id: a re-sent submission
    other = await portal.submit({**data, "title": "Another project altogether"})

    assert [(r.code, r.field) for r in (await portal.rejection(again)).reasons] == [
        ("already_submitted", "application_id")
    ]
    assert [(r.code, r.field) for r in (await portal.rejection(other)).reasons] == [
        ("duplicate_application", "application_id")
    ]
    await portal.log.settle()
    assert portal.events(app).count("applications.ApplicationSubmitted.v1") == 1
    assert [n.template for n in portal.notifications(app)] == [
        "applications.received",
        "applications.preconditions_missing",
    ]
    stored = await _stored(admin_db, app)
    assert stored is not None
    assert (stored["version"], stored["title"]) == (1, data["title"])


async def test_amending_an_unknown_application_is_refused_with_every_reason(portal: Portal) -> None:
    ce_id = await portal.amend(
        str(uuid.uuid4()), why="short", budget={"total_cost_nok": 1, "requested_nok": 2, "own_contribution_nok": 1}
    )
    assert [(r.code, r.field) for r in (await portal.rejection(ce_id)).reasons] == [
        ("unknown_application", "application_id"),
        ("missing_why", "changes.why"),
        ("invalid_budget", "changes.budget.requested_nok"),
        ("invalid_budget", "changes.budget"),
    ]


async def test_an_amendment_follows_the_submission_rules_and_a_refused_one_keeps_the_version(
    portal: Portal, admin_db: asyncpg.Pool
) -> None:
    data = submission()
    app = data["application_id"]
    await portal.answer(await portal.submit(data))

    ce_id = await portal.amend(
        app, what=[], focus_areas=["blockchain"], period={"start": "2027-01-01", "end": "2031-01-01"}
    )
    assert [(r.code, r.field) for r in (await portal.rejection(ce_id)).reasons] == [
        ("missing_what", "changes.what"),
        ("missing_focus_area", "changes.focus_areas.0"),
        ("missing_focus_area", "changes.focus_areas"),
        ("invalid_period", "changes.period.end"),
    ]
    stored = await _stored(admin_db, app)
    assert stored is not None
    assert stored["version"] == 1


async def test_commands_on_an_application_never_submitted_are_refused_as_unknown(portal: Portal) -> None:
    app = str(uuid.uuid4())
    for ce_id in (await portal.confirm(app), await portal.withdraw(app)):
        assert [(r.code, r.field) for r in (await portal.rejection(ce_id)).reasons] == [
            ("unknown_application", "application_id")
        ]
    await portal.log.settle(0.5)
    assert [t for t in portal.events(app) if t != "applications.CommandRejected.v1"] == []


async def test_a_declined_or_withdrawn_application_refuses_commitment_and_withdrawal_as_closed(portal: Portal) -> None:
    withdrawn = submission()
    await portal.answer(await portal.submit(withdrawn))
    await portal.answer(await portal.withdraw(withdrawn["application_id"]))

    declined = submission(how="In three sprints with the line's operators.")
    app = declined["application_id"]
    await portal.answer(await portal.submit(declined))
    await portal.attend(declined["applicant"]["organisation_number"])
    await portal.wait_event(app, "applications.ClarificationCompleted.v1")
    await portal.answer(await portal.confirm(app), count=2)  # confirmed, then ready
    await portal.decline(app)
    await portal.wait_event(app, "applications.ApplicationDeclined.v1")

    answers = [
        (await portal.rejection(await portal.confirm(withdrawn["application_id"]))).reasons,
        (await portal.rejection(await portal.withdraw(withdrawn["application_id"]))).reasons,
        (await portal.rejection(await portal.withdraw(app))).reasons,
    ]
    assert [[r.code for r in reasons] for reasons in answers] == [["application_closed"]] * 3
    # Confirming a declined one: closed, and its commitment was given long ago.
    confirm_declined = (await portal.rejection(await portal.confirm(app))).reasons
    assert [r.code for r in confirm_declined] == ["application_closed", "already_confirmed"]


async def test_a_commitment_confirmed_twice_is_confirmed_once(portal: Portal) -> None:
    data = submission()
    app = data["application_id"]
    await portal.answer(await portal.submit(data))
    first = await portal.answer(await portal.confirm(app))
    assert [r.ce_type for r in first] == ["applications.ManagementCommitmentConfirmed.v1"]

    second = await portal.rejection(await portal.confirm(app))
    assert [r.code for r in second.reasons] == ["already_confirmed"]
    assert portal.events(app).count("applications.ManagementCommitmentConfirmed.v1") == 1


async def _stored(admin_db: asyncpg.Pool, application_id: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await admin_db.fetchrow(
        "SELECT status, version, content ->> 'title' AS title FROM applications.applications WHERE application_id = $1",
        uuid.UUID(application_id),
    )
    return row
