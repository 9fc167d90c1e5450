"""docker-compose.yml and its production override: valid Compose files that agree with the code."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from deploy.local.services import PORTS
from shared.cli.database import migration_dsn, service_dsn
from shared.cli.main import OperatorSettings, build_parser
from shared.settings import dsn_user
from shared.topics import SERVICES
from tests.deploy.support import (
    COMPOSE_FILE,
    COMPOSE_PROD_FILE,
    DATABASE_STEP_VARIABLES,
    MissingVariableError,
    cli_env_names,
    compose_environment,
    env_names,
    env_prefix,
    interpolate,
    load_compose,
    merge_compose,
    run_python,
    service_settings,
)

INFRASTRUCTURE = ("kafka", "postgres")
ONE_SHOT = "init"
OBSERVABILITY = ("prometheus", "grafana")
INIT_STEPS = [["programme", "topics", "create"], ["programme", "db", "bootstrap"], ["programme", "db", "migrate"]]
# What an operator puts in the environment (or an --env-file) for docker-compose.prod.yml.
PRODUCTION_SECRETS = {
    "POSTGRES_PASSWORD": "c0ffee-admin",
    "APPLICATIONS_DB_PASSWORD": "c0ffee-applications",
    "WORKSHOPS_DB_PASSWORD": "c0ffee-workshops",
    "FUNDING_DB_PASSWORD": "c0ffee-funding",
    "OPERATOR_KAFKA_PASSWORD": "k-operator",
    "APPLICATIONS_KAFKA_PASSWORD": "k-applications",
    "WORKSHOPS_KAFKA_PASSWORD": "k-workshops",
    "FUNDING_KAFKA_PASSWORD": "k-funding",
    "KAFKA_KEYSTORE_PASSWORD": "k-keystore",
    # the SHA-256 of the look-up tokens "a", "b" and "c"
    "APPLICATIONS_LOOKUP_TOKEN_SHA256": "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
    "WORKSHOPS_LOOKUP_TOKEN_SHA256": "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d",
    "FUNDING_LOOKUP_TOKEN_SHA256": "2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def production() -> dict[str, Any]:
    """docker-compose.yml with docker-compose.prod.yml on top."""
    return merge_compose(load_compose(), load_compose(COMPOSE_PROD_FILE))


def _validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    """The Compose Specification's JSON Schema (as vendored by check-jsonschema, pinned in the lock) on each file."""
    return run_python("-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", *map(str, paths))


def test_compose_files_follow_the_compose_specification() -> None:
    done = _validate(COMPOSE_FILE, COMPOSE_PROD_FILE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_rejects_a_broken_compose_file(tmp_path: Path) -> None:
    broken = load_compose()
    broken["services"]["funding"]["restart"] = {"policy": "sometimes"}
    (tmp_path / "docker-compose.yml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    done = _validate(tmp_path / "docker-compose.yml")
    assert done.returncode != 0
    assert "restart" in done.stdout


def test_compose_names_every_service_of_the_system(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {*SERVICES, ONE_SHOT, *INFRASTRUCTURE, *OBSERVABILITY}
    for name in OBSERVABILITY:
        assert compose["services"][name]["profiles"] == ["observability"], f"{name} starts only when asked for"
    for name in (*SERVICES, ONE_SHOT, *INFRASTRUCTURE):
        assert "profiles" not in compose["services"][name]


def test_kafka_is_the_official_image_in_kraft_mode_with_single_node_replication(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    env = compose_environment(kafka)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka["image"].split(":-")[-1].startswith("apache/kafka:4.1.")
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["CLUSTER_ID"], "a fixed cluster id keeps the data volume usable across restarts"
    assert any(volume.endswith(":" + env["KAFKA_LOG_DIRS"]) for volume in kafka["volumes"])
    assert "kafka-broker-api-versions.sh" in " ".join(kafka["healthcheck"]["test"])


def test_postgres_is_healthy_only_once_it_answers_over_tcp(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["image"].split(":-")[-1].rstrip("}") == "postgres:15"
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    test = postgres["healthcheck"]["test"]
    assert test[:2] == ["CMD", "pg_isready"]
    # The image's first-init server listens on the Unix socket only: a check over TCP cannot pass
    # until the real server has started.
    assert "--host=127.0.0.1" in test
    assert {"kafka-data", "postgres-data"} <= set(compose["volumes"])


@pytest.mark.parametrize("name", [*SERVICES, *INFRASTRUCTURE, *OBSERVABILITY])
def test_published_ports_bind_to_the_loopback_only(compose: dict[str, Any], name: str) -> None:
    ports = compose["services"][name]["ports"]
    assert ports
    for mapping in ports:
        assert interpolate(str(mapping)).startswith("127.0.0.1:"), f"{name}: {mapping} is open to the network"


@pytest.mark.parametrize("service", SERVICES)
def test_service_runs_its_module_on_the_port_the_code_uses(compose: dict[str, Any], service: str) -> None:
    definition = compose["services"][service]
    settings = service_settings()[service]
    env = compose_environment(definition)
    port = PORTS[service]
    assert definition["command"] == [service]
    assert env[f"{env_prefix(settings)}HTTP_PORT"] == str(port)
    published = [interpolate(str(mapping)).rsplit(":", 2)[-2:] for mapping in definition["ports"]]
    assert [str(port), str(port)] in published
    assert f"http://127.0.0.1:{port}/health/ready" in " ".join(definition["healthcheck"]["test"])


@pytest.mark.parametrize("service", SERVICES)
def test_service_sets_only_variables_its_settings_read(compose: dict[str, Any], service: str) -> None:
    settings = service_settings()[service]
    env = compose_environment(compose["services"][service])
    unknown = set(env) - env_names(settings)
    assert not unknown, f"{service}: {sorted(unknown)} are read by no field of {settings.__name__}"
    prefix = env_prefix(settings)
    assert {f"{prefix}DATABASE_DSN", f"{prefix}KAFKA_BOOTSTRAP_SERVERS"} <= set(env)


@pytest.mark.parametrize("service", SERVICES)
def test_service_settings_accept_the_compose_environment(
    compose: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = service_settings()[service]
    for name, value in compose_environment(compose["services"][service]).items():
        monkeypatch.setenv(name, value)
    loaded = settings()
    assert loaded.http_port == PORTS[service]
    assert loaded.kafka_bootstrap_servers == "kafka:9092"
    assert "@postgres:5432/" in loaded.database_dsn.get_secret_value()


@pytest.mark.parametrize("service", SERVICES)
def test_production_refuses_the_compose_local_passwords(
    compose: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = service_settings()[service]
    env = compose_environment(compose["services"][service], {"PROGRAMME_ENVIRONMENT": "production"})
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="DATABASE_DSN"):
        settings()


@pytest.mark.parametrize("service", SERVICES)
def test_service_waits_for_init_and_restarts_within_limits(compose: dict[str, Any], service: str) -> None:
    definition = compose["services"][service]
    assert definition["depends_on"][ONE_SHOT]["condition"] == "service_completed_successfully"
    assert definition["restart"] == "unless-stopped"
    limits = definition["deploy"]["resources"]["limits"]
    assert limits["cpus"]
    assert limits["memory"]


def _init_script(init: dict[str, Any]) -> str:
    """The shell script init runs: no entrypoint of the image's, `/bin/sh -c SCRIPT`; compose's `$$` is a `$`."""
    assert init["entrypoint"] == [], "an empty entrypoint lets `docker compose run --rm init programme ...` run the CLI"
    shell, flag, script = init["command"]
    assert (shell, flag) == ("/bin/sh", "-c")
    return str(script).replace("$$", "$")


def test_init_creates_topics_then_bootstraps_then_migrates_and_tries_again(compose: dict[str, Any]) -> None:
    init = compose["services"][ONE_SHOT]
    assert init["depends_on"] == {name: {"condition": "service_healthy"} for name in INFRASTRUCTURE}
    assert init["image"] == compose["services"][SERVICES[0]]["image"]
    assert init["restart"] == "no"
    script = _init_script(init)
    loop = re.fullmatch(
        r"for attempt in \$\(seq (\d+)\); do (?P<steps>.+?) && exit 0; (?P<pause>.+); done; exit 1", script
    )
    assert loop, f"init's script is not a bounded retry of its steps: {script}"
    assert int(loop[1]) > 1
    assert "sleep" in loop["pause"]
    steps = [shlex.split(step) for step in loop["steps"].split("&&")]
    assert [step[:3] for step in steps] == INIT_STEPS
    for step in steps:
        build_parser().parse_args(step[1:])  # each step is a command the CLI knows


def test_init_script_retries_until_its_steps_pass(tmp_path: Path) -> None:
    """The script itself, in a real shell, with a `programme` that fails twice and then passes."""
    script = _init_script(load_compose()["services"][ONE_SHOT]).replace("sleep 3", "sleep 0")
    calls = tmp_path / "calls"
    fake = tmp_path / "programme"
    fake.write_text(
        f'#!/bin/sh\necho "$*" >> {calls}\n[ "$(grep -c "topics create" {calls})" -ge 3 ]\n', encoding="utf-8"
    )
    fake.chmod(0o755)
    done = subprocess.run(
        ["/bin/sh", "-c", script],
        env={"PATH": f"{tmp_path}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert calls.read_text().splitlines() == [
        "topics create",
        "topics create",
        "topics create",
        "db bootstrap",
        "db migrate",
    ]
    assert done.stderr.count("failed, trying again") == 2


def test_init_sets_only_variables_the_cli_reads(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    env = compose_environment(compose["services"][ONE_SHOT])
    service_dsns = {
        f"{env_prefix(service_settings()[s])}{variable}" for s in SERVICES for variable in DATABASE_STEP_VARIABLES
    }
    unknown = set(env) - cli_env_names() - service_dsns
    assert not unknown, f"init: {sorted(unknown)} are read by neither the CLI nor its database steps"
    # The database steps read each service's DSNs under the names the service itself reads.
    for service in SERVICES:
        prefix = env_prefix(service_settings()[service])
        runtime, owner = f"{prefix}DATABASE_DSN", f"{prefix}MIGRATION_DSN"
        monkeypatch.setenv(runtime, env[runtime])
        monkeypatch.setenv(owner, env[owner])
        assert service_dsn(service) == env[runtime]
        assert migration_dsn(service) == env[owner]
        service_env = compose_environment(compose["services"][service])
        assert env[runtime] == service_env[runtime]
        assert owner not in service_env, "a service connects as its runtime role only"
        assert dsn_user(env[owner]) != dsn_user(env[runtime])


def test_compose_commits_no_secret_beyond_local_defaults() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for line in text.splitlines():
        if "PASSWORD" in line or "postgresql://" in line:
            assert "${" in line, f"a password that is not taken from the environment: {line.strip()}"


def test_production_override_requires_every_secret_from_the_environment() -> None:
    """No default at all: compose refuses to start, naming the variable, rather than run on a known password."""
    for line in COMPOSE_PROD_FILE.read_text(encoding="utf-8").splitlines():
        if re.search(r"PASSWORD\b.*:|postgresql://", line) and not line.lstrip().startswith("#"):
            assert re.search(r"\$\{[A-Z_]+:\?", line), f"a secret that is not required: {line.strip()}"
    production = merge_compose(load_compose(), load_compose(COMPOSE_PROD_FILE))
    for name in (*SERVICES, ONE_SHOT):
        with pytest.raises(MissingVariableError):
            compose_environment(production["services"][name])


@pytest.mark.parametrize("service", SERVICES)
def test_production_override_starts_each_service_over_sasl_ssl(
    production: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = service_settings()[service]
    prefix = env_prefix(settings)
    env = compose_environment(production["services"][service], PRODUCTION_SECRETS)
    unknown = set(env) - env_names(settings)
    assert not unknown, f"{service}: {sorted(unknown)} are read by no field of {settings.__name__}"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    loaded = settings()  # production: refuses a local password or plaintext Kafka
    assert loaded.environment == "production"
    assert loaded.kafka_security_protocol == "SASL_SSL"
    assert loaded.kafka_sasl_username == service
    assert loaded.kafka_sasl_password is not None
    assert loaded.kafka_sasl_password.get_secret_value() == PRODUCTION_SECRETS[f"{prefix}KAFKA_PASSWORD"]
    assert loaded.kafka_bootstrap_servers == "kafka:9092"
    mounted = {secret["target"] for secret in production["services"][service]["secrets"]}
    assert loaded.kafka_ssl_cafile in mounted, "the CA the service trusts is mounted where its settings look"


def test_production_init_runs_the_cli_over_sasl_ssl(
    production: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = compose_environment(production["services"][ONE_SHOT], PRODUCTION_SECRETS)
    # The database steps read each service's runtime DSN and its schema owner's (shared/cli/database.py).
    service_dsns = {
        f"{env_prefix(service_settings()[s])}{kind}_DSN" for s in SERVICES for kind in ("DATABASE", "MIGRATION")
    }
    unknown = set(env) - cli_env_names() - service_dsns
    assert not unknown, f"init: {sorted(unknown)} are read by neither the CLI nor its database steps"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    loaded = OperatorSettings()
    assert loaded.environment == "production"
    assert loaded.kafka_security_protocol == "SASL_SSL"
    assert loaded.kafka_ssl_cafile in {s["target"] for s in production["services"][ONE_SHOT]["secrets"]}
    for service in SERVICES:
        assert (
            env[f"{service.upper()}_DATABASE_DSN"]
            == compose_environment(production["services"][service], PRODUCTION_SECRETS)[
                f"{service.upper()}_DATABASE_DSN"
            ]
        )


def test_production_kafka_listens_over_sasl_ssl_and_keeps_plaintext_on_its_loopback(production: dict[str, Any]) -> None:
    env = compose_environment(production["services"]["kafka"], PRODUCTION_SECRETS)
    protocols = dict(pair.split(":") for pair in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    listeners = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
    for name, protocol in protocols.items():
        assert name in listeners
        if protocol != "SASL_SSL":
            assert listeners[name].startswith("127.0.0.1:"), f"{name} is plaintext beyond the container"
    advertised = dict(item.split("://") for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert protocols[next(name for name, at in advertised.items() if at == "kafka:9092")] == "SASL_SSL"
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in protocols
    assert "--bootstrap-server 127.0.0.1:9094" in " ".join(production["services"]["kafka"]["healthcheck"]["test"])
    # The image writes each KAFKA_* variable into server.properties but silently drops a value with "=" in it.
    rendered = {name: value for name, value in env.items() if name.startswith("KAFKA_") and name != "KAFKA_OPTS"}
    assert not [name for name, value in rendered.items() if "=" in value]
    assert "java.security.auth.login.config=/etc/kafka/secrets/" in env["KAFKA_OPTS"]
