"""Settings of the funding service, from the environment (prefix FUNDING_)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from funding.domain.policy import (
    DEFAULT_ACCEPTANCE_PERIOD,
    DEFAULT_DE_MINIMIS_CAP_NOK,
    DEFAULT_INTERIM_CAP_PCT,
    DEFAULT_LOW_THRESHOLD_PCT,
    DEFAULT_MAX_AID_INTENSITY_PCT,
    Policy,
)
from shared.settings import ServiceSettings

Percent = Annotated[int, Field(ge=0, le=100)]


class FundingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FUNDING_", extra="ignore", frozen=True)

    database_dsn: SecretStr = SecretStr("postgresql://funding:funding@127.0.0.1:55432/programme")

    max_aid_intensity_pct: dict[str, Percent] = Field(
        default_factory=lambda: dict(DEFAULT_MAX_AID_INTENSITY_PCT),
        description='maximum granted share of total cost per size class, whole percent (JSON, e.g. {"micro": 50})',
    )
    de_minimis_cap_nok: int = Field(
        default=DEFAULT_DE_MINIMIS_CAP_NOK, gt=0, description="de minimis cap over three programme years, whole NOK"
    )
    budget_low_threshold_pct: Percent = Field(
        default=DEFAULT_LOW_THRESHOLD_PCT, description="remaining budget below this share of the total is 'low'"
    )

    grant_acceptance_period_s: float = Field(
        default=DEFAULT_ACCEPTANCE_PERIOD.total_seconds(),
        gt=0,
        description="how long after the grant the company may accept it (seconds; 2592000 = 30 days); then it lapses",
    )
    interim_payment_cap_pct: Percent = Field(
        default=DEFAULT_INTERIM_CAP_PCT, description="share of a grant that interim payments may pay together"
    )
    lapse_poll_interval_s: float = Field(
        default=1.0, gt=0, description="how often each replica looks for grants whose acceptance period has passed"
    )
    lapse_batch_size: int = Field(default=100, gt=0, description="most lapses one replica settles per look")

    def policy(self) -> Policy:
        return Policy(
            max_aid_intensity_pct=dict(self.max_aid_intensity_pct),
            de_minimis_cap_nok=self.de_minimis_cap_nok,
            low_threshold_pct=self.budget_low_threshold_pct,
            acceptance_period=timedelta(seconds=self.grant_acceptance_period_s),
            interim_cap_pct=self.interim_payment_cap_pct,
        )
