"""What the deployment tests read: the deployment files, and the environment names the code reads."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

from deploy.settings_doc import env_prefix, service_settings
from shared.cli.main import OperatorSettings
from shared.topic_config import TopicSettings
from shared.topics import SERVICES

__all__ = ["env_prefix", "service_settings"]

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_PROD_FILE = ROOT / "docker-compose.prod.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
K8S_DIR = ROOT / "deploy" / "k8s"
CLI_SOURCES = ROOT / "shared" / "cli"
# What `programme db bootstrap` and `db migrate` read per service, under the service's prefix.
DATABASE_STEP_VARIABLES = ("DATABASE_DSN", "MIGRATION_DSN")

# ${NAME}, ${NAME:-default}, ${NAME-default} and ${NAME:?error}, as compose interpolates them.
_INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<required>:?\?)(?P<error>[^}]*)|:?-(?P<default>[^}]*))?\}"
)
_ENV_READ = re.compile(r"""os\.environ(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]*)["']""")


def env_names(settings: type[BaseSettings]) -> set[str]:
    """Every variable a settings class reads: its prefix and each field's name, or the field's alias."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias.upper() if isinstance(alias, str) else f"{prefix}{name}".upper())
    return names


def cli_env_names() -> set[str]:
    """What the operator CLI reads: its settings (PROGRAMME_*, PROGRAMME_TOPIC_*) and the names read from os.environ."""
    names = env_names(OperatorSettings) | env_names(TopicSettings)
    for source in sorted(CLI_SOURCES.glob("*.py")):
        names.update(_ENV_READ.findall(source.read_text(encoding="utf-8")))
    return names


class MissingVariableError(LookupError):
    """A ``${NAME:?error}`` whose variable is not set: compose refuses the file, naming it."""


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """A compose value with its ``${NAME:-default}`` replaced from ``env``, else by the default."""
    env = env or {}

    def replace(match: re.Match[str]) -> str:
        if env.get(match["name"]):
            return env[match["name"]]
        if match["required"]:
            raise MissingVariableError(f"{match['name']}: {match['error']}")
        return match["default"] or ""

    return _INTERPOLATION.sub(replace, value)


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def merge_compose(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``docker compose -f base -f override`` for environments and settings: mappings merge key by key.

    Sequences are replaced here, where compose appends ports and volumes: read those from one file.
    """
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_compose(merged[key], value)
        else:
            merged[key] = value
    return merged


def compose_environment(service: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, str]:
    """A compose service's environment (mapping or list form), interpolated."""
    raw = service.get("environment") or {}
    pairs = dict(item.split("=", 1) for item in raw) if isinstance(raw, list) else raw
    return {str(k): interpolate(str(v), env) for k, v in pairs.items()}


def k8s_files() -> list[Path]:
    return sorted(K8S_DIR.glob("*.yaml"))


def load_k8s() -> list[dict[str, Any]]:
    """Every resource of the kustomization's resources, in file order."""
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text(encoding="utf-8"))
    documents: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        for document in yaml.safe_load_all((K8S_DIR / name).read_text(encoding="utf-8")):
            if document is not None:
                assert isinstance(document, dict), f"{name}: a document that is not a mapping"
                documents.append(document)
    return documents


def by_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def container_env(container: dict[str, Any], documents: list[dict[str, Any]]) -> dict[str, str]:
    """A container's environment: envFrom ConfigMaps and Secrets of these manifests, then env (values or refs)."""
    config_maps = by_kind(documents, "ConfigMap")
    secrets = by_kind(documents, "Secret")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(config_maps[source["configMapRef"]["name"]]["data"])
        if "secretRef" in source:
            env.update(secrets[source["secretRef"]["name"]]["stringData"])
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        ref = item["valueFrom"].get("secretKeyRef") or item["valueFrom"]["configMapKeyRef"]
        source = secrets if "secretKeyRef" in item["valueFrom"] else config_maps
        data = source[ref["name"]].get("stringData") or source[ref["name"]]["data"]
        env[item["name"]] = str(data[ref["key"]])
    return env


_SUBSCRIPTIONS_PROBE = """
import importlib, json
from shared.topics import SERVICES
found = {}
for service in SERVICES:
    app = importlib.import_module(f"{service}.app").create_app()
    found[service] = [
        {"topics": sorted(s.topic_names), "group_id": s.group_id} for s in app.broker.subscribers
    ]
print(json.dumps(found))
"""


@cache
def subscriptions() -> dict[str, list[dict[str, Any]]]:
    """What each service's app subscribes to (topics, consumer group), built in a child process.

    Building an app configures logging and fail points process-wide, so it happens away from
    the test process, with no service variables set: the defaults the code ships with.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(tuple(f"{s.upper()}_" for s in SERVICES))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "services"), env.get("PYTHONPATH", "")])
    done = run_python("-c", _SUBSCRIPTIONS_PROBE, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(result, dict)
    return result


def run_python(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """This interpreter in a child process at the repository's root, its output captured as text."""
    return subprocess.run(
        [sys.executable, *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
