"""The funding service's part of the contract: its commands and the events it publishes."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import Field, StrictInt

from shared.contract.applications import ConfirmedBy
from shared.contract.base import NOK, AwareDatetime, Command, Event, Template
from shared.contract.reference import CASE_HANDLERS, FINANCE, PROGRAMME_OFFICE

# A programme year on the wire: a calendar year. The range only keeps absurd values out of the
# database; whether a year has a budget is the domain's question.
ProgrammeYear = Annotated[StrictInt, Field(ge=2000, le=9999)]


# commands


class AllocateBudget(Command):
    """Add an allocation to a programme year's budget (key `budget-<year>`)."""

    ce_type: ClassVar[str] = "funding.AllocateBudget.v1"
    key_template: ClassVar[str] = "budget-{programme_year}"

    allocation_id: UUID
    programme_year: ProgrammeYear
    amount_nok: NOK
    source: str = Field(min_length=1, max_length=500)


class DecideFunding(Command):
    """A case handler's decision on a funding case (key `application_id`); amount only on a grant."""

    ce_type: ClassVar[str] = "funding.DecideFunding.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    outcome: Literal["grant", "decline"]
    amount_nok: NOK | None = None
    reason: str = Field(max_length=5_000)
    decided_by: str = Field(min_length=1, max_length=500)


class AcceptGrant(Command):
    """The company accepts its grant (key `application_id`), within the acceptance period from the grant."""

    ce_type: ClassVar[str] = "funding.AcceptGrant.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    accepted_by: ConfirmedBy = Field(description="who signed the acceptance for the company: name and role")
    accepted_at: AwareDatetime = Field(description="when the company accepted (RFC 3339, with an offset)")


PaymentKind = Literal["interim", "final"]


class ApprovePayment(Command):
    """Staff approved a payment against the project's documented costs (key `application_id`)."""

    ce_type: ClassVar[str] = "funding.ApprovePayment.v1"
    key_template: ClassVar[str] = "{application_id}"

    payment_id: UUID = Field(description="the payment's idempotency key: the same id with other content is refused")
    application_id: UUID
    kind: PaymentKind = Field(description="interim: an instalment under the cap; final: after the final report")
    # The bound only keeps absurd values out of the database (bigint); positivity is the domain's rule.
    documented_costs_nok: NOK = Field(
        le=10**15, description="the project's eligible costs documented so far, cumulative"
    )
    approved_by: str = Field(min_length=1, max_length=500, description="who approved the payment")


# events


class BudgetAllocated(Event):
    """An allocation was added to a year's budget; the year's totals after it."""

    ce_type: ClassVar[str] = "funding.BudgetAllocated.v1"
    key_template: ClassVar[str] = "budget-{programme_year}"

    programme_year: int
    amount_nok: NOK
    total_nok: NOK
    remaining_nok: NOK
    allocation_id: UUID


class FundingCaseOpened(Event):
    """An application ready for decision became a funding case, with the fields the decision needs."""

    ce_type: ClassVar[str] = "funding.FundingCaseOpened.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    organisation_number: str
    applicant_name: str
    size: str
    lead_cluster: str
    project_type: str
    title: str
    requested_nok: NOK
    total_cost_nok: NOK


class FundingGranted(Event):
    """A grant was decided and its money taken from the year's budget."""

    ce_type: ClassVar[str] = "funding.FundingGranted.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    organisation_number: str
    amount_nok: NOK
    programme_year: int
    budget_remaining_nok: NOK


class FundingDeclined(Event):
    """A case was declined."""

    ce_type: ClassVar[str] = "funding.FundingDeclined.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    reason: str


class FundingCaseClosed(Event):
    """A case was closed: withdrawn before a decision, or completed by its final payment."""

    ce_type: ClassVar[str] = "funding.FundingCaseClosed.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    reason: Literal["application_withdrawn", "completed"] = Field(
        default="application_withdrawn",
        description="application_withdrawn: closed without a decision; completed: the final payment was made",
    )


class GrantAccepted(Event):
    """The company accepted its grant within the acceptance period: the project may start."""

    ce_type: ClassVar[str] = "funding.GrantAccepted.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    amount_nok: NOK
    programme_year: int
    accepted_at: AwareDatetime


class GrantLapsed(Event):
    """A grant was not accepted by its deadline; its whole amount went back to the year's budget."""

    ce_type: ClassVar[str] = "funding.GrantLapsed.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    amount_nok: NOK
    programme_year: int


class FundingReleased(Event):
    """Grant money went back to the year's budget: all of it (withdrawn or lapsed before any payment), or the
    unpaid rest (withdrawn after payments, or the case completed by its final payment)."""

    ce_type: ClassVar[str] = "funding.FundingReleased.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    amount_nok: NOK
    programme_year: int
    budget_remaining_nok: NOK


class BudgetThresholdCrossed(Event):
    """A grant took a year's remaining budget below the low threshold, or to zero; once per threshold and year."""

    ce_type: ClassVar[str] = "funding.BudgetThresholdCrossed.v1"
    key_template: ClassVar[str] = "budget-{programme_year}"

    programme_year: int
    remaining_nok: NOK
    threshold: Literal["low", "exhausted"]
    total_nok: NOK


class PaymentApproved(Event):
    """A payment of the grant was approved; what the grant has paid in total after it, and what is left of it."""

    ce_type: ClassVar[str] = "funding.PaymentApproved.v1"
    key_template: ClassVar[str] = "{application_id}"

    payment_id: UUID
    application_id: UUID
    kind: PaymentKind
    amount_nok: NOK
    paid_total_nok: NOK
    remaining_grant_nok: NOK


COMMANDS: tuple[type[Command], ...] = (AllocateBudget, DecideFunding, AcceptGrant, ApprovePayment)

PUBLISHED: tuple[type[Event], ...] = (
    BudgetAllocated,
    FundingCaseOpened,
    FundingGranted,
    FundingDeclined,
    FundingCaseClosed,
    FundingReleased,
    BudgetThresholdCrossed,
    GrantAccepted,
    GrantLapsed,
    PaymentApproved,
)

# notifications

BUDGET_THRESHOLD = Template(
    "funding.budget_threshold",
    "staff",
    ("programme_year", "threshold", "remaining_nok", "total_nok"),
    role=PROGRAMME_OFFICE,
)
DECISION_REFUSED = Template(
    "funding.decision_refused",
    "staff",
    ("application_id", "organisation_number", "amount_nok", "programme_year", "codes"),
    role=CASE_HANDLERS,
)

# The applicant's notifications go to the contact the application named.
_GRANT = ("application_id", "title")
GRANT_AWAITING_ACCEPTANCE = Template(
    "funding.grant_awaiting_acceptance", "applicant", (*_GRANT, "amount_nok", "programme_year", "accept_by")
)
GRANT_LAPSED = Template("funding.grant_lapsed", "applicant", (*_GRANT, "amount_nok", "accept_by"))
PAYMENT_APPROVED = Template(
    "funding.payment_approved",
    "applicant",
    (*_GRANT, "payment_id", "kind", "amount_nok", "paid_total_nok", "remaining_grant_nok"),
)
PAYMENT_ORDER = Template(
    "funding.payment_order",
    "staff",
    ("payment_id", "application_id", "organisation_number", "applicant_name", "kind", "amount_nok"),
    role=FINANCE,
)
WITHDRAWN_AFTER_PAYMENTS = Template(
    "funding.withdrawn_after_payments",
    "staff",
    ("application_id", "organisation_number", "applicant_name", "paid_nok", "released_nok"),
    role=CASE_HANDLERS,
)

TEMPLATES: tuple[Template, ...] = (
    BUDGET_THRESHOLD,
    DECISION_REFUSED,
    GRANT_AWAITING_ACCEPTANCE,
    GRANT_LAPSED,
    PAYMENT_APPROVED,
    PAYMENT_ORDER,
    WITHDRAWN_AFTER_PAYMENTS,
)
