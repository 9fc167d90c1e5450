"""Settings of the workshops service, from the environment (prefix WORKSHOPS_)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings
from workshops.domain.policy import Policy


class WorkshopsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WORKSHOPS_", extra="ignore", frozen=True)

    database_dsn: SecretStr = SecretStr("postgresql://workshops:workshops@127.0.0.1:55432/programme")

    travel_buffer_minutes: int = Field(
        default=90, ge=0, le=24 * 60, description="least time between a facilitator's workshops in different towns"
    )
    reminder_lead_s: float = Field(default=86_400.0, gt=0, description="how long before start a reminder goes out")
    reminder_poll_interval_s: float = Field(default=1.0, gt=0, description="how often the scheduler looks for due ones")
    reminder_batch_size: int = Field(default=100, ge=1, description="due reminders the scheduler sends per transaction")
    invitation_horizon_days: int = Field(
        default=180, ge=1, description="how far ahead an invitation looks for clarification workshops"
    )
    invitation_max_workshops: int = Field(
        default=20, ge=1, le=200, description="clarification workshops an invitation lists at most"
    )

    def policy(self) -> Policy:
        return Policy(
            clusters=frozenset(self.clusters),
            travel_buffer=timedelta(minutes=self.travel_buffer_minutes),
            reminder_lead=timedelta(seconds=self.reminder_lead_s),
            invitation_horizon=timedelta(days=self.invitation_horizon_days),
            invitation_max_workshops=self.invitation_max_workshops,
        )
