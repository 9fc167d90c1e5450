"""Production refuses a published password: the settings class's own local-development default, or a well-known one."""

from __future__ import annotations

import pytest
from applications.settings import ApplicationsSettings
from funding.settings import FundingSettings
from pydantic import ValidationError

from shared.contract.reference import CLUSTERS

SECURE = {"ENVIRONMENT": "production", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "LOOKUP_TOKEN_SHA256": "ab" * 32}


def settings(monkeypatch: pytest.MonkeyPatch, cls: type[ApplicationsSettings | FundingSettings], password: str) -> None:
    prefix = cls.model_config.get("env_prefix", "")
    for name, value in SECURE.items():
        monkeypatch.setenv(f"{prefix}{name}", value)
    monkeypatch.setenv(f"{prefix}DATABASE_DSN", f"postgresql://role:{password}@db.internal:5432/programme")
    cls()


@pytest.mark.parametrize(
    ("cls", "password"),
    [
        (ApplicationsSettings, "applications"),
        (FundingSettings, "funding"),
        (FundingSettings, "postgres"),
        (ApplicationsSettings, "programme"),
    ],
)
def test_production_refuses_a_published_password(
    monkeypatch: pytest.MonkeyPatch, cls: type[ApplicationsSettings | FundingSettings], password: str
) -> None:
    with pytest.raises(ValidationError, match="DATABASE_DSN"):
        settings(monkeypatch, cls, password)


def test_production_takes_a_real_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    settings(monkeypatch, FundingSettings, "k8Jq-2vL9-wT4x")


def test_every_service_reads_the_programmes_clusters_as_reference_data(monkeypatch: pytest.MonkeyPatch) -> None:
    assert FundingSettings().clusters == CLUSTERS
    monkeypatch.setenv("APPLICATIONS_CLUSTERS", '["nce-raufoss", "nce-ocean-tech"]')
    assert ApplicationsSettings().clusters == ("nce-raufoss", "nce-ocean-tech")
    monkeypatch.setenv("APPLICATIONS_CLUSTERS", "[]")
    with pytest.raises(ValidationError):
        ApplicationsSettings()
