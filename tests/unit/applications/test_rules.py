"""The applications rules on their own: content refusals, statuses, versions, readiness and notices."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import pytest
from applications.domain import content as rules
from applications.domain import lifecycle as domain
from applications.domain.lifecycle import Application, Clarification
from applications.domain.lifecycle import Decision as Outcome
from applications.domain.policy import Policy
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from devkit.payloads import submit_application as valid_submission
from shared.contract.applications import (
    AmendApplication,
    ApplicationAmended,
    ApplicationApproved,
    ApplicationChanges,
    ApplicationDeclined,
    ApplicationReadyForDecision,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    ClarificationCompleted,
    ConfirmManagementCommitment,
    ManagementCommitmentConfirmed,
    SubmitApplication,
    WithdrawApplication,
)
from shared.contract.reference import CLUSTERS as DEFAULT_CLUSTERS
from shared.outcome import NOTHING

AT = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
CLUSTERS = frozenset(DEFAULT_CLUSTERS)
POLICY = Policy(clusters=CLUSTERS)
WORKSHOP = uuid.uuid4()
M = TypeVar("M", bound=BaseModel)


def submission(**changes: Any) -> dict[str, Any]:
    """A valid SubmitApplication of one known company (a fixed organisation number keeps rules tests exact)."""
    return valid_submission("974760673", **changes)


def wire(model: type[M], data: dict[str, Any]) -> M:
    """Read a message as the service does: from JSON (dates are strictly `YYYY-MM-DD` strings there)."""
    return model.model_validate_json(json.dumps(data))


def command(**changes: Any) -> SubmitApplication:
    return wire(SubmitApplication, submission(**changes))


def refusal_codes(**changes: Any) -> list[str]:
    return [r.code for r in rules.content_refusals(command(**changes).content(), clusters=CLUSTERS)]


def reasons(outcome: Outcome) -> list[tuple[str, str | None]]:
    return [(r.code, r.field) for r in outcome.reasons]


def submitted(remembered: Clarification | None = None, **changes: Any) -> Application:
    outcome = domain.submit(None, command(**changes), policy=POLICY, remembered=remembered, at=AT)
    assert outcome.state is not None
    return outcome.state


def amend(app: Application | None, application_id: uuid.UUID | None = None, **changes: Any) -> Outcome:
    cmd = wire(
        AmendApplication,
        {"application_id": str(application_id or (app.application_id if app else uuid.uuid4())), "changes": changes},
    )
    return domain.amend(app, cmd, at=AT)


def confirm(app: Application | None) -> Outcome:
    cmd = ConfirmManagementCommitment.model_validate(
        {
            "application_id": str(app.application_id if app else uuid.uuid4()),
            "confirmed_by": {"name": "Ola Nordmann", "role": "CEO"},
            "confirmed_at": "2027-01-11T10:00:00+01:00",
        }
    )
    return domain.confirm(app, cmd, at=AT)


def withdraw(app: Application | None) -> Outcome:
    cmd = WithdrawApplication(application_id=app.application_id if app else uuid.uuid4(), reason="changed plans")
    return domain.withdraw(app, cmd)


def clarify(app: Application) -> Outcome:
    return domain.clarify(app, Clarification(WORKSHOP, AT - timedelta(days=1)), at=AT)


def after(outcome: Outcome) -> Application:
    assert outcome.state is not None, outcome.reasons
    return outcome.state


def ready(app: Application) -> Application:
    app = after(amend(app, how="In three sprints with the line's operators."))
    app = after(confirm(app))
    return after(clarify(app))


def types(outcome: Outcome) -> list[str]:
    return [type(e).__name__ for e in outcome.events]


def templates(outcome: Outcome) -> list[str]:
    return [n.template.name for n in outcome.notices]


# the organisation number


@pytest.mark.parametrize("number", ["974760673", "923609016", "987654325", "810034882"])
def test_an_organisation_number_with_a_matching_check_digit_passes(number: str) -> None:
    assert rules.organisation_number_refusals(number) == []


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("974760674", "check digit does not match"),
        ("123456789", "check digit does not match"),
        ("97476067", "an organisation number is 9 digits"),
        ("9747606730", "an organisation number is 9 digits"),
        ("97476067X", "an organisation number is 9 digits"),
        ("", "an organisation number is 9 digits"),
        ("\uff19\uff17\uff14\uff17\uff16\uff10\uff16\uff17\uff13", "an organisation number is 9 digits"),  # full-width
    ],
)
def test_an_organisation_number_is_refused_when_not_9_digits_or_its_check_digit_is_wrong(
    number: str, message: str
) -> None:
    [reason] = rules.organisation_number_refusals(number)
    assert (reason.code, reason.field, reason.message) == (
        "invalid_organisation_number",
        "applicant.organisation_number",
        message,
    )


def test_an_organisation_number_whose_check_digit_would_be_10_is_never_valid() -> None:
    # A weighted sum with remainder 1 asks for check digit 11 - 1 = 10, which no single digit can be.
    base = next(
        f"{n:08d}"
        for n in range(10_000_000, 10_001_000)
        if sum(int(d) * w for d, w in zip(f"{n:08d}", (3, 2, 7, 6, 5, 4, 3, 2), strict=True)) % 11 == 1
    )
    assert all(rules.organisation_number_refusals(base + str(d)) for d in range(10))


# clusters, SME, why, what, focus areas


def test_a_lead_or_partner_outside_the_cluster_list_is_refused_one_reason_each() -> None:
    outcome = rules.cluster_refusals("nce-nowhere", ["nce-raufoss", "nce-elsewhere"], clusters=CLUSTERS)
    assert [(r.code, r.field) for r in outcome] == [
        ("unknown_cluster", "lead_cluster"),
        ("unknown_cluster", "partner_clusters.1"),
    ]


def test_the_cluster_list_is_configuration_a_new_cluster_is_known_without_a_release() -> None:
    grown = CLUSTERS | {"nce-ocean-tech"}
    assert rules.cluster_refusals("nce-ocean-tech", [], clusters=grown) == []
    assert [r.code for r in rules.cluster_refusals("nce-ocean-tech", [], clusters=CLUSTERS)] == ["unknown_cluster"]


def test_the_lead_cluster_cannot_also_be_a_partner() -> None:
    assert refusal_codes(partner_clusters=["nce-raufoss", "nce-systems-engineering"]) == ["lead_cluster_in_partners"]


@pytest.mark.parametrize(
    ("size", "project_type", "refused"),
    [
        ("large", "company_project", True),
        ("large", "cluster_project", False),
        ("large", "competence_programme", False),
        ("medium", "company_project", False),
        ("micro", "company_project", False),
    ],
)
def test_a_company_project_is_for_smes_only(size: str, project_type: str, refused: bool) -> None:
    applicant = {**submission()["applicant"], "size": size}
    assert (refusal_codes(applicant=applicant, project_type=project_type) == ["not_sme"]) is refused


@pytest.mark.parametrize(
    ("why", "refused"), [("", True), ("x" * 29, True), ("   " + "x" * 29 + "  ", True), ("x" * 30, False)]
)
def test_why_is_refused_when_empty_or_under_30_characters(why: str, refused: bool) -> None:
    assert (refusal_codes(why=why) == ["missing_why"]) is refused


def test_what_needs_at_least_one_objective_and_at_most_10() -> None:
    objective = {"objective": "Fewer stops", "indicator": "stops", "target": "-50 %"}
    assert refusal_codes(what=[]) == ["missing_what"]
    assert refusal_codes(what=[objective] * 10) == []
    assert refusal_codes(what=[objective] * 11) == ["missing_what"]
    assert refusal_codes(what=[objective, {**objective, "objective": "  "}]) == ["missing_what"]


@pytest.mark.parametrize(
    ("areas", "fields"),
    [
        (["system_innovation"], []),
        (["productivity", "new_technology"], []),
        (["digitalisation", "new_technology"], ["focus_areas"]),
        ([], ["focus_areas"]),
        (["productivity", "blockchain"], ["focus_areas.1"]),
        (["blockchain"], ["focus_areas.0", "focus_areas"]),
    ],
)
def test_a_project_names_system_innovation_or_productivity_among_the_allowed_focus_areas(
    areas: list[str], fields: list[str]
) -> None:
    found = rules.focus_area_refusals(areas)
    assert [r.field for r in found] == fields
    assert {r.code for r in found} <= {"missing_focus_area"}


# budget and period


@pytest.mark.parametrize(
    ("budget", "fields"),
    [
        ((2_000_000, 800_000, 1_200_000), []),
        ((2_000_000, 800_000, 1_000_000), []),  # the rest may come from elsewhere
        ((0, 800_000, 1_200_000), ["budget.total_cost_nok", "budget.requested_nok", "budget"]),
        ((2_000_000, -1, 1_200_000), ["budget.requested_nok"]),
        ((2_000_000, 800_000, 0), ["budget.own_contribution_nok"]),
        ((2_000_000, 2_000_001, 1), ["budget.requested_nok", "budget"]),
        ((2_000_000, 800_001, 1_200_000), ["budget"]),
        ((10**13, 10**12, 10**12), ["budget.total_cost_nok"]),
    ],
)
def test_a_budget_is_positive_and_requested_plus_own_contribution_stays_within_total_cost(
    budget: tuple[int, int, int], fields: list[str]
) -> None:
    total, requested, own = budget
    data = {"total_cost_nok": total, "requested_nok": requested, "own_contribution_nok": own}
    found = rules.content_refusals(command(budget=data).content(), clusters=CLUSTERS)
    assert [r.field for r in found] == fields
    assert {r.code for r in found} <= {"invalid_budget"}


@pytest.mark.parametrize(
    ("start", "end", "refused"),
    [
        ("2027-01-01", "2027-12-31", False),
        ("2027-01-01", "2027-01-02", False),
        ("2027-01-01", "2027-01-01", True),
        ("2027-01-01", "2026-12-31", True),
        ("2027-01-01", "2030-01-01", False),  # exactly 36 months
        ("2027-01-01", "2030-01-02", True),
        ("2027-01-31", "2030-01-31", False),
        ("2027-03-31", "2030-03-31", False),
        ("2025-02-28", "2028-02-28", False),
        ("2025-02-28", "2028-02-29", True),
    ],
)
def test_a_period_ends_after_it_starts_and_lasts_at_most_36_months(start: str, end: str, refused: bool) -> None:
    assert (refusal_codes(period={"start": start, "end": end}) == ["invalid_period"]) is refused


def test_adding_months_keeps_the_day_or_takes_the_shorter_months_last() -> None:
    assert rules.add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert rules.add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert rules.add_months(date(2027, 12, 15), 36) == date(2030, 12, 15)
    assert rules.add_months(date(9998, 6, 1), 36) is None


def test_a_refusal_reports_every_reason_found_not_only_the_first() -> None:
    applicant = {**submission()["applicant"], "organisation_number": "974760674", "size": "large"}
    codes = refusal_codes(
        applicant=applicant,
        lead_cluster="nce-nowhere",
        partner_clusters=["nce-nowhere"],
        why="too short",
        what=[],
        focus_areas=["digitalisation"],
        budget={"total_cost_nok": 100, "requested_nok": 200, "own_contribution_nok": 0},
        period={"start": "2027-01-01", "end": "2026-01-01"},
    )
    assert codes == [
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


# submission


def test_a_submission_gives_the_whole_application_and_tells_the_applicant_what_is_missing() -> None:
    cmd = command()
    outcome = domain.submit(None, cmd, policy=POLICY, remembered=None, at=AT)
    [event] = outcome.events
    assert isinstance(event, ApplicationSubmitted)
    assert event.status == "submitted"
    assert event.version == 1
    assert event.model_dump(exclude={"status", "version"}) == cmd.model_dump()
    app = after(outcome)
    assert (app.status, app.version) == ("submitted", 1)
    received, missing = outcome.notices
    assert (received.template.name, received.email, received.template.audience) == (
        "applications.received",
        "kari@example.no",
        "applicant",
    )
    assert missing.template.name == "applications.preconditions_missing"
    assert missing.params["missing"] == ["plan", "commitment", "clarification"]


def test_a_plan_given_with_the_submission_counts_and_a_blank_one_does_not() -> None:
    with_plan = domain.submit(None, command(how="With the operators."), policy=POLICY, remembered=None, at=AT)
    assert with_plan.notices[1].params["missing"] == ["commitment", "clarification"]
    assert after(with_plan).plan_completed_at == AT
    blank = domain.submit(None, command(how="   "), policy=POLICY, remembered=None, at=AT)
    assert blank.notices[1].params["missing"] == ["plan", "commitment", "clarification"]


def test_a_clarification_attended_before_the_submission_counts_at_once() -> None:
    attended = Clarification(WORKSHOP, AT - timedelta(days=3))
    outcome = domain.submit(None, command(), policy=POLICY, remembered=attended, at=AT)
    assert types(outcome) == ["ApplicationSubmitted", "ClarificationCompleted"]
    completed = outcome.events[1]
    assert isinstance(completed, ClarificationCompleted)
    assert (completed.workshop_id, completed.attended_at) == (WORKSHOP, attended.attended_at)
    assert templates(outcome) == ["applications.received", "applications.preconditions_missing"]
    assert outcome.notices[1].params["missing"] == ["plan", "commitment"]


def test_a_refused_submission_creates_nothing() -> None:
    outcome = domain.submit(None, command(why=""), policy=POLICY, remembered=None, at=AT)
    assert outcome.state is None
    assert outcome.events == ()
    assert outcome.notices == ()
    assert reasons(outcome) == [("missing_why", "why")]


def test_the_same_id_with_other_content_is_a_duplicate_and_with_the_same_content_changes_nothing() -> None:
    first = command()
    app = after(domain.submit(None, first, policy=POLICY, remembered=None, at=AT))
    same = domain.submit(app, first, policy=POLICY, remembered=None, at=AT)
    assert reasons(same) == [("already_submitted", "application_id")]
    other = wire(SubmitApplication, {**first.model_dump(mode="json"), "title": "Another title"})
    assert reasons(domain.submit(app, other, policy=POLICY, remembered=None, at=AT)) == [
        ("duplicate_application", "application_id")
    ]
    broken = wire(SubmitApplication, {**first.model_dump(mode="json"), "why": ""})
    assert reasons(domain.submit(app, broken, policy=POLICY, remembered=None, at=AT)) == [
        ("duplicate_application", "application_id"),
        ("missing_why", "why"),
    ]


def test_an_amended_application_resent_as_first_submitted_is_still_the_same_submission() -> None:
    first = command()
    app = after(domain.submit(None, first, policy=POLICY, remembered=None, at=AT))
    app = after(amend(app, why="y" * 40))
    assert reasons(domain.submit(app, first, policy=POLICY, remembered=None, at=AT)) == [
        ("already_submitted", "application_id")
    ]


# amendment


def test_an_amendment_gives_the_changed_fields_and_the_next_version() -> None:
    app = submitted()
    outcome = amend(app, why="w" * 40, budget={"total_cost_nok": 3, "requested_nok": 1, "own_contribution_nok": 2})
    [event] = outcome.events
    assert isinstance(event, ApplicationAmended)
    assert event.version == 2
    assert event.changes.model_dump(exclude_unset=True) == {
        "why": "w" * 40,
        "budget": {"total_cost_nok": 3, "requested_nok": 1, "own_contribution_nok": 2},
    }
    amended = after(outcome)
    assert amended.content.why == "w" * 40
    assert amended.content.budget.requested_nok == 1
    assert amended.content.title == app.content.title
    assert after(amend(amended, what=[{"objective": "More"}])).version == 3


def test_an_amendment_follows_the_submission_rules_for_the_fields_it_names() -> None:
    outcome = amend(
        submitted(),
        why="short",
        what=[],
        focus_areas=["digitalisation"],
        budget={"total_cost_nok": 1, "requested_nok": 2, "own_contribution_nok": 0},
        period={"start": "2027-01-01", "end": "2031-01-01"},
    )
    assert reasons(outcome) == [
        ("missing_why", "changes.why"),
        ("missing_what", "changes.what"),
        ("missing_focus_area", "changes.focus_areas"),
        ("invalid_budget", "changes.budget.own_contribution_nok"),
        ("invalid_budget", "changes.budget.requested_nok"),
        ("invalid_budget", "changes.budget"),
        ("invalid_period", "changes.period.end"),
    ]


def test_an_amendment_of_an_unknown_application_is_refused_with_every_reason() -> None:
    assert reasons(amend(None, why="short")) == [
        ("unknown_application", "application_id"),
        ("missing_why", "changes.why"),
    ]


def test_a_plan_taken_back_before_readiness_no_longer_counts() -> None:
    app = after(amend(submitted(), how="A plan."))
    assert app.plan_completed_at == AT
    app = after(amend(app, how=None))
    assert app.plan_completed_at is None
    assert app.missing() == ("plan", "commitment", "clarification")


@pytest.mark.parametrize("status", ["ready_for_decision", "approved", "declined", "withdrawn"])
def test_an_application_is_locked_from_ready_for_decision_on(status: str) -> None:
    app = ready(submitted())
    assert app.status == "ready_for_decision"
    if status == "approved":
        app = after(domain.approve(app, amount_nok=100))
    elif status == "declined":
        app = after(domain.decline(app, reason="no"))
    elif status == "withdrawn":
        app = after(withdraw(app))
    assert app.status == status
    assert reasons(amend(app, why="w" * 40)) == [("application_locked", "application_id")]


def test_the_changes_name_at_least_one_field_and_only_how_may_be_null() -> None:
    with pytest.raises(ValidationError):
        ApplicationChanges.model_validate({})
    with pytest.raises(ValidationError):
        ApplicationChanges.model_validate({"why": None})
    with pytest.raises(ValidationError):
        ApplicationChanges.model_validate({"title": "not amendable"})
    assert ApplicationChanges.model_validate({"how": None}).given() == {"how": None}


# commitment and withdrawal


def test_a_commitment_is_confirmed_once() -> None:
    app = submitted()
    outcome = confirm(app)
    [event] = outcome.events
    assert isinstance(event, ManagementCommitmentConfirmed)
    assert event.confirmed_by.name == "Ola Nordmann"
    assert reasons(confirm(after(outcome))) == [("already_confirmed", "application_id")]


def test_a_commitment_is_refused_for_an_unknown_or_closed_application() -> None:
    assert reasons(confirm(None)) == [("unknown_application", "application_id")]
    withdrawn = after(withdraw(submitted()))
    assert reasons(confirm(withdrawn)) == [("application_closed", "application_id")]
    declined = after(domain.decline(ready(submitted()), reason="no"))
    assert reasons(confirm(declined)) == [
        ("application_closed", "application_id"),
        ("already_confirmed", "application_id"),
    ]


@pytest.mark.parametrize("status", ["submitted", "ready_for_decision", "approved"])
def test_withdrawal_is_allowed_until_declined_or_withdrawn_approval_included(status: str) -> None:
    app = submitted()
    if status != "submitted":
        app = ready(app)
    if status == "approved":
        app = after(domain.approve(app, amount_nok=500_000))
    outcome = withdraw(app)
    [event] = outcome.events
    assert isinstance(event, ApplicationWithdrawn)
    assert (event.reason, event.status_before) == ("changed plans", status)
    assert after(outcome).status == "withdrawn"
    assert outcome.notices == ()


def test_withdrawal_is_refused_for_an_unknown_declined_or_withdrawn_application() -> None:
    assert reasons(withdraw(None)) == [("unknown_application", "application_id")]
    withdrawn = after(withdraw(submitted()))
    assert reasons(withdraw(withdrawn)) == [("application_closed", "application_id")]
    declined = after(domain.decline(ready(submitted()), reason="no"))
    assert reasons(withdraw(declined)) == [("application_closed", "application_id")]


# readiness in any order


STEPS = {
    "plan": lambda app: amend(app, how="In three sprints."),
    "commitment": confirm,
    "clarification": clarify,
}


@pytest.mark.parametrize("order", list(itertools.permutations(STEPS)))
def test_ready_for_decision_comes_once_when_the_last_of_the_three_preconditions_arrives(order: tuple[str, ...]) -> None:
    app = submitted()
    seen: list[str] = []
    for i, step in enumerate(order):
        outcome = STEPS[step](app)
        app = after(outcome)
        seen += types(outcome)
        last = i == len(order) - 1
        assert ("ApplicationReadyForDecision" in types(outcome)) is last
        assert app.status == ("ready_for_decision" if last else "submitted")
    assert seen.count("ApplicationReadyForDecision") == 1
    assert seen[-1] == "ApplicationReadyForDecision"


def test_readiness_carries_what_funding_needs_and_tells_the_case_handlers() -> None:
    app = submitted()
    app = after(amend(app, how="A plan."))
    app = after(confirm(app))
    outcome = clarify(app)
    event = outcome.events[-1]
    assert isinstance(event, ApplicationReadyForDecision)
    assert event.model_dump() == {
        "application_id": app.application_id,
        "organisation_number": "974760673",
        "applicant_name": "Kongsberg Maritim Teknikk AS",
        "size": "small",
        "lead_cluster": "nce-systems-engineering",
        "project_type": "company_project",
        "title": "Digital twin for the machining line",
        "requested_nok": 800_000,
        "total_cost_nok": 2_000_000,
    }
    [notice] = outcome.notices
    assert (notice.template.audience, notice.template.role, notice.email, notice.template.name) == (
        "staff",
        "case-handlers",
        None,
        "applications.ready_for_decision",
    )
    assert after(outcome).ready_at == AT


@given(st.lists(st.sampled_from(["plan", "commitment", "clarification", "why", "unplan"]), max_size=14))
def test_whatever_arrives_and_however_often_ready_comes_at_most_once_and_only_with_all_three(steps: list[str]) -> None:
    app = submitted()
    readies = 0
    for step in steps:
        if step == "why":
            outcome = amend(app, why="w" * 31)
        elif step == "unplan":
            outcome = amend(app, how=None)
        else:
            outcome = STEPS[step](app)
        if outcome.state is not None:
            app = outcome.state
        readies += types(outcome).count("ApplicationReadyForDecision")
        assert (app.status == "ready_for_decision") == (readies == 1)
    assert readies <= 1
    if readies:
        assert app.missing() == ()


def test_clarification_completes_an_open_application_once() -> None:
    app = after(clarify(submitted()))
    assert app.clarification == Clarification(WORKSHOP, AT - timedelta(days=1))
    assert clarify(app) == NOTHING
    assert clarify(after(withdraw(submitted()))) == NOTHING


@pytest.mark.parametrize(
    ("kind", "number", "counts"),
    [
        ("clarification", "974760673", True),
        ("clarification", None, False),
        ("clarification", "974760674", False),
        ("competence", "974760673", False),
        ("cluster_meeting", "974760673", False),
    ],
)
def test_only_a_clarification_workshop_of_a_named_company_counts(kind: str, number: str | None, counts: bool) -> None:
    assert domain.counts_as_clarification(kind=kind, organisation_number=number) is counts


# funding outcomes


def test_a_grant_approves_an_application_ready_for_decision_and_leaves_telling_the_applicant_to_funding() -> None:
    outcome = domain.approve(ready(submitted()), amount_nok=750_000)
    [event] = outcome.events
    assert isinstance(event, ApplicationApproved)
    assert event.amount_nok == 750_000
    assert after(outcome).status == "approved"
    assert outcome.notices == ()  # funding's grant_awaiting_acceptance tells of the same grant


def test_a_decline_declines_an_application_ready_for_decision_and_tells_the_applicant() -> None:
    outcome = domain.decline(ready(submitted()), reason="outside the programme's aims")
    [event] = outcome.events
    assert isinstance(event, ApplicationDeclined)
    assert event.reason == "outside the programme's aims"
    assert after(outcome).status == "declined"
    assert templates(outcome) == ["applications.declined"]


def test_a_funding_outcome_for_an_application_not_waiting_for_one_changes_nothing() -> None:
    assert domain.approve(None, amount_nok=1) == NOTHING
    assert domain.approve(submitted(), amount_nok=1) == NOTHING
    withdrawn = after(withdraw(ready(submitted())))
    assert domain.approve(withdrawn, amount_nok=1) == NOTHING
    assert domain.decline(withdrawn, reason="x") == NOTHING
    approved = after(domain.approve(ready(submitted()), amount_nok=1))
    assert domain.decline(approved, reason="x") == NOTHING


def test_the_cluster_list_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from applications.settings import ApplicationsSettings  # noqa: PLC0415 - settings only matter here

    assert ApplicationsSettings().clusters == DEFAULT_CLUSTERS
    monkeypatch.setenv("APPLICATIONS_CLUSTERS", '["nce-raufoss", "nce-ocean-tech"]')
    assert ApplicationsSettings().clusters == ("nce-raufoss", "nce-ocean-tech")
