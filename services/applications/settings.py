"""Settings of the applications service, from the environment (prefix APPLICATIONS_)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import DEFAULT_CLUSTERS, ServiceSettings


class ApplicationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="APPLICATIONS_", extra="ignore", frozen=True)

    database_dsn: SecretStr = SecretStr("postgresql://applications:applications@127.0.0.1:55432/programme")
    clusters: tuple[str, ...] = Field(
        default=DEFAULT_CLUSTERS, min_length=1, description="the programme's cluster ids (JSON list)"
    )
