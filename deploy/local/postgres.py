"""The local PostgreSQL: Debian's server binaries (major 14 or newer) on a data folder under ``.local/postgres``.

It listens on 127.0.0.1 only. The port comes from the argument, else ``PROGRAMME_PG_PORT``, else
55432. The binaries come from ``PROGRAMME_PG_BIN``, else the newest supported major installed
under ``/usr/lib/postgresql`` (the one the data folder was made with, while that is installed).
As root, the server runs as the ``postgres`` OS account, which PostgreSQL requires.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import stat
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from string import Template
from typing import Any

import asyncpg

from deploy.local import host

PG_BIN_ENV = "PROGRAMME_PG_BIN"
# Debian installs each major side by side: /usr/lib/postgresql/<major>/bin.
PG_INSTALL_ROOT = Path("/usr/lib/postgresql")
MIN_PG_MAJOR = 14
PG_PROGRAMS = ("initdb", "pg_ctl", "postgres")
# Debian's metapackage: the server major of the machine's release (15 on Debian 12, 17 on Debian 13).
PG_PACKAGE = "postgresql"
PG_DIR = host.LOCAL_DIR / "postgres"
PG_DATA = PG_DIR / "data"
PG_SOCKET_DIR = PG_DIR / "run"
PG_LOG = PG_DIR / "log" / "postgres.log"
PG_PORT_FILE = host.RUN_DIR / "postgres.port"
PG_OS_USER = "postgres"
PG_SUPERUSER = "postgres"
# Local-development default only; the server listens on loopback.
PG_PASSWORD = "postgres"  # noqa: S105
PG_DATABASE = "programme"

DEFAULT_PG_PORT = 55432
PG_PORT_ENV = "PROGRAMME_PG_PORT"
PG_READY_TIMEOUT_S = 60.0


def pg_port(port: int | None = None) -> int:
    """The port to use: the argument, else $PROGRAMME_PG_PORT, else 55432."""
    return host.resolve_port(port, PG_PORT_ENV, DEFAULT_PG_PORT)


def admin_dsn(port: int, database: str = PG_DATABASE) -> str:
    return f"postgresql://{PG_SUPERUSER}:{PG_PASSWORD}@127.0.0.1:{port}/{database}"


def installed_pg_majors(root: Path = PG_INSTALL_ROOT) -> list[int]:
    """The server majors installed under `root` with every program we run, newest first."""
    if not root.is_dir():
        return []
    majors = [
        int(folder.name)
        for folder in root.iterdir()
        if folder.name.isdigit() and all((folder / "bin" / name).is_file() for name in PG_PROGRAMS)
    ]
    return sorted(majors, reverse=True)


def data_pg_major(data: Path = PG_DATA) -> int | None:
    """The major the data folder was made with (its PG_VERSION file), if there is one."""
    return host.read_int(data / "PG_VERSION")


def find_pg_bin(root: Path = PG_INSTALL_ROOT, data: Path = PG_DATA, environ: Mapping[str, str] = os.environ) -> Path:
    """The server's bin folder: $PROGRAMME_PG_BIN, else the data folder's major, else the newest supported one.

    A data folder only opens with the major that made it, so that one wins while it is installed;
    a newer major alone is refused with what to do rather than failing inside pg_ctl.
    """
    explicit = environ.get(PG_BIN_ENV, "").strip()
    if explicit:
        return Path(explicit)
    supported = [major for major in installed_pg_majors(root) if major >= MIN_PG_MAJOR]
    made_with = data_pg_major(data)
    if made_with is not None:
        if made_with in supported:
            return root / str(made_with) / "bin"
        raise host.MissingPrerequisiteError(
            f"{data} was made by PostgreSQL {made_with}, which is not installed "
            f"(found: {', '.join(map(str, supported)) or 'none'}): apt-get install postgresql-{made_with}, "
            f"or remove {data.parent} to start afresh"
        )
    if not supported:
        older = ", ".join(map(str, installed_pg_majors(root))) or "none"
        raise host.MissingPrerequisiteError(
            f"no PostgreSQL server {MIN_PG_MAJOR} or newer under {root} (found: {older}): "
            f"apt-get install {PG_PACKAGE}, or set {PG_BIN_ENV} to a bin folder holding {', '.join(PG_PROGRAMS)}"
        )
    return root / str(supported[0]) / "bin"


def require_pg_binaries() -> Path:
    """The bin folder to run the server from; MissingPrerequisiteError says what to install when there is none."""
    pg_bin = find_pg_bin()
    missing = [name for name in PG_PROGRAMS if not (pg_bin / name).is_file()]
    if missing:
        raise host.MissingPrerequisiteError(
            f"{', '.join(missing)} not found in {pg_bin} ({PG_BIN_ENV}): point it at a PostgreSQL "
            f"{MIN_PG_MAJOR}+ bin folder, or unset it and apt-get install {PG_PACKAGE}"
        )
    return pg_bin


def pg_account() -> pwd.struct_passwd | None:
    """The OS account to run the server as: `postgres` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_OS_USER)
    except KeyError as exc:
        # Debian's postgresql-common creates this account.
        raise host.MissingPrerequisiteError(
            f"no `postgres` OS user (PostgreSQL refuses to run as root): apt-get install {PG_PACKAGE}"
        ) from exc


def _can_search(path: Path, account: pwd.struct_passwd) -> bool:
    info = path.stat()
    if info.st_uid == account.pw_uid:
        return bool(info.st_mode & stat.S_IXUSR)
    groups = {account.pw_gid, *os.getgrouplist(account.pw_name, account.pw_gid)}
    if info.st_gid in groups:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def _grant_traversal(account: pwd.struct_passwd) -> None:
    # The server runs as `postgres` but the checkout may live under a folder only root may
    # enter (/root, a 0700 CI workspace). Add the search bit (not read) where it is missing.
    for folder in reversed(PG_DIR.parents):
        if folder.exists() and not _can_search(folder, account):
            folder.chmod(folder.stat().st_mode | stat.S_IXOTH)
            host.say(f"added o+x to {folder} so the postgres user can reach {PG_DIR}")


def _prepare_pg_dirs(account: pwd.struct_passwd | None) -> None:
    for folder in (PG_DIR, PG_SOCKET_DIR, PG_LOG.parent):
        folder.mkdir(parents=True, exist_ok=True)
    if account is None:
        return
    _grant_traversal(account)
    for folder in (PG_DIR, PG_SOCKET_DIR, PG_LOG.parent):
        os.chown(folder, account.pw_uid, account.pw_gid)
    PG_SOCKET_DIR.chmod(0o700)


def _run_as_pg(
    command: Sequence[str], account: pwd.struct_passwd | None, timeout_s: float = 120.0
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LC_ALL": "C"}
    for name in ("PGDATA", "PGPORT", "PGHOST", "PGUSER", "PGPASSWORD", "PGDATABASE"):
        env.pop(name, None)
    options: dict[str, Any] = {}
    if account is not None:
        env.update(HOME=str(PG_DIR), USER=account.pw_name, LOGNAME=account.pw_name)
        options = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    try:
        return subprocess.run(
            list(command), capture_output=True, text=True, check=False, env=env, cwd=PG_DIR,
            timeout=timeout_s, **options,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise host.InfraError(
            f"{command[0]} took longer than {timeout_s:.0f}s; end of {PG_LOG}:\n{host.log_tail(PG_LOG)}"
        ) from exc


def _pg_failed(what: str, result: subprocess.CompletedProcess[str]) -> host.InfraError:
    return host.InfraError(
        f"{what} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}\n"
        f"end of {PG_LOG}:\n{host.log_tail(PG_LOG)}"
    )


def _initdb(pg_bin: Path, account: pwd.struct_passwd | None) -> None:
    """Create the cluster once; into a scratch folder first so a failure leaves no half cluster."""
    if (PG_DATA / "PG_VERSION").is_file():
        return
    if PG_DATA.exists():
        raise host.InfraError(f"{PG_DATA} exists but holds no cluster; remove it and start again")
    scratch = PG_DIR / "data.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    password_file = PG_DIR / "initdb.pw"
    password_file.write_text(PG_PASSWORD + "\n")
    password_file.chmod(0o600)
    if account is not None:
        os.chown(password_file, account.pw_uid, account.pw_gid)
    host.say(f"initdb {PG_DATA.relative_to(host.REPO_ROOT)}")
    try:
        result = _run_as_pg(
            [
                str(pg_bin / "initdb"), "-D", str(scratch), "-U", PG_SUPERUSER,
                f"--pwfile={password_file}", "--auth=scram-sha-256",
                "--encoding=UTF8", "--locale=C", "--no-instructions",
            ],
            account,
        )  # fmt: skip
    finally:
        password_file.unlink(missing_ok=True)
    if result.returncode != 0:
        raise _pg_failed("initdb", result)
    with (scratch / "postgresql.conf").open("a") as conf:
        conf.write("\n# Project settings, rewritten on every start by deploy/local/postgres.py\n")
        conf.write("include_if_exists = 'programme.conf'\n")
    scratch.rename(PG_DATA)


def _write_pg_config(port: int, account: pwd.struct_passwd | None, pg_bin: Path) -> None:
    template = Template((host.TEMPLATES / "postgresql.conf.tmpl").read_text())
    target = PG_DATA / "programme.conf"
    target.write_text(
        template.substitute(port=port, socket_dir=PG_SOCKET_DIR.as_posix(), preload=_preload_libraries(pg_bin))
    )
    if account is not None:
        os.chown(target, account.pw_uid, account.pw_gid)


def _preload_libraries(pg_bin: Path) -> str:
    """pg_stat_statements when this installation has it (Debian's server package does): a server
    asked to preload a library it lacks would not start."""
    if (pg_bin.parent / "lib" / "pg_stat_statements.so").exists():
        return "shared_preload_libraries = 'pg_stat_statements'"
    return "# pg_stat_statements: not installed beside these binaries"


def postgres_pid() -> int | None:
    """The postmaster's pid, if postmaster.pid names a live server on our data folder."""
    pid = host.read_int(PG_DATA / "postmaster.pid")
    if pid is None or not host.alive(pid):
        return None
    command = host.cmdline(pid)
    # Guards against a stale file whose pid now belongs to something else.
    if command and Path(command[0]).name in {"postgres", "postmaster"} and str(PG_DATA) in command:
        return pid
    return None


def postgres_running() -> bool:
    return postgres_pid() is not None


def running_pg_port() -> int | None:
    """The port of the running server, or of the last one started (None if never started)."""
    if postgres_running():
        # postmaster.pid is the server's own record: line 4 is the port it listens on.
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((PG_DATA / "postmaster.pid").read_text().splitlines()[3])
    return host.read_int(PG_PORT_FILE)


async def _pg_prepare(port: int) -> None:
    connection = await asyncpg.connect(admin_dsn(port, "postgres"), timeout=5)
    try:
        await connection.fetchval("SELECT 1")
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", PG_DATABASE)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    finally:
        await connection.close()


def _wait_pg_ready(port: int, timeout_s: float = PG_READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            host.run_async(_pg_prepare(port))
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            error = exc
            time.sleep(0.3)
        else:
            return
    raise host.InfraError(
        f"PostgreSQL on 127.0.0.1:{port} did not answer within {timeout_s:.0f}s ({error!r}); "
        f"end of {PG_LOG}:\n{host.log_tail(PG_LOG)}"
    )


def pg_answers(port: int) -> bool:
    """True if the server takes a connection and has database `programme` (creating it if missing)."""
    try:
        host.run_async(_pg_prepare(port))
    except Exception:  # noqa: BLE001 - any failure means "does not answer"
        return False
    return True


def _start_postgres(port: int) -> None:
    pg_bin = require_pg_binaries()
    account = pg_account()
    host.require_free_ports("PostgreSQL", PG_PORT_ENV, (port,))
    _prepare_pg_dirs(account)
    _initdb(pg_bin, account)
    _write_pg_config(port, account, pg_bin)
    result = _run_as_pg(
        [str(pg_bin / "pg_ctl"), "-D", str(PG_DATA), "-l", str(PG_LOG), "-w", "-t", "60", "start"],
        account,
    )
    if result.returncode != 0:
        raise _pg_failed("pg_ctl start", result)
    host.write_text(PG_PORT_FILE, f"{port}\n")
    _wait_pg_ready(port)


def provide_postgres(port: int | None = None) -> host.Provided:
    """Make sure our server runs and answers, with database `programme`; start it if needed."""
    wanted = pg_port(port)
    with host.locked():
        if postgres_running():
            current = running_pg_port()
            if current != wanted:
                raise host.InfraError(
                    f"PostgreSQL already runs on port {current}, not {wanted}: "
                    "run `python -m deploy.local.infra down` first"
                )
            _wait_pg_ready(wanted)
            return host.Provided(admin_dsn(wanted), started=False)
        started_at = time.monotonic()
        _start_postgres(wanted)
        host.say(f"PostgreSQL ready on 127.0.0.1:{wanted} in {time.monotonic() - started_at:.1f}s")
        return host.Provided(admin_dsn(wanted), started=True)


def ensure_postgres(port: int | None = None) -> str:
    """Start the local server unless it already runs; return the admin DSN for `programme`."""
    return provide_postgres(port).address


def start_postgres(port: int | None = None) -> str:
    """Start the server again after :func:`stop_postgres`: same data, same port as last time."""
    if port is None:
        port = running_pg_port()
    return ensure_postgres(port)


def stop_postgres() -> bool:
    """Stop our server with a fast shutdown. True if one was running."""
    with host.locked():
        pid = postgres_pid()
        if pid is None:
            return False
        account = pg_account()
        pg_ctl = str(require_pg_binaries() / "pg_ctl")
        result = _run_as_pg([pg_ctl, "-D", str(PG_DATA), "-m", "fast", "-w", "-t", "60", "stop"], account)
        if result.returncode != 0 and postgres_running():
            # A fast shutdown waits for nothing but may still hang on a stuck client.
            host.say(f"pg_ctl stop -m fast failed ({result.stderr.strip()}); trying -m immediate")
            _run_as_pg([pg_ctl, "-D", str(PG_DATA), "-m", "immediate", "-w", "stop"], account)
        if postgres_running():
            raise _pg_failed("pg_ctl stop", result)
        host.say(f"PostgreSQL (pid {pid}) stopped")
        return True
