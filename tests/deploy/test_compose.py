"""docker-compose.yml: valid for a real compose validator, and consistent with what the code reads and serves."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from deploy.local.services import PORTS
from shared.cli.database import migration_dsn, service_dsn
from shared.cli.main import build_parser
from shared.settings import dsn_user
from shared.topics import SERVICES
from tests.deploy.support import (
    COMPOSE_FILE,
    DATABASE_STEP_VARIABLES,
    cli_env_names,
    compose_environment,
    env_names,
    env_prefix,
    interpolate,
    load_compose,
    service_settings,
)

INFRASTRUCTURE = ("kafka", "postgres")
ONE_SHOT = "init"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def docker_compose() -> str:
    found = shutil.which("docker-compose")
    assert found, "docker-compose (Debian's package, 1.29) validates the compose file: apt-get install docker-compose"
    return found


def _validate(docker_compose: str, path: Path) -> subprocess.CompletedProcess[str]:
    # A bare environment: the file's own defaults, never the caller's variables or an .env file.
    return subprocess.run(
        [docker_compose, "--project-directory", str(path.parent), "-f", str(path), "config", "-q"],
        cwd=path.parent,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_file_passes_the_compose_validator(docker_compose: str) -> None:
    done = _validate(docker_compose, COMPOSE_FILE)
    assert done.returncode == 0, done.stderr


def test_the_validator_rejects_a_broken_compose_file(docker_compose: str, tmp_path: Path) -> None:
    broken = load_compose()
    broken["services"]["funding"]["restart"] = {"policy": "sometimes"}
    (tmp_path / "docker-compose.yml").write_text(yaml.safe_dump(broken), encoding="utf-8")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    done = _validate(docker_compose, tmp_path / "docker-compose.yml")
    assert done.returncode != 0
    assert "restart" in done.stderr


def test_compose_names_every_service_of_the_system(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {*SERVICES, ONE_SHOT, *INFRASTRUCTURE}


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


def test_postgres_is_the_official_image_with_its_data_on_a_volume(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["image"].split(":-")[-1].rstrip("}") == "postgres:15"
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    assert "pg_isready" in postgres["healthcheck"]["test"]
    assert {"kafka-data", "postgres-data"} <= set(compose["volumes"])


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


def test_init_creates_topics_then_bootstraps_then_migrates(compose: dict[str, Any]) -> None:
    init = compose["services"][ONE_SHOT]
    assert init["depends_on"] == {name: {"condition": "service_healthy"} for name in INFRASTRUCTURE}
    assert init["image"] == compose["services"][SERVICES[0]]["image"]
    script = " ".join(init["command"])
    steps = [shlex.split(step) for step in script.split("&&")]
    assert [step[:3] for step in steps] == [
        ["programme", "topics", "create"],
        ["programme", "db", "bootstrap"],
        ["programme", "db", "migrate"],
    ]
    for step in steps:
        build_parser().parse_args(step[1:])  # each step is a command the CLI knows


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
