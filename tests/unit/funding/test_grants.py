"""A grant's follow-up on its own: acceptance and its period, the lapse, payments against documented costs,
the interim cap, the final payment, and withdrawal after payments."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from funding.domain import cases, grants
from funding.domain.budgets import Budget
from funding.domain.cases import Case, CaseStatus, Contact
from funding.domain.grants import Payment, PaymentHistory
from funding.domain.policy import Policy
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.contract.applications import ConfirmedBy
from shared.contract.funding import (
    AcceptGrant,
    ApprovePayment,
    DecideFunding,
    FundingCaseClosed,
    FundingCaseOpened,
    FundingReleased,
    GrantAccepted,
    GrantLapsed,
    PaymentApproved,
)
from shared.outcome import NOTHING, Notice, Outcome

POLICY = Policy.default()
GRANTED_AT = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
ACCEPT_BY = GRANTED_AT + timedelta(days=30)
CONTACT = Contact("Kari Nordmann", "kari@example.no")
BUDGET = Budget(2027, 10_000_000, 9_200_000)  # the 800 000 grant taken


def a_case(status: CaseStatus = "accepted", *, paid: int = 0, report: bool = False, contact: bool = True) -> Case:
    opened = FundingCaseOpened(
        application_id=uuid.uuid4(),
        organisation_number="974760673",
        applicant_name="Kongsberg Maritim Teknikk AS",
        size="small",
        lead_cluster="nce-systems-engineering",
        project_type="company_project",
        title="Digital twin",
        requested_nok=800_000,
        total_cost_nok=2_000_000,
    )
    granted = status not in {"open", "declined", "closed"}
    return Case(
        opened,
        status,
        granted_nok=800_000 if granted else None,
        granted_year=2027 if granted else None,
        accept_by=ACCEPT_BY if granted else None,
        paid_nok=paid,
        final_report_accepted=report,
        contact=CONTACT if contact else None,
    )


def acceptance(case: Case) -> AcceptGrant:
    return AcceptGrant(
        application_id=case.application_id,
        accepted_by=ConfirmedBy(name="Ola Nordmann", role="CEO"),
        accepted_at=GRANTED_AT + timedelta(days=3),
    )


def payment(case: Case, documented: int, kind: str = "interim", payment_id: uuid.UUID | None = None) -> ApprovePayment:
    return ApprovePayment.model_validate(
        {
            "payment_id": payment_id or uuid.uuid4(),
            "application_id": case.application_id,
            "kind": kind,
            "documented_costs_nok": documented,
            "approved_by": "case-handler-17",
        }
    )


def codes(outcome: Outcome[Any]) -> list[str]:
    return [r.code for r in outcome.reasons]


# acceptance


def test_a_grant_accepted_by_its_deadline_is_accepted() -> None:
    case = a_case("granted")
    outcome = grants.accept(case, acceptance(case), at=ACCEPT_BY)
    assert outcome.state is not None
    assert outcome.state.case.status == "accepted"
    assert outcome.events == (
        GrantAccepted(
            application_id=case.application_id,
            amount_nok=800_000,
            programme_year=2027,
            accepted_at=GRANTED_AT + timedelta(days=3),
        ),
    )


@pytest.mark.parametrize(
    ("status", "at", "code"),
    [
        ("granted", ACCEPT_BY + timedelta(seconds=1), "acceptance_period_over"),
        ("accepted", GRANTED_AT, "already_accepted"),
        ("lapsed", GRANTED_AT, "grant_not_open"),
        ("released", GRANTED_AT, "grant_not_open"),
        ("completed", GRANTED_AT, "grant_not_open"),
        ("open", GRANTED_AT, "unknown_grant"),
        ("declined", GRANTED_AT, "unknown_grant"),
        ("closed", GRANTED_AT, "unknown_grant"),
    ],
)
def test_acceptance_refusals(status: CaseStatus, at: datetime, code: str) -> None:
    case = a_case(status)
    outcome = grants.accept(case, acceptance(case), at=at)
    assert codes(outcome) == [code]
    assert outcome.state is None


def test_acceptance_of_no_case_is_an_unknown_grant() -> None:
    case = a_case("granted")
    assert codes(grants.accept(None, acceptance(case), at=GRANTED_AT)) == ["unknown_grant"]


def test_a_grant_decision_sets_the_deadline_and_tells_the_applicant() -> None:
    case = replace(a_case("open"), contact=CONTACT)
    command = DecideFunding(
        application_id=case.application_id, outcome="grant", amount_nok=800_000, reason="r", decided_by="d"
    )
    outcome = cases.decide(
        case,
        command,
        at=GRANTED_AT,
        year=2027,
        budget=Budget(2027, 10_000_000, 10_000_000),
        aid_by_year={},
        crossed=frozenset(),
        policy=replace(POLICY, acceptance_period=timedelta(days=10)),
    )
    assert outcome.state is not None
    assert outcome.state.case.accept_by == GRANTED_AT + timedelta(days=10)
    [notice] = outcome.notices
    assert (notice.template.name, notice.email) == ("funding.grant_awaiting_acceptance", "kari@example.no")
    assert notice.params["accept_by"] == (GRANTED_AT + timedelta(days=10)).isoformat()


# the lapse


def test_a_grant_lapsing_gives_all_of_it_back_and_tells_the_applicant() -> None:
    case = a_case("granted")
    outcome = grants.lapse(case, BUDGET)
    assert outcome.state is not None
    assert outcome.state.case.status == "lapsed"
    assert outcome.state.budget == Budget(2027, 10_000_000, 10_000_000)
    assert outcome.events == (
        GrantLapsed(application_id=case.application_id, amount_nok=800_000, programme_year=2027),
        FundingReleased(
            application_id=case.application_id, amount_nok=800_000, programme_year=2027, budget_remaining_nok=10_000_000
        ),
    )
    assert [n.template.name for n in outcome.notices] == ["funding.grant_lapsed"]


@pytest.mark.parametrize("status", ["accepted", "lapsed", "released", "completed", "open"])
def test_only_a_grant_still_waiting_lapses(status: CaseStatus) -> None:
    assert grants.lapse(a_case(status), BUDGET) == NOTHING


def test_without_a_contact_no_applicant_is_told() -> None:
    outcome = grants.lapse(a_case("granted", contact=False), BUDGET)
    assert outcome.notices == ()
    assert len(outcome.events) == 2


# payments


def test_an_interim_payment_pays_the_grants_share_of_the_documented_costs() -> None:
    case = a_case()
    outcome = grants.approve_payment(
        case, payment(case, 1_000_000), earlier=None, history=PaymentHistory(), budget=None, policy=POLICY
    )
    assert outcome.state is not None
    assert outcome.state.payment.amount_nok == 400_000
    assert outcome.state.after.case.paid_nok == 400_000
    [approved] = outcome.events
    assert isinstance(approved, PaymentApproved)
    assert (approved.paid_total_nok, approved.remaining_grant_nok) == (400_000, 400_000)
    order, told = outcome.notices
    assert (order.template.role, order.params["amount_nok"], order.params["organisation_number"]) == (
        "finance",
        400_000,
        "974760673",
    )
    assert told.email == "kari@example.no"


def test_interim_payments_stop_at_the_cap() -> None:
    case = a_case(paid=500_000)
    history = PaymentHistory(documented_costs_nok=1_250_000, interim_paid_nok=500_000)
    outcome = grants.approve_payment(
        case, payment(case, 2_000_000), earlier=None, history=history, budget=None, policy=POLICY
    )
    assert outcome.state is not None
    assert outcome.state.payment.amount_nok == 100_000  # 75 % of 800 000 is 600 000
    full = replace(case, paid_nok=600_000)
    history = PaymentHistory(documented_costs_nok=2_000_000, interim_paid_nok=600_000)
    refused = grants.approve_payment(
        full, payment(full, 2_000_000), earlier=None, history=history, budget=None, policy=POLICY
    )
    assert codes(refused) == ["interim_cap_reached"]


@pytest.mark.parametrize(
    ("status", "documented", "kind", "report", "code"),
    [
        ("granted", 100_000, "interim", False, "grant_not_accepted"),
        ("open", 100_000, "interim", False, "unknown_grant"),
        ("lapsed", 100_000, "interim", False, "grant_not_open"),
        ("completed", 100_000, "final", True, "grant_not_open"),
        ("accepted", 0, "interim", False, "invalid_amount"),
        ("accepted", 400_000, "interim", False, "invalid_amount"),  # below the earlier 500 000
        ("accepted", 1_000_000, "final", False, "final_report_not_accepted"),
    ],
)
def test_payment_refusals(status: CaseStatus, documented: int, kind: str, report: bool, code: str) -> None:
    case = a_case(status, report=report)
    history = PaymentHistory(documented_costs_nok=500_000, interim_paid_nok=200_000)
    outcome = grants.approve_payment(
        case, payment(case, documented, kind), earlier=None, history=history, budget=BUDGET, policy=POLICY
    )
    assert codes(outcome) == [code]
    assert outcome.events == ()


def test_the_final_payment_closes_the_case_and_releases_the_unpaid_rest() -> None:
    case = a_case(paid=400_000, report=True)
    history = PaymentHistory(documented_costs_nok=1_000_000, interim_paid_nok=400_000)
    outcome = grants.approve_payment(
        case, payment(case, 1_800_000, "final"), earlier=None, history=history, budget=BUDGET, policy=POLICY
    )
    assert outcome.state is not None
    after = outcome.state.after
    assert (after.case.status, after.case.paid_nok, after.released_nok) == ("completed", 720_000, 80_000)
    assert after.budget == Budget(2027, 10_000_000, 9_280_000)
    approved, closed, released = outcome.events
    assert isinstance(approved, PaymentApproved)
    assert (approved.amount_nok, approved.remaining_grant_nok) == (320_000, 80_000)
    assert closed == FundingCaseClosed(application_id=case.application_id, reason="completed")
    assert isinstance(released, FundingReleased)
    assert released.amount_nok == 80_000


def test_a_final_payment_of_everything_releases_nothing() -> None:
    case = a_case(paid=600_000, report=True)
    history = PaymentHistory(documented_costs_nok=1_500_000, interim_paid_nok=600_000)
    outcome = grants.approve_payment(
        case, payment(case, 2_500_000, "final"), earlier=None, history=history, budget=BUDGET, policy=POLICY
    )
    assert outcome.state is not None
    assert outcome.state.after.released_nok == 0
    assert [type(e).__name__ for e in outcome.events] == ["PaymentApproved", "FundingCaseClosed"]


def test_a_payment_id_sent_again_is_answered_the_same_and_with_other_content_refused() -> None:
    case = a_case()
    payment_id = uuid.uuid4()
    earlier = Payment(
        payment_id, case.application_id, "interim", 1_000_000, "case-handler-17", 400_000, 400_000, 400_000
    )
    again = grants.approve_payment(
        case,
        payment(case, 1_000_000, payment_id=payment_id),
        earlier=earlier,
        history=PaymentHistory(1_000_000, 400_000),
        budget=None,
        policy=POLICY,
    )
    assert again.state is None
    assert again.events == (earlier.approved(),)
    assert again.notices == ()
    other = grants.approve_payment(
        case,
        payment(case, 1_200_000, payment_id=payment_id),
        earlier=earlier,
        history=PaymentHistory(1_000_000, 400_000),
        budget=None,
        policy=POLICY,
    )
    assert codes(other) == ["duplicate_payment"]


@settings(max_examples=300, deadline=None)
@given(
    grant=st.integers(1, 5_000_000),
    total=st.integers(1, 20_000_000),
    cap=st.integers(0, 100),
    steps=st.lists(st.integers(0, 25_000_000), min_size=1, max_size=8),
)
def test_no_sequence_of_payments_pays_past_the_grant_nor_interims_past_the_cap(
    grant: int, total: int, cap: int, steps: list[int]
) -> None:
    case = replace(
        a_case(report=True), granted_nok=grant, opened=a_case().opened.model_copy(update={"total_cost_nok": total})
    )
    policy = replace(POLICY, interim_cap_pct=cap)
    history = PaymentHistory()
    budget = Budget(2027, 30_000_000, 30_000_000 - grant)
    documented = 0
    for i, step in enumerate(steps):
        documented += step
        kind = "final" if i == len(steps) - 1 else "interim"
        outcome = grants.approve_payment(
            case, payment(case, documented, kind), earlier=None, history=history, budget=budget, policy=policy
        )
        if outcome.state is None:
            continue
        paid = outcome.state.payment
        case = outcome.state.after.case
        interim = history.interim_paid_nok + (paid.amount_nok if kind == "interim" else 0)
        history = PaymentHistory(documented, interim)
        assert 0 <= case.paid_nok <= grant
        assert history.interim_paid_nok * 100 <= grant * cap
        assert paid.paid_total_nok + paid.remaining_grant_nok == grant
        if kind == "final":
            released = outcome.state.after.released_nok
            assert case.paid_nok + released == grant
            assert outcome.state.after.budget is not None or released == 0


# withdrawal after payments


def test_a_withdrawal_after_payments_releases_the_unpaid_rest_and_tells_case_handlers() -> None:
    case = a_case(paid=300_000)
    outcome = cases.withdraw(case, BUDGET)
    assert outcome.state is not None
    assert (outcome.state.case.status, outcome.state.released_nok) == ("released", 500_000)
    [released] = outcome.events
    assert isinstance(released, FundingReleased)
    assert released.amount_nok == 500_000
    [told] = outcome.notices
    assert isinstance(told, Notice)
    assert (told.template.role, told.params["paid_nok"], told.params["released_nok"]) == (
        "case-handlers",
        300_000,
        500_000,
    )


def test_the_final_report_accepted_lets_a_running_case_pay_its_final_payment() -> None:
    outcome = grants.final_report_accepted(a_case())
    assert outcome.state is not None
    assert outcome.state.case.final_report_accepted
    assert outcome.events == ()
    assert grants.final_report_accepted(a_case("granted")) == NOTHING
    assert grants.final_report_accepted(a_case(report=True)) == NOTHING
