"""deploy/bootstrap.sh --check: what `make run` / `make test` would set up, told without installing anything.

Each case runs the script with a PATH of stand-ins (a java of a chosen version, a uv of a chosen
version, ...) so that it sees a machine of the test's choosing, never this one's packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from devkit.processes import ROOT

SCRIPT = ROOT / "deploy" / "bootstrap.sh"
# What the script itself runs, taken from this machine.
BASICS = ("bash", "awk", "sed", "sort", "id", "dirname", "basename")


def stub(folder: Path, name: str, output: str = "", *, to_stderr: bool = False) -> None:
    path = folder / name
    redirect = " >&2" if to_stderr else ""
    path.write_text(f"#!/bin/sh\nprintf '%s\\n' '{output}'{redirect}\n")
    path.chmod(0o755)


@pytest.fixture
def machine(tmp_path: Path) -> Path:
    """A bin folder with the shell basics only: a bare machine."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in BASICS:
        found = shutil.which(name)
        assert found is not None, f"{name} is needed to run the script"
        (folder / name).symlink_to(found)
    return folder


@pytest.fixture
def postgres(tmp_path: Path) -> Path:
    """A PostgreSQL bin folder with the three programs the local start-up runs."""
    folder = tmp_path / "postgresql" / "16" / "bin"
    folder.mkdir(parents=True)
    for name in ("initdb", "pg_ctl", "postgres"):
        stub(folder, name)
    return folder


def equip(machine: Path, *, java: str = "17.0.15", uv: str = "0.13.9") -> None:
    stub(machine, "java", f'openjdk version "{java}" 2025-04-15', to_stderr=True)
    stub(machine, "uv", f"uv {uv} (x86_64-unknown-linux-gnu)")
    for name in ("mvn", "make", "promtool", "chromium"):
        stub(machine, name)


def bootstrap(machine: Path, *args: str, pg_bin: Path | str = "/nonexistent") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(machine / "bash"), str(SCRIPT), "--check", *args],
        env={"PATH": str(machine), "PROGRAMME_PG_BIN": str(pg_bin), "HOME": str(machine.parent)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_everything_present_passes_for_run_and_for_test(machine: Path, postgres: Path) -> None:
    equip(machine)
    for purpose in ("run", "test"):
        done = bootstrap(machine, "--for", purpose, pg_bin=postgres)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"found: java 17 maven postgres {postgres} make" in done.stdout
        assert f"uv: {machine / 'uv'} (uv 0.13.9" in done.stdout
        assert f"all present for make {purpose}" in done.stdout
    assert "promtool" in done.stdout


def test_a_bare_machine_is_told_the_one_command_to_run(machine: Path) -> None:
    done = bootstrap(machine, "--for", "test")
    assert done.returncode == 1
    assert "found: nothing" in done.stdout
    packages = "default-jre-headless maven postgresql make prometheus chromium python3 python3-venv"
    assert f"missing Debian packages: {packages}" in done.stdout
    # Root here (CI and this machine): the command as root types it.
    prefix = "" if os.geteuid() == 0 else "sudo "
    assert f"run: {prefix}apt-get install -y --no-install-recommends {packages}" in done.stdout
    assert "missing uv 0.13.9 or newer: without --check, pip installs uv==0.13.9 into" in done.stdout
    assert "all present" not in done.stdout


def test_promtool_is_wanted_only_for_make_test(machine: Path, postgres: Path) -> None:
    equip(machine)
    (machine / "promtool").unlink()
    assert bootstrap(machine, "--for", "run", pg_bin=postgres).returncode == 0
    done = bootstrap(machine, "--for", "test", pg_bin=postgres)
    assert done.returncode == 1
    assert "missing Debian packages: prometheus\n" in done.stdout


def test_a_java_older_than_17_is_missing(machine: Path, postgres: Path) -> None:
    equip(machine, java="11.0.2")
    done = bootstrap(machine, pg_bin=postgres)
    assert done.returncode == 1
    assert "missing Debian packages: default-jre-headless\n" in done.stdout


def test_a_uv_older_than_the_pinned_one_is_replaced_and_a_newer_one_kept(machine: Path, postgres: Path) -> None:
    equip(machine, uv="0.4.0")
    old = bootstrap(machine, pg_bin=postgres)
    assert old.returncode == 1
    assert "missing uv 0.13.9 or newer" in old.stdout
    equip(machine, uv="0.20.1")
    new = bootstrap(machine, pg_bin=postgres)
    assert new.returncode == 0, new.stdout
    assert "(uv 0.20.1" in new.stdout


def test_a_postgres_bin_folder_without_the_server_is_missing(machine: Path, tmp_path: Path) -> None:
    equip(machine)
    client_only = tmp_path / "client" / "bin"
    client_only.mkdir(parents=True)
    stub(client_only, "psql")
    done = bootstrap(machine, pg_bin=client_only)
    assert done.returncode == 1
    assert "missing Debian packages: postgresql\n" in done.stdout


def test_an_unknown_argument_is_refused(machine: Path) -> None:
    done = bootstrap(machine, "--for", "everything")
    assert done.returncode == 2
    assert "--for takes run or test" in done.stderr
