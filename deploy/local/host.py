"""What the local Kafka and PostgreSQL share: folders, ports, errors, detached processes, pid files, the lock."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).resolve().parent
CACHE_DIR = REPO_ROOT / ".cache"
LOCAL_DIR = REPO_ROOT / ".local"
RUN_DIR = LOCAL_DIR / "run"

STOP_TIMEOUT_S = 60.0
LOG_TAIL_LINES = 40
MAX_PORT = 65535


class InfraError(RuntimeError):
    """Local infrastructure could not be started, stopped or reached."""


class MissingPrerequisiteError(InfraError):
    """A tool the local infrastructure needs is not installed; the message says what to install."""


@dataclass(frozen=True)
class Provided:
    """Where a component answers, and whether this call started it (and so should stop it)."""

    address: str
    started: bool


def say(message: str) -> None:
    # Progress goes to stderr so that `env` output on stdout stays eval-able.
    print(f"[infra] {message}", file=sys.stderr, flush=True)


def resolve_port(explicit: int | None, env_name: str, default: int) -> int:
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


def read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(content[-lines:])


def cmdline(pid: int) -> list[str]:
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


def alive(pid: int) -> bool:
    # A zombie has exited; it only waits for its parent to reap it.
    return Path(f"/proc/{pid}").exists() and not _is_zombie(pid)


def reap(pid: int) -> None:
    # If this process happens to be the parent, collect the exit status so no zombie stays.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def require_free_ports(component: str, env_name: str, ports: Sequence[int]) -> None:
    busy = [port for port in ports if not port_free(port)]
    if busy:
        raise InfraError(
            f"{component}: port(s) {', '.join(map(str, busy))} on 127.0.0.1 are taken by another "
            f"process; stop it or choose other ports with {env_name}"
        )


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion, also when called from inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # asyncio.run refuses to nest: an async test fixture may call us, so use a fresh thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def signal_and_wait(pid: int, timeout_s: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM, wait for the exit, SIGKILL once the deadline has passed."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        reap(pid)
        if not alive(pid):
            return
        time.sleep(0.2)
    say(f"pid {pid} did not stop within {timeout_s:.0f}s; sending SIGKILL")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while alive(pid):
        reap(pid)
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


locked = _InfraLock().held


def spawn_detached(command: Sequence[str], log: Path, cwd: Path) -> int:
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


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0
