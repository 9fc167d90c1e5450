"""Start and stop a real Kafka broker and a real PostgreSQL for local work, tests and CI.

No Docker engine is needed. Kafka (KRaft, one node) runs from Apache's jars on Maven Central,
fetched once into ``.cache/kafka/libs``; PostgreSQL runs from Debian's server binaries with a
data folder under ``.local/postgres``. Both listen on 127.0.0.1 only.

Command line::

    python -m deploy.local.infra up|down|status|env

Python API (for tests and tools): :func:`ensure_kafka`, :func:`ensure_postgres`,
:func:`stop_kafka`, :func:`stop_postgres`, :func:`start_postgres`, :func:`restart_kafka`,
:func:`postgres_running`, :func:`kafka_running`, and :func:`provide_kafka` /
:func:`provide_postgres`, which also say whether this call started the process.

Ports come from the argument, else ``PROGRAMME_KAFKA_PORT`` / ``PROGRAMME_PG_PORT``, else
9092 (and 9093 for the KRaft controller) and 55432.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import concurrent.futures
import contextlib
import fcntl
import hashlib
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any, TypeVar

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped,unused-ignore]

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).resolve().parent
CACHE_DIR = REPO_ROOT / ".cache"
LOCAL_DIR = REPO_ROOT / ".local"
RUN_DIR = LOCAL_DIR / "run"

KAFKA_POM = TEMPLATES / "kafka-pom.xml"
KAFKA_LIBS = CACHE_DIR / "kafka" / "libs"
KAFKA_LIBS_MARKER = KAFKA_LIBS / ".complete"
KAFKA_DIR = LOCAL_DIR / "kafka"
KAFKA_DATA = KAFKA_DIR / "data"
KAFKA_PROPS = KAFKA_DIR / "server.properties"
KAFKA_LOG4J = KAFKA_DIR / "log4j2.properties"
KAFKA_LOG = KAFKA_DIR / "kafka.log"
KAFKA_CLUSTER_ID = KAFKA_DIR / "cluster-id"
KAFKA_PID = RUN_DIR / "kafka.pid"
KAFKA_PORT_FILE = RUN_DIR / "kafka.port"
KAFKA_MAIN_CLASS = "kafka.Kafka"

PG_BIN = Path(os.environ.get("PROGRAMME_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_DIR = LOCAL_DIR / "postgres"
PG_DATA = PG_DIR / "data"
PG_SOCKET_DIR = PG_DIR / "run"
PG_LOG = PG_DIR / "log" / "postgres.log"
PG_PORT_FILE = RUN_DIR / "postgres.port"
PG_OS_USER = "postgres"
PG_SUPERUSER = "postgres"
# Local-development default only; the server listens on loopback.
PG_PASSWORD = "postgres"  # noqa: S105
PG_DATABASE = "programme"

DEFAULT_KAFKA_PORT = 9092
DEFAULT_PG_PORT = 55432
KAFKA_PORT_ENV = "PROGRAMME_KAFKA_PORT"
PG_PORT_ENV = "PROGRAMME_PG_PORT"

KAFKA_READY_TIMEOUT_S = 90.0
PG_READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0
LOG_TAIL_LINES = 40
MAX_PORT = 65535
MIN_JAVA = 17
CLUSTER_ID_LENGTH = 22

KAFKA_JVM_OPTIONS = (
    "-Xms256m",
    "-Xmx768m",
    # On 2 cores G1's concurrent threads compete with the broker; serial GC is enough here.
    "-XX:+UseSerialGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)


class InfraError(RuntimeError):
    """Local infrastructure could not be started, stopped or reached."""


class MissingPrerequisiteError(InfraError):
    """A tool the local infrastructure needs is not installed; the message says what to install."""


@dataclass(frozen=True)
class Provided:
    """Where a component answers, and whether this call started it (and so should stop it)."""

    address: str
    started: bool


# ---------------------------------------------------------------------------------------------
# Small helpers


def _say(message: str) -> None:
    # Progress goes to stderr so that `env` output on stdout stays eval-able.
    print(f"[infra] {message}", file=sys.stderr, flush=True)


def _resolve_port(explicit: int | None, env_name: str, default: int) -> int:
    if explicit is not None:
        return explicit
    raw = os.environ.get(env_name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError as exc:
        raise InfraError(f"{env_name}={raw!r} is not a port number") from exc
    if not 1 <= port <= MAX_PORT:
        raise InfraError(f"{env_name}={port} is outside 1..{MAX_PORT}")
    return port


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(content[-lines:])


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _is_zombie(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[0] == "Z"


def _alive(pid: int) -> bool:
    # A zombie has exited; it only waits for its parent to reap it.
    return Path(f"/proc/{pid}").exists() and not _is_zombie(pid)


def _reap(pid: int) -> None:
    # If this process happens to be the parent, collect the exit status so no zombie stays.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _require_free_ports(component: str, env_name: str, ports: Sequence[int]) -> None:
    busy = [port for port in ports if not _port_free(port)]
    if busy:
        raise InfraError(
            f"{component}: port(s) {', '.join(map(str, busy))} on 127.0.0.1 are taken by another "
            f"process; stop it or choose other ports with {env_name}"
        )


def _run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion, also when called from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # asyncio.run refuses to nest: an async test fixture may call us, so use a fresh thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _signal_and_wait(pid: int, timeout_s: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM, wait for the exit, SIGKILL once the deadline has passed."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _reap(pid)
        if not _alive(pid):
            return
        time.sleep(0.2)
    _say(f"pid {pid} did not stop within {timeout_s:.0f}s; sending SIGKILL")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while _alive(pid):
        _reap(pid)
        time.sleep(0.1)


class _InfraLock:
    """Serialise start and stop across processes (parallel test workers, `make up`).

    Re-entrant within one process, so public functions may call each other: a second flock
    on a new file handle from the same process would wait for itself.
    """

    def __init__(self) -> None:
        self._guard = threading.RLock()
        self._depth = 0

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._guard:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            RUN_DIR.mkdir(parents=True, exist_ok=True)
            with (RUN_DIR / "infra.lock").open("w") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                self._depth = 1
                try:
                    yield
                finally:
                    self._depth = 0
                    fcntl.flock(handle, fcntl.LOCK_UN)


_locked = _InfraLock().held


# ---------------------------------------------------------------------------------------------
# Kafka


def kafka_port(port: int | None = None) -> int:
    """The PLAINTEXT port to use: the argument, else $PROGRAMME_KAFKA_PORT, else 9092."""
    return _resolve_port(port, KAFKA_PORT_ENV, DEFAULT_KAFKA_PORT)


def kafka_bootstrap(port: int) -> str:
    return f"127.0.0.1:{port}"


def _require_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise MissingPrerequisiteError(
            "java not found: install openjdk-17-jre-headless (apt-get install openjdk-17-jre-headless)"
        )
    probe = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    first = (probe.stderr or probe.stdout).splitlines()[:1]
    version = first[0].split('"')[1] if first and '"' in first[0] else ""
    major = version.split(".")[0]
    if major.isdigit() and int(major) < MIN_JAVA:
        raise MissingPrerequisiteError(
            f"Kafka 4.x needs Java 17 or newer, found {version}: install openjdk-17-jre-headless"
        )
    return java


def _require_maven() -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise MissingPrerequisiteError("mvn not found: install maven (apt-get install maven)")
    return mvn


def _pom_digest() -> str:
    return hashlib.sha256(KAFKA_POM.read_bytes()).hexdigest()


def _kafka_jars_fetched() -> bool:
    return KAFKA_LIBS_MARKER.is_file() and KAFKA_LIBS_MARKER.read_text().strip() == _pom_digest()


def fetch_kafka_jars() -> bool:
    """Copy Kafka's runtime jars into .cache/kafka/libs unless that pom's jars are already there.

    Returns True when it fetched. The marker holds the pom's digest, so a version bump in the
    pom fetches again; the copy goes to a scratch folder first so a failed fetch leaves no
    half-filled libs folder behind.
    """
    if _kafka_jars_fetched():
        return False
    mvn = _require_maven()
    scratch = KAFKA_LIBS.with_name("libs.partial")
    shutil.rmtree(scratch, ignore_errors=True)
    _say(f"fetching Kafka jars with Maven into {KAFKA_LIBS.relative_to(REPO_ROOT)}")
    command = [
        mvn, "-q", "-B", "-f", str(KAFKA_POM), "dependency:copy-dependencies",
        f"-DoutputDirectory={scratch}", "-DincludeScope=runtime",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    if result.returncode != 0 or not any(scratch.glob("kafka_2.13-*.jar")):
        raise InfraError(f"Maven could not fetch Kafka's jars:\n{result.stdout}{result.stderr}")
    shutil.rmtree(KAFKA_LIBS, ignore_errors=True)
    scratch.rename(KAFKA_LIBS)
    KAFKA_LIBS_MARKER.write_text(_pom_digest() + "\n")
    return True


def kafka_version() -> str | None:
    """The Kafka version in .cache/kafka/libs, if fetched."""
    for jar in sorted(KAFKA_LIBS.glob("kafka_2.13-*.jar")):
        return jar.name.removeprefix("kafka_2.13-").removesuffix(".jar")
    return None


def _new_cluster_id() -> str:
    # Kafka's Uuid: 16 random bytes as URL-safe base64 without padding (22 characters).
    # A leading '-' would be read by the StorageTool's argument parser as an option.
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):
            return candidate


def _cluster_id() -> str:
    # Stable across runs: the formatted data folder remembers the id it was formatted with.
    if KAFKA_CLUSTER_ID.is_file():
        existing = KAFKA_CLUSTER_ID.read_text().strip()
        if len(existing) == CLUSTER_ID_LENGTH and not existing.startswith("-"):
            return existing
    cluster_id = _new_cluster_id()
    _write_text(KAFKA_CLUSTER_ID, cluster_id + "\n")
    return cluster_id


def _write_kafka_config(port: int) -> None:
    template = Template((TEMPLATES / "kafka-server.properties.tmpl").read_text())
    properties = template.substitute(port=port, controller_port=port + 1, data_dir=KAFKA_DATA.as_posix())
    _write_text(KAFKA_PROPS, properties)
    shutil.copyfile(TEMPLATES / "kafka-log4j2.properties", KAFKA_LOG4J)


def _kafka_java_command(java: str, main_class: str, *args: str) -> list[str]:
    return [
        java,
        *KAFKA_JVM_OPTIONS,
        f"-Dlog4j2.configurationFile={KAFKA_LOG4J}",
        f"-Dkafka.logs.dir={KAFKA_DIR}",
        "-cp",
        f"{KAFKA_LIBS}/*",
        main_class,
        *args,
    ]


def _format_kafka_storage(java: str) -> None:
    command = _kafka_java_command(
        java, "kafka.tools.StorageTool", "format",
        "-t", _cluster_id(), "-c", str(KAFKA_PROPS), "--ignore-formatted",
    )  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=KAFKA_DIR)
    if result.returncode != 0:
        raise InfraError(
            f"formatting Kafka storage in {KAFKA_DATA} failed:\n{result.stdout}{result.stderr}\n"
            f"(if the cluster id changed, remove {KAFKA_DIR} and start again)"
        )


def _spawn_detached(command: Sequence[str], log: Path, cwd: Path) -> int:
    """Start a process in its own session that outlives us; return its pid.

    A short-lived shell starts it in the background and exits, so the process is re-parented
    to init and never becomes a zombie of this (possibly long-running) Python process.
    """
    if log.exists():
        log.replace(log.with_name(log.name + ".1"))
    launcher = '"$@" >"$0" 2>&1 </dev/null & echo $!'
    result = subprocess.run(
        ["sh", "-c", launcher, str(log), *command],
        capture_output=True, text=True, check=True, cwd=cwd, start_new_session=True,
    )  # fmt: skip
    return int(result.stdout.strip())


def kafka_pid() -> int | None:
    """The pid of our broker, if its pid file names a live process running our broker."""
    pid = _read_int(KAFKA_PID)
    if pid is None or not _alive(pid):
        return None
    command = _cmdline(pid)
    # The pid may have been reused by an unrelated process since we wrote the file.
    if KAFKA_MAIN_CLASS in command and str(KAFKA_PROPS) in command:
        return pid
    return None


def kafka_running() -> bool:
    return kafka_pid() is not None


def running_kafka_port() -> int | None:
    """The port of the running broker, or of the last one started (None if never started)."""
    return _read_int(KAFKA_PORT_FILE)


async def _kafka_controller(bootstrap: str) -> int | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await admin.start()
        cluster: dict[str, Any] = await admin.describe_cluster()
    finally:
        await admin.close()
    controller = cluster.get("controller_id")
    return controller if isinstance(controller, int) and controller >= 0 else None


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def kafka_answers(bootstrap: str) -> bool:
    """True if an admin client gets an answer naming a controller (an open port is not enough)."""
    # aiokafka logs every refused connection; skip it until the broker listens at all.
    if not _port_open(int(bootstrap.rsplit(":", 1)[1])):
        return False
    try:
        return _run_async(asyncio.wait_for(_kafka_controller(bootstrap), 10)) is not None
    except Exception:  # noqa: BLE001 - any failure means "not ready yet"
        return False


def _wait_kafka_ready(bootstrap: str, pid: int, timeout_s: float = KAFKA_READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            raise InfraError(f"Kafka (pid {pid}) exited during start-up; end of {KAFKA_LOG}:\n{_log_tail(KAFKA_LOG)}")
        if kafka_answers(bootstrap):
            return
        time.sleep(0.5)
    raise InfraError(
        f"Kafka at {bootstrap} did not answer within {timeout_s:.0f}s; end of {KAFKA_LOG}:\n{_log_tail(KAFKA_LOG)}"
    )


def _start_kafka(port: int) -> None:
    java = _require_java()
    fetch_kafka_jars()
    _require_free_ports("Kafka", KAFKA_PORT_ENV, (port, port + 1))
    KAFKA_DATA.mkdir(parents=True, exist_ok=True)
    _write_kafka_config(port)
    _format_kafka_storage(java)
    command = _kafka_java_command(java, KAFKA_MAIN_CLASS, str(KAFKA_PROPS))
    pid = _spawn_detached(command, KAFKA_LOG, KAFKA_DIR)
    _write_text(KAFKA_PID, f"{pid}\n")
    _write_text(KAFKA_PORT_FILE, f"{port}\n")
    _wait_kafka_ready(kafka_bootstrap(port), pid)


def provide_kafka(port: int | None = None) -> Provided:
    """Make sure our broker runs and answers; start it if needed."""
    wanted = kafka_port(port)
    with _locked():
        pid = kafka_pid()
        if pid is not None:
            current = running_kafka_port()
            if current != wanted:
                raise InfraError(
                    f"Kafka already runs on port {current}, not {wanted}: run `python -m deploy.local.infra down` first"
                )
            # Already running (perhaps still starting): wait for it rather than start another.
            _wait_kafka_ready(kafka_bootstrap(wanted), pid)
            return Provided(kafka_bootstrap(wanted), started=False)
        started_at = time.monotonic()
        _start_kafka(wanted)
        _say(f"Kafka {kafka_version()} ready on 127.0.0.1:{wanted} in {time.monotonic() - started_at:.1f}s")
        return Provided(kafka_bootstrap(wanted), started=True)


def ensure_kafka(port: int | None = None) -> str:
    """Start the local broker unless it already runs; return its bootstrap servers."""
    return provide_kafka(port).address


def stop_kafka() -> bool:
    """Stop the broker we started (SIGTERM: Kafka shuts down cleanly). True if one was running."""
    with _locked():
        pid = kafka_pid()
        if pid is None:
            KAFKA_PID.unlink(missing_ok=True)
            return False
        _signal_and_wait(pid)
        KAFKA_PID.unlink(missing_ok=True)
        _say(f"Kafka (pid {pid}) stopped")
        return True


def restart_kafka() -> str:
    """Stop and start the broker on the same port with the same data (for fault tests)."""
    with _locked():
        port = running_kafka_port()
        stop_kafka()
        return ensure_kafka(port)


# ---------------------------------------------------------------------------------------------
# PostgreSQL


def pg_port(port: int | None = None) -> int:
    """The port to use: the argument, else $PROGRAMME_PG_PORT, else 55432."""
    return _resolve_port(port, PG_PORT_ENV, DEFAULT_PG_PORT)


def admin_dsn(port: int, database: str = PG_DATABASE) -> str:
    return f"postgresql://{PG_SUPERUSER}:{PG_PASSWORD}@127.0.0.1:{port}/{database}"


def _require_pg_binaries() -> None:
    missing = [name for name in ("initdb", "pg_ctl", "postgres") if not (PG_BIN / name).is_file()]
    if missing:
        raise MissingPrerequisiteError(
            f"{', '.join(missing)} not found in {PG_BIN}: install postgresql-15 (apt-get install postgresql-15)"
        )


def _pg_account() -> pwd.struct_passwd | None:
    """The OS account to run the server as: `postgres` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_OS_USER)
    except KeyError as exc:
        # Debian's postgresql-common creates this account.
        raise MissingPrerequisiteError(
            "no `postgres` OS user (PostgreSQL refuses to run as root): install postgresql-15"
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
            _say(f"added o+x to {folder} so the postgres user can reach {PG_DIR}")


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
        raise InfraError(
            f"{command[0]} took longer than {timeout_s:.0f}s; end of {PG_LOG}:\n{_log_tail(PG_LOG)}"
        ) from exc


def _pg_failed(what: str, result: subprocess.CompletedProcess[str]) -> InfraError:
    return InfraError(
        f"{what} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}\n"
        f"end of {PG_LOG}:\n{_log_tail(PG_LOG)}"
    )


def _initdb(account: pwd.struct_passwd | None) -> None:
    """Create the cluster once; into a scratch folder first so a failure leaves no half cluster."""
    if (PG_DATA / "PG_VERSION").is_file():
        return
    if PG_DATA.exists():
        raise InfraError(f"{PG_DATA} exists but holds no cluster; remove it and start again")
    scratch = PG_DIR / "data.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    password_file = PG_DIR / "initdb.pw"
    password_file.write_text(PG_PASSWORD + "\n")
    password_file.chmod(0o600)
    if account is not None:
        os.chown(password_file, account.pw_uid, account.pw_gid)
    _say(f"initdb {PG_DATA.relative_to(REPO_ROOT)}")
    try:
        result = _run_as_pg(
            [
                str(PG_BIN / "initdb"), "-D", str(scratch), "-U", PG_SUPERUSER,
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
        conf.write("\n# Project settings, rewritten on every start by deploy/local/infra.py\n")
        conf.write("include_if_exists = 'programme.conf'\n")
    scratch.rename(PG_DATA)


def _write_pg_config(port: int, account: pwd.struct_passwd | None) -> None:
    template = Template((TEMPLATES / "postgresql.conf.tmpl").read_text())
    target = PG_DATA / "programme.conf"
    target.write_text(template.substitute(port=port, socket_dir=PG_SOCKET_DIR.as_posix()))
    if account is not None:
        os.chown(target, account.pw_uid, account.pw_gid)


def postgres_pid() -> int | None:
    """The postmaster's pid, if postmaster.pid names a live server on our data folder."""
    pid = _read_int(PG_DATA / "postmaster.pid")
    if pid is None or not _alive(pid):
        return None
    command = _cmdline(pid)
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
    return _read_int(PG_PORT_FILE)


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
            _run_async(_pg_prepare(port))
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            error = exc
            time.sleep(0.3)
        else:
            return
    raise InfraError(
        f"PostgreSQL on 127.0.0.1:{port} did not answer within {timeout_s:.0f}s ({error!r}); "
        f"end of {PG_LOG}:\n{_log_tail(PG_LOG)}"
    )


def _start_postgres(port: int) -> None:
    _require_pg_binaries()
    account = _pg_account()
    _require_free_ports("PostgreSQL", PG_PORT_ENV, (port,))
    _prepare_pg_dirs(account)
    _initdb(account)
    _write_pg_config(port, account)
    result = _run_as_pg(
        [str(PG_BIN / "pg_ctl"), "-D", str(PG_DATA), "-l", str(PG_LOG), "-w", "-t", "60", "start"],
        account,
    )
    if result.returncode != 0:
        raise _pg_failed("pg_ctl start", result)
    _write_text(PG_PORT_FILE, f"{port}\n")
    _wait_pg_ready(port)


def provide_postgres(port: int | None = None) -> Provided:
    """Make sure our server runs and answers, with database `programme`; start it if needed."""
    wanted = pg_port(port)
    with _locked():
        if postgres_running():
            current = running_pg_port()
            if current != wanted:
                raise InfraError(
                    f"PostgreSQL already runs on port {current}, not {wanted}: "
                    "run `python -m deploy.local.infra down` first"
                )
            _wait_pg_ready(wanted)
            return Provided(admin_dsn(wanted), started=False)
        started_at = time.monotonic()
        _start_postgres(wanted)
        _say(f"PostgreSQL ready on 127.0.0.1:{wanted} in {time.monotonic() - started_at:.1f}s")
        return Provided(admin_dsn(wanted), started=True)


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
    with _locked():
        pid = postgres_pid()
        if pid is None:
            return False
        account = _pg_account()
        pg_ctl = str(PG_BIN / "pg_ctl")
        result = _run_as_pg([pg_ctl, "-D", str(PG_DATA), "-m", "fast", "-w", "-t", "60", "stop"], account)
        if result.returncode != 0 and postgres_running():
            # A fast shutdown waits for nothing but may still hang on a stuck client.
            _say(f"pg_ctl stop -m fast failed ({result.stderr.strip()}); trying -m immediate")
            _run_as_pg([pg_ctl, "-D", str(PG_DATA), "-m", "immediate", "-w", "stop"], account)
        if postgres_running():
            raise _pg_failed("pg_ctl stop", result)
        _say(f"PostgreSQL (pid {pid}) stopped")
        return True


# ---------------------------------------------------------------------------------------------
# Command line


def _status_line(name: str, pid: int | None, port: int | None, answers: bool) -> str:
    if pid is None:
        return f"{name}: stopped"
    state = "answers" if answers else "NOT answering"
    return f"{name}: running, pid {pid}, 127.0.0.1:{port}, {state}"


def status_lines() -> list[str]:
    kafka, pg = kafka_pid(), postgres_pid()
    kafka_at, pg_at = running_kafka_port(), running_pg_port()
    kafka_ok = kafka is not None and kafka_at is not None and kafka_answers(kafka_bootstrap(kafka_at))
    pg_ok = pg is not None and pg_at is not None and _pg_answers(pg_at)
    version = kafka_version() or "not fetched"
    return [
        _status_line(f"kafka ({version})", kafka, kafka_at, kafka_ok),
        _status_line("postgres", pg, pg_at, pg_ok),
    ]


def _pg_answers(port: int) -> bool:
    try:
        _run_async(_pg_prepare(port))
    except Exception:  # noqa: BLE001 - any failure means "does not answer"
        return False
    return True


def env_lines() -> list[str]:
    # A running component's own port wins over the environment it would be started with.
    kafka_at = (running_kafka_port() if kafka_running() else None) or kafka_port()
    pg_at = (running_pg_port() if postgres_running() else None) or pg_port()
    return [
        f"export KAFKA_BOOTSTRAP_SERVERS={kafka_bootstrap(kafka_at)}",
        f"export PROGRAMME_ADMIN_DSN={admin_dsn(pg_at)}",
    ]


def check_prerequisites() -> None:
    """Raise one error naming every missing tool, before anything is started."""
    problems: list[str] = []
    for check in (_require_pg_binaries, _pg_account, _require_java):
        try:
            check()
        except MissingPrerequisiteError as exc:
            problems.append(str(exc))
    if not _kafka_jars_fetched():
        try:
            _require_maven()
        except MissingPrerequisiteError as exc:
            problems.append(str(exc))
    if problems:
        raise MissingPrerequisiteError("; ".join(problems))


def _up() -> None:
    started_at = time.monotonic()
    check_prerequisites()
    ensure_postgres()
    ensure_kafka()
    _say(f"up in {time.monotonic() - started_at:.1f}s")
    print("\n".join(env_lines()))


def _down() -> None:
    stopped_kafka = stop_kafka()
    stopped_pg = stop_postgres()
    if not (stopped_kafka or stopped_pg):
        _say("nothing was running")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.local.infra", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("up", "down", "status", "env"))
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "up":
            _up()
        elif arguments.command == "down":
            _down()
        elif arguments.command == "status":
            print("\n".join(status_lines()))
        else:
            print("\n".join(env_lines()))
    except InfraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, MissingPrerequisiteError) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
