"""Which PostgreSQL server binaries the local start-up runs: any installed major from 14 up, not only 15."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.local import host
from deploy.local.postgres import PG_PROGRAMS, find_pg_bin, installed_pg_majors


def install(root: Path, major: str, programs: tuple[str, ...] = PG_PROGRAMS) -> Path:
    """A Debian-like /usr/lib/postgresql/<major>/bin holding the given programs."""
    bin_folder = root / major / "bin"
    bin_folder.mkdir(parents=True)
    for name in programs:
        (bin_folder / name).write_text("#!/bin/sh\n")
    return bin_folder


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "postgres" / "data"


def test_the_newest_supported_major_wins(tmp_path: Path, data: Path) -> None:
    root = tmp_path / "lib"
    install(root, "14")
    newest = install(root, "17")
    install(root, "16")
    assert installed_pg_majors(root) == [17, 16, 14]
    assert find_pg_bin(root, data, environ={}) == newest


def test_a_major_below_14_or_without_its_programs_is_not_taken(tmp_path: Path, data: Path) -> None:
    root = tmp_path / "lib"
    install(root, "13")
    install(root, "18", programs=("psql",))  # the client alone: no server to run
    (root / "common").mkdir()  # a folder that is no major
    with pytest.raises(host.MissingPrerequisiteError) as refused:
        find_pg_bin(root, data, environ={})
    message = str(refused.value)
    assert "no PostgreSQL server 14 or newer" in message
    assert "(found: 13)" in message
    assert "apt-get install postgresql" in message
    assert "PROGRAMME_PG_BIN" in message


def test_nothing_installed_names_the_package_to_install(tmp_path: Path, data: Path) -> None:
    with pytest.raises(host.MissingPrerequisiteError, match=r"found: none\): apt-get install postgresql"):
        find_pg_bin(tmp_path / "absent", data, environ={})


def test_the_data_folder_keeps_the_major_that_made_it(tmp_path: Path, data: Path) -> None:
    root = tmp_path / "lib"
    made_with = install(root, "15")
    install(root, "17")
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("15\n")
    assert find_pg_bin(root, data, environ={}) == made_with


def test_a_data_folder_whose_major_is_gone_says_what_to_do(tmp_path: Path, data: Path) -> None:
    root = tmp_path / "lib"
    install(root, "17")
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("15\n")
    with pytest.raises(host.MissingPrerequisiteError) as refused:
        find_pg_bin(root, data, environ={})
    assert "made by PostgreSQL 15" in str(refused.value)
    assert "apt-get install postgresql-15" in str(refused.value)
    assert f"remove {data.parent}" in str(refused.value)


def test_programme_pg_bin_still_wins(tmp_path: Path, data: Path) -> None:
    root = tmp_path / "lib"
    install(root, "17")
    chosen = install(tmp_path / "elsewhere", "12")
    assert find_pg_bin(root, data, environ={"PROGRAMME_PG_BIN": str(chosen)}) == chosen
