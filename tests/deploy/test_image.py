"""Dockerfile and the wheels it installs: a small non-root runtime built from the lock, with the SQL inside."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
import zipfile
from pathlib import Path

import pytest

from shared.topics import SERVICES
from tests.deploy.support import DOCKERFILE, DOCKERIGNORE, ROOT

_SECRET_WORDS = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY", re.IGNORECASE)


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined and comments left out."""
    joined: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pending = f"{pending} {line[:-1]}" if line.endswith("\\") else f"{pending} {line}"
        if not line.endswith("\\"):
            joined.append(pending.strip())
            pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1] if " " in text else "") for text in joined]


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _workspace_members() -> list[str]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    members = root["tool"]["uv"]["workspace"]["members"]
    assert isinstance(members, list)
    return [str(m) for m in members]


def test_image_is_multi_stage_on_python_311_slim() -> None:
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", DOCKERFILE.read_text(encoding="utf-8"), re.MULTILINE))
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    stages = _stages()
    assert len(stages) >= 2
    assert all(stage[0][1].startswith("${PYTHON_IMAGE}") for stage in stages)


def test_dependencies_come_from_the_lock_without_dev_tools_and_not_editable() -> None:
    syncs = [arguments for name, arguments in _instructions() if name == "RUN" and "uv sync" in arguments]
    assert syncs
    for arguments in syncs:
        for flag in ("--frozen", "--no-dev", "--no-editable"):
            assert flag in arguments, f"uv sync without {flag}"
    assert any(name == "RUN" and re.search(r"pip install \"?uv==", arguments) for name, arguments in _instructions())
    assert not any(name == "COPY" and "ghcr.io" in arguments for name, arguments in _instructions())


def test_dependency_layer_copies_every_workspace_member_pyproject() -> None:
    copied = " ".join(arguments for name, arguments in _instructions() if name == "COPY")
    for member in _workspace_members():
        assert f"{member}/pyproject.toml" in copied, f"{member} is a workspace member the image does not copy"
    assert "uv.lock" in copied


def test_runtime_stage_runs_as_a_numeric_non_root_user_from_the_venv_alone() -> None:
    runtime = _stages()[-1]
    users = [arguments for name, arguments in runtime if name == "USER"]
    assert users, "the runtime stage names no USER"
    user = users[-1].split(":")[0]
    assert user.isdigit(), "a numeric uid lets Kubernetes' runAsNonRoot check it"
    assert int(user) != 0
    copies = [arguments for name, arguments in runtime if name == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"]
    entrypoint = [arguments for name, arguments in runtime if name == "ENTRYPOINT"]
    assert entrypoint == ['["python", "-m"]']
    command = [arguments for name, arguments in runtime if name == "CMD"]
    assert command
    assert command[-1].strip('[]"') in SERVICES


def test_dockerfile_bakes_in_no_secret() -> None:
    for name, arguments in _instructions():
        if name in {"ENV", "ARG", "LABEL"}:
            assert not _SECRET_WORDS.search(arguments), f"{name} {arguments}"
        assert "postgresql://" not in arguments
    ignored = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    assert ignored[0 if ignored[0] == "*" else ignored.index("*")] == "*", "the context is an allow-list"
    assert "**/.env" in ignored


def test_dockerignore_lets_in_what_the_dockerfile_copies() -> None:
    allowed = {
        line[1:].rstrip("/") for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines() if line[:1] == "!"
    }
    for name, arguments in _instructions():
        if name != "COPY" or arguments.startswith("--from"):
            continue
        for source in arguments.split()[:-1]:
            top = source.split("/", 1)[0]
            assert top in allowed, f"COPY {source}: excluded by .dockerignore"
            assert (ROOT / source).exists(), f"COPY {source}: no such file"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("wheels")
    _uv("build", "--all-packages", "--wheel", "--quiet", "-o", str(out))
    return {path.name: path for path in out.glob("*.whl")}


def _uv(*arguments: str) -> str:
    """uv at the repository's root (it builds the wheels and reads the lock); what it printed."""
    uv = shutil.which("uv")
    assert uv, "the deployment tests run uv: pip install uv"
    done = subprocess.run([uv, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("member", _workspace_members())
def test_wheel_carries_every_module_and_sql_migration_of_its_member(wheels: dict[str, Path], member: str) -> None:
    project = tomllib.loads((ROOT / member / "pyproject.toml").read_text(encoding="utf-8"))["project"]["name"]
    wheel = next((path for name, path in wheels.items() if name.startswith(project.replace("-", "_") + "-")), None)
    assert wheel is not None, f"no wheel for {project}"
    package = Path(member).name
    with zipfile.ZipFile(wheel) as archive:
        inside = {Path(name).as_posix().replace("/./", "/") for name in archive.namelist()}
    source = ROOT / member
    expected = {
        f"{package}/{path.relative_to(source).as_posix()}"
        for pattern in ("**/*.py", "**/*.sql")
        for path in source.glob(pattern)
        if "__pycache__" not in path.parts
    }
    if (source / "migrations").is_dir():  # the operator entry point has none: it only registers the services
        assert any(name.endswith(".sql") for name in expected), f"{member} has no SQL migrations to check"
    assert any(name.endswith(".py") for name in expected), f"{member} has no modules to check"
    assert expected <= inside, f"missing from {wheel.name}: {sorted(expected - inside)}"


# What only a developer's tool or the benchmark needs: never in the image, nor in a plain `uv sync`.
_NOT_AT_RUNTIME = ("typer", "watchfiles", "matplotlib")


def _exported(*flags: str) -> set[str]:
    """The locked packages `uv sync` with these flags installs, by name."""
    exported = _uv("export", "--frozen", "--no-hashes", "--no-header", "--no-emit-workspace", *flags)
    return {
        re.split(r"[=<>;\[ ]", line.strip(), maxsplit=1)[0].lower() for line in exported.splitlines() if line.strip()
    }


def test_runtime_image_and_default_install_carry_no_cli_framework_or_plotting() -> None:
    runtime = _exported("--no-dev")  # what the Dockerfile's `uv sync --frozen --no-dev` installs
    assert {"faststream", "aiokafka", "asyncpg", "uvicorn"} <= runtime
    assert not runtime & set(_NOT_AT_RUNTIME)
    assert not _exported() & {"matplotlib"}, "the default install (make install, make test) leaves the bench out"
    assert "matplotlib" in _exported("--group", "bench")


def test_bench_and_chaos_install_the_bench_group_and_typecheck_covers_bench() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipes = dict(re.findall(r"^([a-z-]+):.*\n((?:\t.*\n)+)", makefile, re.MULTILINE))
    # Through deploy/bootstrap.sh, which passes each --group to its `uv sync --frozen`.
    assert "sync --frozen" in (ROOT / "deploy" / "bootstrap.sh").read_text(encoding="utf-8")
    assert "BOOTSTRAP := bash deploy/bootstrap.sh" in makefile
    for target in ("bench", "bench-scale", "chaos"):
        assert "$(BOOTSTRAP)" in recipes[target]
        assert "--group bench" in recipes[target], f"make {target} does not install the bench group"
    assert re.search(r"mypy [^\n]*\bbench\b", recipes["typecheck"])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "bench" not in project["tool"]["uv"].get("default-groups", [])
