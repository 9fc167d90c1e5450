"""Settings of the applications service, from the environment (prefix APPLICATIONS_)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from applications.domain.policy import Policy
from shared.settings import ServiceSettings


class ApplicationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="APPLICATIONS_", extra="ignore", frozen=True)

    database_dsn: SecretStr = SecretStr("postgresql://applications:applications@127.0.0.1:55432/programme")

    final_report_due_after_s: float = Field(
        default=60 * 86_400.0,
        gt=0,
        description="how long after the end of the project period's last day (Oslo) the final report is due",
    )
    final_report_reminder_lead_s: float = Field(
        default=14 * 86_400.0, ge=0, description="how long before the final report is due the applicant is reminded"
    )
    deadline_poll_interval_s: float = Field(
        default=1.0, gt=0, description="how often the scheduler looks for final-report reminders and overdue notices"
    )
    deadline_batch_size: int = Field(
        default=100, ge=1, description="due final-report messages the scheduler settles per poll"
    )

    def policy(self) -> Policy:
        return Policy(
            clusters=frozenset(self.clusters),
            final_report_due_after=timedelta(seconds=self.final_report_due_after_s),
            final_report_reminder_lead=timedelta(seconds=self.final_report_reminder_lead_s),
        )
