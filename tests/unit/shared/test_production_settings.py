"""Production refuses what is unsafe: local-development passwords, and Kafka without TLS, for services and the CLI."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from programme import main
from shared.settings import ServiceSettings

REAL = "postgresql://funding:a-real-secret@db.example.internal:5432/programme"


class ExampleSettings(ServiceSettings):
    """A service's settings whose DSN has no local default: every value comes from the deployment."""

    model_config = SettingsConfigDict(env_prefix="EXAMPLE_", extra="ignore", frozen=True)


def production(**values: Any) -> ExampleSettings:
    given = {
        "environment": "production",
        "kafka_security_protocol": "SASL_SSL",
        "database_dsn": SecretStr(REAL),
        "lookup_token_sha256": "ab" * 32,
    }
    return ExampleSettings(**{**given, **values})


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SASL_PLAINTEXT"])
def test_production_refuses_kafka_without_tls(protocol: str) -> None:
    with pytest.raises(ValidationError, match=f"EXAMPLE_KAFKA_SECURITY_PROTOCOL is {protocol}; production needs SSL"):
        production(kafka_security_protocol=protocol)


@pytest.mark.parametrize("protocol", ["SSL", "SASL_SSL"])
def test_production_accepts_kafka_over_tls(protocol: str) -> None:
    assert production(kafka_security_protocol=protocol).kafka_security_protocol == protocol


def test_local_development_accepts_plaintext_kafka() -> None:
    assert (
        ExampleSettings(kafka_security_protocol="SASL_PLAINTEXT", database_dsn=SecretStr(REAL)).environment == "local"
    )


@pytest.mark.parametrize(
    ("variable", "dsn"),
    [
        ("DATABASE_DSN", "postgresql://funding:funding@db:5432/programme"),
        ("DATABASE_DSN", "postgresql://funding@db:5432/programme"),
        ("DATABASE_DSN", "postgresql://funding_app:funding_app@db:5432/programme"),
        ("MIGRATION_DSN", "postgresql://funding_owner:funding_owner@db:5432/programme"),
        ("MIGRATION_DSN", "postgresql://owner:postgres@db:5432/programme"),
    ],
)
def test_production_refuses_local_development_passwords(variable: str, dsn: str) -> None:
    with pytest.raises(ValidationError, match=f"EXAMPLE_{variable} carries no password or a local-development one"):
        production(**{variable.lower(): dsn})


def test_migrating_at_startup_needs_the_owners_dsn() -> None:
    with pytest.raises(ValidationError, match="EXAMPLE_MIGRATE_AT_STARTUP needs EXAMPLE_MIGRATION_DSN"):
        ExampleSettings(migrate_at_startup=True, database_dsn=SecretStr(REAL))


def test_the_relay_must_poll_well_within_its_lock_timeout() -> None:
    with pytest.raises(ValidationError, match="EXAMPLE_RELAY_POLL_INTERVAL_S must be at most half"):
        ExampleSettings(relay_poll_interval_s=3.0, relay_lock_timeout_s=5.0, database_dsn=SecretStr(REAL))


def test_the_cli_refuses_kafka_without_tls_in_production(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROGRAMME_ENVIRONMENT", "production")
    monkeypatch.setenv("PROGRAMME_ADMIN_DSN", "postgresql://postgres:a-real-secret@127.0.0.1:1/programme")
    monkeypatch.setenv("PROGRAMME_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    assert main(["topics", "check"]) == 2
    assert "PROGRAMME_KAFKA_SECURITY_PROTOCOL is SASL_PLAINTEXT; production needs SSL or SASL_SSL" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("variable", "dsn"),
    [
        ("PROGRAMME_ADMIN_DSN", "postgresql://postgres:postgres@127.0.0.1:1/programme"),
        ("WORKSHOPS_DATABASE_DSN", "postgresql://workshops:workshops@127.0.0.1:1/programme"),
        ("FUNDING_MIGRATION_DSN", "postgresql://funding_owner:funding_owner@127.0.0.1:1/programme"),
    ],
)
def test_db_bootstrap_refuses_local_passwords_in_production_before_it_connects(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, dsn: str
) -> None:
    # Nothing listens on port 1: a refusal that came after connecting would be a connection error instead.
    for service in ("applications", "workshops", "funding"):
        secret = f"{service}-real-secret"
        monkeypatch.setenv(f"{service.upper()}_DATABASE_DSN", f"postgresql://{service}:{secret}@127.0.0.1:1/programme")
        monkeypatch.setenv(
            f"{service.upper()}_MIGRATION_DSN", f"postgresql://{service}_owner:{secret}-2@127.0.0.1:1/programme"
        )
    monkeypatch.setenv("PROGRAMME_ADMIN_DSN", "postgresql://postgres:a-real-secret@127.0.0.1:1/programme")
    monkeypatch.setenv("PROGRAMME_ENVIRONMENT", "production")
    monkeypatch.setenv("PROGRAMME_KAFKA_SECURITY_PROTOCOL", "SSL")
    admin = REAL
    if variable == "PROGRAMME_ADMIN_DSN":
        admin = dsn  # given on the command line, where the CLI's settings do not look
    else:
        monkeypatch.setenv(variable, dsn)
    assert main(["db", "bootstrap", "--admin-dsn", admin]) == 2
    assert f"{variable} carries no password or a local-development one" in capsys.readouterr().err
