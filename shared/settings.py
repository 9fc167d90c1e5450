"""Settings every service reads from its environment, validated at start-up."""

from __future__ import annotations

import re
import ssl
from typing import Annotated, ClassVar, Literal
from urllib.parse import urlsplit

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared import topics
from shared.contract.reference import CLUSTERS

# Passwords anyone can read: Postgres' own default and the database's name. They, a password equal
# to its role's name (every local-development role's), and the password of a settings class's own
# default DSN are refused when ENVIRONMENT is production, so a deployment that forgets to set a
# secret fails at start-up instead of running with a published password.
_PUBLISHED_PASSWORDS = frozenset({"postgres", "programme"})
PRODUCTION_KAFKA_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class ServiceSettings(BaseSettings):
    """Common settings; each service subclasses with its own env prefix (e.g. ``FUNDING_``)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)
    # A service serves the look-ups, so production needs their tokens; the operator CLI serves none.
    serves_lookups: ClassVar[bool] = True

    environment: Literal["local", "production"] = Field(
        default="local", description="production refuses local-development passwords and plaintext Kafka"
    )

    database_dsn: SecretStr = Field(
        description="Postgres DSN of the service's own role, e.g. postgresql://funding:pw@host:5432/programme",
    )
    database_schema: str = Field(default="", description="defaults to the service name")
    database_pool_min: int = Field(default=2, ge=1, description="connections kept open")
    database_pool_max: int = Field(default=10, ge=1, description="connections at most")
    migrate_at_startup: bool = Field(
        default=False,
        description="apply migrations at start-up as the schema's owner (MIGRATION_DSN); "
        "otherwise only check the schema's version and refuse to start on one older or newer than the code",
    )
    migration_dsn: SecretStr | None = Field(
        default=None,
        description="Postgres DSN of the schema's owner (the migration role); only with MIGRATE_AT_STARTUP",
    )

    clusters: tuple[str, ...] = Field(
        default=CLUSTERS, min_length=1, description="the programme's cluster ids (JSON list): reference data"
    )

    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", description="host:port[,host:port]")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="SASL_SSL or SSL in production"
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] = Field(
        default="SCRAM-SHA-512", description="with SASL_PLAINTEXT or SASL_SSL"
    )
    kafka_sasl_username: str | None = Field(default=None, description="the service's Kafka user")
    kafka_sasl_password: SecretStr | None = Field(default=None, description="its password (a secret)")
    kafka_ssl_cafile: str | None = Field(default=None, description="CA bundle that signed the brokers' certificates")
    kafka_ssl_certfile: str | None = Field(default=None, description="client certificate, for mutual TLS")
    kafka_ssl_keyfile: str | None = Field(default=None, description="its private key")
    kafka_group_id: str = Field(
        default="", description="defaults to the service name (after PROGRAMME_TOPIC_PREFIX, when that is set)"
    )

    consumer_max_records: int = Field(default=200, ge=1, le=10_000, description="records per batch transaction")
    # faststream's batch subscriber waits this long for records and, when none came, sleeps this
    # long again before the next poll: a record arriving in that sleep waits for it. Short keeps
    # command-to-event latency low at moderate load (measured by `make bench`, see ADR 3).
    command_max_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        le=900 * 1024,
        description="largest command body taken (decompressed); a larger one is refused with too_large, so the "
        "events it would cause stay far below the topics' max.message.bytes",
    )
    consumer_batch_timeout_ms: int = Field(default=10, ge=1, description="wait for records, and pause after none")
    handler_max_attempts: int = Field(
        default=5, ge=1, description="attempts for a message whose handler fails with an error that is not passing"
    )
    retry_backoff_max_s: float = Field(
        default=5.0, gt=0, description="longest pause between retries of a passing fault"
    )

    relay_poll_interval_s: float = Field(
        default=0.05, gt=0, description="outbox poll for rows other replicas wrote (own commits wake it)"
    )
    relay_batch_size: int = Field(default=500, ge=1, description="outbox rows per publish")
    outbox_retention_hours: float = Field(default=168.0, gt=0, description="how long sent rows are kept")
    relay_lock_timeout_s: float = Field(
        default=5.0,
        ge=2.0,
        description="the server drops the relay lock of a replica that went silent (stopped, host gone) after this; "
        "a standby then takes over (ADR 2)",
    )
    relay_command_timeout_s: float = Field(
        default=10.0, gt=0, description="longest wait for one query on the relay's connection before it reconnects"
    )

    http_host: str = Field(default="0.0.0.0", description="address the HTTP server binds")  # noqa: S104 - probes come from outside
    http_port: int = Field(default=8080, ge=1, le=65535, description="health, metrics, AsyncAPI and the look-ups")
    # Hashes, not tokens: the configuration (a ConfigMap, an environment dump) never holds a usable token.
    lookup_token_sha256: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="SHA-256 (hex) of each bearer token the /v1/ look-ups accept, comma-separated; "
        "none: every look-up answers 401; required in production",
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="one line per message at INFO"
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: console on a terminal, JSON lines otherwise"
    )

    # Fail points make a test able to kill the process at an exact spot; empty in production.
    failpoints: str = Field(default="", description="tests only: where to die (after_db_commit, after_kafka_send)")

    @field_validator("lookup_token_sha256", mode="before")
    @classmethod
    def _comma_separated_hashes(cls, value: object) -> object:
        given = value.split(",") if isinstance(value, str) else value
        if not isinstance(given, (tuple, list)):
            return value  # pydantic refuses it as it is
        digests = tuple(str(digest).strip().lower() for digest in given if str(digest).strip())
        if not all(_SHA256_HEX.fullmatch(digest) for digest in digests):
            msg = "each look-up token hash is 64 hex digits: the SHA-256 of the token (printf %s TOKEN | sha256sum)"
            raise ValueError(msg)
        return digests

    @model_validator(mode="after")
    def _refuse_local_secrets_in_production(self) -> ServiceSettings:
        if self.environment != "production":
            return self
        prefix = self.model_config.get("env_prefix", "")
        local = self._local_password()
        refuse_local_password(self.database_dsn.get_secret_value(), f"{prefix}DATABASE_DSN", local=local)
        if self.migration_dsn is not None:
            refuse_local_password(self.migration_dsn.get_secret_value(), f"{prefix}MIGRATION_DSN", local=local)
        if self.kafka_security_protocol not in PRODUCTION_KAFKA_PROTOCOLS:
            # SASL_PLAINTEXT sends every record, and SCRAM's exchange, readable to anyone on the path.
            msg = f"{prefix}KAFKA_SECURITY_PROTOCOL is {self.kafka_security_protocol}; production needs SSL or SASL_SSL"
            raise ValueError(msg)
        if self.serves_lookups and not self.lookup_token_sha256:
            msg = f"{prefix}LOOKUP_TOKEN_SHA256 is empty; production needs the hash of at least one look-up token"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _migrate_only_with_the_owner(self) -> ServiceSettings:
        prefix = self.model_config.get("env_prefix", "")
        if self.migrate_at_startup and self.migration_dsn is None:
            msg = f"{prefix}MIGRATE_AT_STARTUP needs {prefix}MIGRATION_DSN, the DSN of the schema's owner"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _relay_queries_more_often_than_its_lock_timeout(self) -> ServiceSettings:
        # The server counts a relay that polls less often than its lock timeout as silent and drops its lock.
        if self.relay_poll_interval_s * 2 > self.relay_lock_timeout_s:
            prefix = self.model_config.get("env_prefix", "")
            msg = f"{prefix}RELAY_POLL_INTERVAL_S must be at most half of {prefix}RELAY_LOCK_TIMEOUT_S"
            raise ValueError(msg)
        return self

    @classmethod
    def _local_password(cls) -> str | None:
        """The password of this settings class's default DSN: the one published for local development."""
        default = cls.model_fields["database_dsn"].default
        return _dsn_password(default.get_secret_value()) if isinstance(default, SecretStr) else None

    def schema_name(self, service: str) -> str:
        return self.database_schema or service

    def database_role(self) -> str:
        """The runtime role: the user of DATABASE_DSN."""
        return dsn_user(self.database_dsn.get_secret_value())

    def group_id(self, service: str) -> str:
        # A topic prefix (a measurement run) keeps its groups apart from the user's too.
        return self.kafka_group_id or f"{topics.PREFIX}{service}"

    def kafka_security(self) -> BaseSecurity | None:
        """The faststream security object; the raw producer maps it with faststream's own parser."""
        protocol = self.kafka_security_protocol
        if protocol == "PLAINTEXT":
            return None
        use_ssl = protocol in {"SSL", "SASL_SSL"}
        context = self._ssl_context() if use_ssl else None
        if protocol == "SSL":
            return BaseSecurity(ssl_context=context, use_ssl=True)
        username = self.kafka_sasl_username or ""
        password = self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else ""
        if not username or not password:
            prefix = self.model_config.get("env_prefix", "")
            msg = f"{prefix}KAFKA_SASL_USERNAME and {prefix}KAFKA_SASL_PASSWORD are required for {protocol}"
            raise ValueError(msg)
        mechanisms: dict[str, type[SASLScram256 | SASLScram512 | SASLPlaintext]] = {
            "SCRAM-SHA-256": SASLScram256,
            "SCRAM-SHA-512": SASLScram512,
            "PLAIN": SASLPlaintext,
        }
        return mechanisms[self.kafka_sasl_mechanism](
            username=username, password=password, ssl_context=context, use_ssl=use_ssl
        )

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.kafka_ssl_cafile)
        if self.kafka_ssl_certfile:
            context.load_cert_chain(self.kafka_ssl_certfile, self.kafka_ssl_keyfile)
        return context


def dsn_user(dsn: str) -> str:
    user = urlsplit(dsn).username
    if not user:
        msg = "a Postgres DSN names its role: postgresql://<role>:<password>@<host>:<port>/<database>"
        raise ValueError(msg)
    return user


def refuse_local_password(dsn: str, variable: str, *, local: str | None = None) -> None:
    """Raise unless the DSN carries a password that is neither published nor a local-development one."""
    parts = urlsplit(dsn)
    password = parts.password
    if not password or password in _PUBLISHED_PASSWORDS or password in {parts.username, local}:
        msg = f"{variable} carries no password or a local-development one; set a real secret"
        raise ValueError(msg)


def _dsn_password(dsn: str) -> str | None:
    return urlsplit(dsn).password
