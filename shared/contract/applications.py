"""The applications service's part of the contract: its commands and the events it publishes.

The schema checks only shape and types. Every rule the contract gives a refusal code
(organisation number, clusters, why, what, focus areas, budget, period) is the domain's, so that
a command that breaks it gets `CommandRejected` with that code instead of `malformed`: those
fields are therefore plain strings, lists and integers here, with defaults where "missing" has a
code of its own.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    Strict,
    model_serializer,
    model_validator,
)
from typing_extensions import TypedDict  # pydantic reads typing's TypedDict only from Python 3.12

from shared.contract.base import AwareDatetime, BudgetNOK, Command, Event, Template
from shared.contract.reference import CASE_HANDLERS

# A date on the wire is `YYYY-MM-DD` and nothing else (no timestamps, no times).
StrictDate = Annotated[date, Strict()]
Text = Annotated[str, Field(max_length=500)]
Name = Annotated[str, Field(min_length=1, max_length=500)]
LongText = Annotated[str, Field(max_length=20_000)]

Size = Literal["micro", "small", "medium", "large"]
ProjectType = Literal["company_project", "cluster_project", "competence_programme"]
Status = Literal[
    "submitted", "ready_for_decision", "approved", "declined", "withdrawn", "running", "lapsed", "completed"
]


class Part(BaseModel):
    """A nested part of a command or event: strict about unknown fields, like the message around it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=20_000)


class Contact(Part):
    name: Name
    email: EmailStr


class Applicant(Part):
    organisation_number: Annotated[str, Field(max_length=64)]
    name: Name
    size: Size
    contact: Contact


class Objective(Part):
    """A measurable objective: what shall be achieved, how it is measured, and the target."""

    objective: LongText
    indicator: LongText = ""
    target: LongText = ""


class Budget(Part):
    """Whole NOK. Positivity and the sums are the domain's rules (`invalid_budget`)."""

    total_cost_nok: BudgetNOK
    requested_nok: BudgetNOK
    own_contribution_nok: BudgetNOK


class Period(Part):
    start: StrictDate
    end: StrictDate


class Sponsor(Part):
    """The executive who anchors the project in the company's management."""

    name: Name
    role: Name
    email: EmailStr


class ConfirmedBy(Part):
    name: Name
    role: Name


class ApplicationContent(Part):
    """Everything an application says, as submitted (and as amended since)."""

    applicant: Applicant
    lead_cluster: Text
    partner_clusters: Annotated[list[Text], Field(max_length=100)] = []
    project_type: ProjectType
    title: Name
    why: LongText = ""
    what: Annotated[list[Objective], Field(max_length=1_000)] = []
    how: LongText | None = None
    focus_areas: Annotated[list[Text], Field(max_length=100)] = []
    budget: Budget
    period: Period
    management_sponsor: Sponsor


class GivenChanges(TypedDict, total=False):
    """The changes as written: only the fields an amendment names."""

    why: str
    what: list[Objective]
    how: str | None
    budget: Budget
    period: Period
    focus_areas: list[str]


class ApplicationChanges(Part):
    """What an amendment changes: any of these, at least one. Only `how` may be set back to null."""

    why: LongText | None = None
    what: Annotated[list[Objective], Field(max_length=1_000)] | None = None
    how: LongText | None = None
    budget: Budget | None = None
    period: Period | None = None
    focus_areas: Annotated[list[Text], Field(max_length=100)] | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> ApplicationChanges:
        if not self.model_fields_set:
            msg = "changes must name at least one of why, what, how, budget, period, focus_areas"
            raise ValueError(msg)
        nulls = sorted(name for name in self.model_fields_set - {"how"} if getattr(self, name) is None)
        if nulls:
            msg = f"only how can be set to null, not {', '.join(nulls)}"
            raise ValueError(msg)
        return self

    @model_serializer(mode="plain")
    def _only_given(self) -> GivenChanges:
        # On the wire an amendment names what it changed and nothing else: a field left out was
        # not changed, and `"how": null` takes the plan back. The return type is the written schema.
        given: GivenChanges = GivenChanges(**self.given())  # type: ignore[typeddict-item]
        return given

    def given(self) -> dict[str, Any]:
        """The fields the sender named, as python values (how may be None)."""
        return {name: getattr(self, name) for name in type(self).model_fields if name in self.model_fields_set}


# commands


class SubmitApplication(ApplicationContent, Command):
    """A new application (key `application_id`)."""

    ce_type: ClassVar[str] = "applications.SubmitApplication.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID

    def content(self) -> ApplicationContent:
        return ApplicationContent.model_validate(self.model_dump(exclude={"application_id"}))


class AmendApplication(Command):
    """Changes to an application that is not yet ready for decision."""

    ce_type: ClassVar[str] = "applications.AmendApplication.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    changes: ApplicationChanges


class ConfirmManagementCommitment(Command):
    """The management sponsor confirms the company's commitment to the project."""

    ce_type: ClassVar[str] = "applications.ConfirmManagementCommitment.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    confirmed_by: ConfirmedBy
    confirmed_at: AwareDatetime


class WithdrawApplication(Command):
    """The applicant withdraws; allowed until declined or withdrawn, approval included."""

    ce_type: ClassVar[str] = "applications.WithdrawApplication.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    reason: LongText


class IndicatorValue(Part):
    """Where one indicator of the application's `what` stands at a progress report."""

    indicator: LongText
    value: LongText


class Result(Part):
    """What the project achieved on one indicator of the application's `what`."""

    indicator: LongText
    achieved: LongText


class SubmitProgressReport(Command):
    """A running project's progress up to a date (key `application_id`; the report's own id is `report_id`)."""

    ce_type: ClassVar[str] = "applications.SubmitProgressReport.v1"
    key_template: ClassVar[str] = "{application_id}"

    report_id: UUID
    application_id: UUID
    period_to: StrictDate = Field(description="the last day the report covers")
    summary: LongText
    indicators: list[IndicatorValue] = Field(default_factory=list, max_length=1_000)


class SubmitFinalReport(Command):
    """A running project's final report: a result for every indicator of its `what`, and its effects."""

    ce_type: ClassVar[str] = "applications.SubmitFinalReport.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    summary: LongText
    results: list[Result] = Field(default_factory=list, max_length=1_000)
    effects: LongText


class AcceptFinalReport(Command):
    """Staff accept the final report waiting for review (from the case-handling tool)."""

    ce_type: ClassVar[str] = "applications.AcceptFinalReport.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    accepted_by: Name


class ReturnFinalReport(Command):
    """Staff return the final report waiting for review to the applicant, saying why."""

    ce_type: ClassVar[str] = "applications.ReturnFinalReport.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    reason: LongText


# events


class ApplicationSubmitted(ApplicationContent, Event):
    """An application was received: the whole of it, its status and its version (1)."""

    ce_type: ClassVar[str] = "applications.ApplicationSubmitted.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    status: Literal["submitted"] = "submitted"
    version: Literal[1] = 1


class ApplicationAmended(Event):
    """An application was changed: the changed fields as sent, and the new version."""

    ce_type: ClassVar[str] = "applications.ApplicationAmended.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    changes: ApplicationChanges
    version: Annotated[int, Field(ge=2)]


class ManagementCommitmentConfirmed(Event):
    ce_type: ClassVar[str] = "applications.ManagementCommitmentConfirmed.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    confirmed_by: ConfirmedBy
    confirmed_at: AwareDatetime


class ClarificationCompleted(Event):
    """The applicant company attended a clarification workshop."""

    ce_type: ClassVar[str] = "applications.ClarificationCompleted.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    workshop_id: UUID
    attended_at: AwareDatetime


class ApplicationReadyForDecision(Event):
    """Plan, management commitment and clarification all hold: what a funding decision needs."""

    ce_type: ClassVar[str] = "applications.ApplicationReadyForDecision.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    organisation_number: str
    applicant_name: str
    size: Size
    lead_cluster: str
    project_type: ProjectType
    title: str
    requested_nok: int
    total_cost_nok: int


class ApplicationApproved(Event):
    ce_type: ClassVar[str] = "applications.ApplicationApproved.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    amount_nok: int


class ApplicationDeclined(Event):
    ce_type: ClassVar[str] = "applications.ApplicationDeclined.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    reason: str


class ApplicationWithdrawn(Event):
    ce_type: ClassVar[str] = "applications.ApplicationWithdrawn.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    reason: str
    status_before: Status


class IndicatorResult(Part):
    """One indicator of the application's `what`: the target it set and what the project achieved."""

    indicator: LongText
    target: LongText
    achieved: LongText


class FinalReportAccepted(Event):
    """Staff accepted the project's final report: the funding case may take its final payment."""

    ce_type: ClassVar[str] = "applications.FinalReportAccepted.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    results: list[IndicatorResult]


class ProgressReportSubmitted(Event):
    """A running project's progress report, as submitted."""

    ce_type: ClassVar[str] = "applications.ProgressReportSubmitted.v1"
    key_template: ClassVar[str] = "{application_id}"

    report_id: UUID
    application_id: UUID
    period_to: StrictDate
    summary: LongText
    indicators: list[IndicatorValue]


class FinalReportSubmitted(Event):
    """A running project's final report, now waiting for staff to accept or return it."""

    ce_type: ClassVar[str] = "applications.FinalReportSubmitted.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    summary: LongText
    results: list[Result]
    effects: LongText


class FinalReportReturned(Event):
    """Staff returned the final report; the applicant may submit it again."""

    ce_type: ClassVar[str] = "applications.FinalReportReturned.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    reason: LongText


class ProjectStarted(Event):
    """The grant was accepted: the project runs, and its final report is due by the time given."""

    ce_type: ClassVar[str] = "applications.ProjectStarted.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID
    final_report_due: AwareDatetime = Field(
        description="when the final report is due: the end of the project period's last day (Europe/Oslo) "
        "plus the due period (60 days unless configured)"
    )


class ApplicationLapsed(Event):
    """The grant was not accepted in time: the approved application will not become a project."""

    ce_type: ClassVar[str] = "applications.ApplicationLapsed.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID


class ProjectCompleted(Event):
    """The funding case was closed by its final payment: the project is completed."""

    ce_type: ClassVar[str] = "applications.ProjectCompleted.v1"
    key_template: ClassVar[str] = "{application_id}"

    application_id: UUID


COMMANDS: tuple[type[Command], ...] = (
    SubmitApplication,
    AmendApplication,
    ConfirmManagementCommitment,
    WithdrawApplication,
    SubmitProgressReport,
    SubmitFinalReport,
    AcceptFinalReport,
    ReturnFinalReport,
)

PUBLISHED: tuple[type[Event], ...] = (
    ApplicationSubmitted,
    ApplicationAmended,
    ManagementCommitmentConfirmed,
    ClarificationCompleted,
    ApplicationReadyForDecision,
    ApplicationApproved,
    ApplicationDeclined,
    ApplicationWithdrawn,
    FinalReportAccepted,
    ProgressReportSubmitted,
    FinalReportSubmitted,
    FinalReportReturned,
    ProjectStarted,
    ApplicationLapsed,
    ProjectCompleted,
)

# notifications

_APPLICATION = ("application_id", "title")
RECEIVED = Template("applications.received", "applicant", (*_APPLICATION, "applicant_name", "contact_name"))
PRECONDITIONS_MISSING = Template("applications.preconditions_missing", "applicant", (*_APPLICATION, "missing"))
READY_FOR_DECISION = Template(
    "applications.ready_for_decision",
    "staff",
    (
        *_APPLICATION,
        "organisation_number",
        "applicant_name",
        "lead_cluster",
        "project_type",
        "requested_nok",
        "total_cost_nok",
    ),
    role=CASE_HANDLERS,
)
DECLINED = Template("applications.declined", "applicant", (*_APPLICATION, "reason"))

# the follow-up of a grant
_STAFF_VIEW = (*_APPLICATION, "organisation_number", "applicant_name")
FINAL_REPORT_DUE_SOON = Template("applications.final_report_due_soon", "applicant", (*_APPLICATION, "final_report_due"))
FINAL_REPORT_RETURNED = Template("applications.final_report_returned", "applicant", (*_APPLICATION, "reason"))
PROJECT_COMPLETED = Template("applications.project_completed", "applicant", _APPLICATION)
FINAL_REPORT_OVERDUE = Template(
    "applications.final_report_overdue", "staff", (*_STAFF_VIEW, "final_report_due"), role=CASE_HANDLERS
)
FINAL_REPORT_TO_REVIEW = Template("applications.final_report_to_review", "staff", _STAFF_VIEW, role=CASE_HANDLERS)

TEMPLATES: tuple[Template, ...] = (
    RECEIVED,
    PRECONDITIONS_MISSING,
    READY_FOR_DECISION,
    DECLINED,
    FINAL_REPORT_DUE_SOON,
    FINAL_REPORT_RETURNED,
    PROJECT_COMPLETED,
    FINAL_REPORT_OVERDUE,
    FINAL_REPORT_TO_REVIEW,
)
