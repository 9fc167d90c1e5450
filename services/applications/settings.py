"""Settings of the applications service, from the environment (prefix APPLICATIONS_)."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from applications.domain.policy import Policy
from shared.settings import ServiceSettings


class ApplicationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="APPLICATIONS_", extra="ignore", frozen=True)

    database_dsn: SecretStr = SecretStr("postgresql://applications:applications@127.0.0.1:55432/programme")

    def policy(self) -> Policy:
        return Policy(clusters=frozenset(self.clusters))
