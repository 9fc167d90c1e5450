"""deploy/k8s: manifests that render with kustomize and agree with what the code reads, serves and consumes."""

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
from programme import main
from shared.cli.main import build_parser
from shared.topics import SERVICES
from tests.deploy.support import (
    DATABASE_STEP_VARIABLES,
    K8S_DIR,
    by_kind,
    cli_env_names,
    container_env,
    env_names,
    env_prefix,
    k8s_files,
    load_k8s,
    service_settings,
    subscriptions,
)

HEALTH_PATHS = {"live": "/health/live", "ready": "/health/ready"}
MIN_REPLICAS = 2


@pytest.fixture(scope="module")
def documents() -> list[dict[str, Any]]:
    return load_k8s()


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container = containers[0]
    assert isinstance(container, dict)
    return container


def test_every_file_parses_and_every_resource_is_named() -> None:
    listed = set(yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text(encoding="utf-8"))["resources"])
    files = {path.name for path in k8s_files()} - {"kustomization.yaml"}
    assert files == listed, "every manifest is in the kustomization, and only manifests are there"
    for path in k8s_files():
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            assert document["apiVersion"], path.name
            assert document["kind"], path.name
            assert document["metadata"]["name"], path.name


def test_kustomize_renders_the_whole_set(documents: list[dict[str, Any]]) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl renders the kustomization (it ships kustomize); install kubectl"
    done = subprocess.run([kubectl, "kustomize", str(K8S_DIR)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    rendered = [d for d in yaml.safe_load_all(done.stdout) if d]
    assert sorted((d["kind"], d["metadata"]["name"]) for d in rendered) == sorted(
        (d["kind"], d["metadata"]["name"]) for d in documents
    )
    assert {d["metadata"].get("namespace") for d in rendered if d["kind"] != "Namespace"} == {"programme"}


def test_the_system_has_its_resources(documents: list[dict[str, Any]]) -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    assert ("Namespace", "programme") in kinds
    assert ("Job", "programme-init") in kinds
    for service in SERVICES:
        for kind in ("Deployment", "Service", "PodDisruptionBudget", "ScaledObject"):
            assert (kind, service) in kinds, f"{kind} {service}"


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_probes_the_paths_the_code_serves_on_its_port(documents: list[dict[str, Any]], service: str) -> None:
    deployment = by_kind(documents, "Deployment")[service]
    container = _container(deployment)
    env = container_env(container, documents)
    port = int(env[f"{env_prefix(service_settings()[service])}HTTP_PORT"])
    assert port == PORTS[service]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": port}
    assert container["livenessProbe"]["httpGet"] == {"path": HEALTH_PATHS["live"], "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": HEALTH_PATHS["ready"], "port": "http"}
    assert container["startupProbe"]["httpGet"]["path"] == HEALTH_PATHS["live"]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(port)
    assert annotations["prometheus.io/path"] == "/metrics"
    service_port = by_kind(documents, "Service")[service]["spec"]["ports"][0]
    assert (service_port["port"], service_port["targetPort"]) == (port, "http")


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_runs_the_service_module_with_replicas(documents: list[dict[str, Any]], service: str) -> None:
    deployment = by_kind(documents, "Deployment")[service]
    # KEDA owns the count: a fixed `replicas` would reset it to that number on every apply.
    assert "replicas" not in deployment["spec"]
    assert by_kind(documents, "ScaledObject")[service]["spec"]["minReplicaCount"] >= MIN_REPLICAS
    container = _container(deployment)
    assert container["image"] == "programme"
    assert container["args"] == [service]
    assert "command" not in container, "the image's entrypoint (python -m) runs the module named by args"
    labels = deployment["spec"]["selector"]["matchLabels"]
    assert deployment["spec"]["template"]["metadata"]["labels"].items() >= labels.items()
    assert by_kind(documents, "Service")[service]["spec"]["selector"] == labels
    assert by_kind(documents, "PodDisruptionBudget")[service]["spec"]["selector"]["matchLabels"] == labels


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_sets_only_variables_its_settings_read(documents: list[dict[str, Any]], service: str) -> None:
    settings = service_settings()[service]
    env = container_env(_container(by_kind(documents, "Deployment")[service]), documents)
    unknown = set(env) - env_names(settings)
    assert not unknown, f"{service}: {sorted(unknown)} are read by no field of {settings.__name__}"
    prefix = env_prefix(settings)
    assert {f"{prefix}DATABASE_DSN", f"{prefix}KAFKA_BOOTSTRAP_SERVERS"} <= set(env)
    assert env[f"{prefix}ENVIRONMENT"] == "production"
    assert env[f"{prefix}KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    # The service connects as its runtime role only: the owner's DSN stays with the init Job.
    assert f"{prefix}MIGRATION_DSN" not in env
    assert f"{prefix}MIGRATE_AT_STARTUP" not in env


@pytest.mark.parametrize("service", SERVICES)
def test_production_refuses_the_secret_template_placeholders(
    documents: list[dict[str, Any]], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = service_settings()[service]
    for name, value in container_env(_container(by_kind(documents, "Deployment")[service]), documents).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=f"{env_prefix(settings)}DATABASE_DSN"):
        settings()


@pytest.mark.parametrize("service", SERVICES)
def test_pods_run_unprivileged_on_a_read_only_root(documents: list[dict[str, Any]], service: str) -> None:
    pod = by_kind(documents, "Deployment")[service]["spec"]["template"]["spec"]
    _assert_restricted(pod)
    resources = _container({"spec": {"template": {"spec": pod}}})["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert {"cpu", "memory"} <= set(resources["limits"])


def _assert_restricted(pod: dict[str, Any]) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"]["drop"] == ["ALL"]
        writable = {mount["mountPath"] for mount in container["volumeMounts"] if not mount.get("readOnly")}
        assert writable == {"/tmp"}  # noqa: S108 - the one writable place, an emptyDir


@pytest.mark.parametrize("service", SERVICES)
def test_keda_scales_on_the_lag_of_the_service_group_and_topics(documents: list[dict[str, Any]], service: str) -> None:
    scaled = by_kind(documents, "ScaledObject")[service]["spec"]
    env = container_env(_container(by_kind(documents, "Deployment")[service]), documents)
    prefix = env_prefix(service_settings()[service])
    consumed = subscriptions()[service]
    code_groups = {s["group_id"] for s in consumed}
    group = env.get(f"{prefix}KAFKA_GROUP_ID") or code_groups.pop()
    assert not code_groups, f"{service} subscribes in more than one consumer group"
    job = by_kind(documents, "Job")["programme-init"]["spec"]["template"]["spec"]["containers"][0]
    partitions = int(container_env(job, documents)["PROGRAMME_TOPIC_PARTITIONS"])

    assert scaled["scaleTargetRef"]["name"] == service
    assert scaled["minReplicaCount"] >= MIN_REPLICAS
    assert scaled["maxReplicaCount"] == partitions, "more consumers than partitions would sit idle"
    triggers = scaled["triggers"]
    assert {t["type"] for t in triggers} == {"kafka"}
    assert {t["metadata"]["consumerGroup"] for t in triggers} == {group}
    assert sorted(t["metadata"]["topic"] for t in triggers) == sorted(t for s in consumed for t in s["topics"])
    for trigger in triggers:
        metadata = trigger["metadata"]
        assert int(metadata["lagThreshold"]) > 0
        assert metadata["bootstrapServersFromEnv"] in env
        _assert_keda_connects_as_the_service(metadata, trigger["authenticationRef"]["name"], env, prefix, documents)


# KEDA's names for the SASL mechanisms of the services' settings.
_KEDA_SASL = {"SCRAM-SHA-512": "scram_sha512", "SCRAM-SHA-256": "scram_sha256", "PLAIN": "plaintext"}


def _assert_keda_connects_as_the_service(
    metadata: dict[str, Any],
    authentication_name: str,
    env: dict[str, str],
    prefix: str,
    documents: list[dict[str, Any]],
) -> None:
    """KEDA reads the lag with the service's own Kafka user, from the Secret the service reads it from."""
    assert metadata["sasl"] == _KEDA_SASL[env[f"{prefix}KAFKA_SASL_MECHANISM"]]
    assert metadata["tls"] == ("enable" if env[f"{prefix}KAFKA_SECURITY_PROTOCOL"].endswith("SSL") else "disable")
    authentication = by_kind(documents, "TriggerAuthentication")[authentication_name]
    secrets = by_kind(documents, "Secret")
    refs = {ref["parameter"]: ref for ref in authentication["spec"]["secretTargetRef"]}
    assert {"username", "password", "ca"} <= set(refs)
    for parameter, ref in refs.items():
        assert ref["key"] in secrets[ref["name"]]["stringData"], f"{authentication_name}.{parameter}: no such key"
    assert refs["username"]["key"] == f"{prefix}KAFKA_SASL_USERNAME"
    assert refs["password"]["key"] == f"{prefix}KAFKA_SASL_PASSWORD"
    assert (
        secrets[refs["username"]["name"]]["stringData"][refs["username"]["key"]] == env[f"{prefix}KAFKA_SASL_USERNAME"]
    )
    ca_mount = Path(env[f"{prefix}KAFKA_SSL_CAFILE"])
    assert refs["ca"]["key"] == ca_mount.name, "KEDA trusts the CA file the service trusts"


def test_init_job_creates_topics_then_bootstraps_then_migrates(documents: list[dict[str, Any]]) -> None:
    job = by_kind(documents, "Job")["programme-init"]
    pod = job["spec"]["template"]["spec"]
    _assert_restricted(pod)
    container = pod["containers"][0]
    assert container["image"] == "programme"
    assert container["command"] == ["/bin/sh", "-c"]
    steps = [shlex.split(step) for step in " ".join(container["args"]).split("&&")]
    assert [step[:3] for step in steps] == [
        ["programme", "topics", "create"],
        ["programme", "db", "bootstrap"],
        ["programme", "db", "migrate"],
    ]
    for step in steps:
        build_parser().parse_args(step[1:])
    env = container_env(container, documents)
    service_dsns = {
        f"{env_prefix(service_settings()[s])}{variable}" for s in SERVICES for variable in DATABASE_STEP_VARIABLES
    }
    assert service_dsns <= set(env)
    unknown = set(env) - cli_env_names() - service_dsns
    assert not unknown, f"init: {sorted(unknown)} are read by neither the CLI nor its database steps"
    assert env["PROGRAMME_ENVIRONMENT"] == "production"


def test_bootstrap_refuses_the_secret_template_placeholders(
    documents: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    container = by_kind(documents, "Job")["programme-init"]["spec"]["template"]["spec"]["containers"][0]
    for name, value in container_env(container, documents).items():
        monkeypatch.setenv(name, value)
    # A real admin secret, and no CA file (the Secret's mount is not here): only the services' placeholders remain.
    monkeypatch.setenv("PROGRAMME_ADMIN_DSN", "postgresql://postgres:a-real-secret@127.0.0.1:1/programme")
    monkeypatch.delenv("PROGRAMME_KAFKA_SSL_CAFILE")
    assert main(["db", "bootstrap"]) != 0
    assert "_DSN carries no password or a local-development one" in capsys.readouterr().err


def test_secrets_are_placeholders_only(documents: list[dict[str, Any]]) -> None:
    for secret in by_kind(documents, "Secret").values():
        for key, value in secret["stringData"].items():
            if key.endswith(("_PASSWORD", "_USERNAME")) or key == "ca.crt":
                assert "REPLACE" in value, f"{secret['metadata']['name']}.{key} is not a placeholder"
    assert "TEMPLATE" in (K8S_DIR / "secret.yaml").read_text(encoding="utf-8")
