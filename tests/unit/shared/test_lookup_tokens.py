"""Look-up tokens: configured as SHA-256 hashes, compared as bearer tokens, required in production."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from shared.lookups import authorised, token_hash
from shared.settings import ServiceSettings

TOKEN = "s3cr3t-look-up-token"  # noqa: S105 - a test token
REAL = "postgresql://funding:a-real-secret@db.example.internal:5432/programme"


class ExampleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_", extra="ignore", frozen=True)


def production(**values: Any) -> ExampleSettings:
    given = {"environment": "production", "kafka_security_protocol": "SASL_SSL", "database_dsn": SecretStr(REAL)}
    return ExampleSettings(**{**given, **values})


def test_the_hash_is_the_tokens_sha256_in_hex() -> None:
    # printf %s s3cr3t-look-up-token | sha256sum
    assert token_hash(TOKEN) == "62e753bf239ed44eda75f0ebf4481e949c7263e78f0933f2a82e8cb633b22085"


@pytest.mark.parametrize(
    ("header", "allowed"),
    [
        (f"Bearer {TOKEN}", True),
        (f"bearer {TOKEN}", True),
        (f"Bearer {TOKEN}x", False),
        (f"Basic {TOKEN}", False),
        (TOKEN, False),
        ("Bearer", False),
        ("", False),
        (None, False),
    ],
)
def test_only_a_bearer_token_whose_hash_is_configured_is_authorised(header: str | None, allowed: bool) -> None:
    assert authorised(header, (token_hash("another"), token_hash(TOKEN))) is allowed


def test_no_configured_hash_authorises_nobody() -> None:
    assert not authorised(f"Bearer {TOKEN}", ())


def test_the_setting_reads_comma_separated_hashes_in_either_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMPLE_LOOKUP_TOKEN_SHA256", f" {token_hash('a').upper()} ,{token_hash('b')},")
    settings = ExampleSettings(database_dsn=SecretStr(REAL))
    assert settings.lookup_token_sha256 == (token_hash("a"), token_hash("b"))
    assert authorised("Bearer a", settings.lookup_token_sha256)


@pytest.mark.parametrize("value", ["not-a-hash", "ab" * 31, TOKEN])
def test_the_setting_refuses_what_is_not_a_sha256(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("EXAMPLE_LOOKUP_TOKEN_SHA256", value)
    with pytest.raises(ValidationError, match="64 hex digits"):
        ExampleSettings(database_dsn=SecretStr(REAL))


def test_production_refuses_to_start_without_a_look_up_token() -> None:
    with pytest.raises(ValidationError, match="EXAMPLE_LOOKUP_TOKEN_SHA256 is empty; production needs"):
        production()
    assert production(lookup_token_sha256=token_hash(TOKEN)).lookup_token_sha256 == (token_hash(TOKEN),)


def test_local_development_starts_without_one_and_then_refuses_every_look_up() -> None:
    assert ExampleSettings(database_dsn=SecretStr(REAL)).lookup_token_sha256 == ()
