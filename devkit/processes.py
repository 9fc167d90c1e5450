"""Services as real OS processes: started with their settings, waited on until ready, paused, killed or stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from deploy.local import host

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / ".local" / "test-logs"


class ServiceProcessError(RuntimeError):
    """A service process exited, or did not become ready or stop in time; the message ends with its log."""


@dataclass
class ServiceProcess:
    """One service process. `module` is what `python -m` runs; `prefix` its settings' env prefix.

    `env` holds its settings, which win over this process's environment. With a `pid_file`,
    the process is found again by a later invocation (``make up``, then ``make down``); with
    `own_session`, a Ctrl-C meant for the invoking terminal does not reach it.
    """

    module: str
    prefix: str
    env: dict[str, str]
    http_port: int
    name: str = ""
    log_file: Path | None = None
    pid_file: Path | None = None
    own_session: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    starts: int = field(default=0, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def log_path(self) -> Path:
        return self.log_file or LOGS / f"{self.name or self.module}-{self.http_port}.log"

    @property
    def pid(self) -> int | None:
        """The pid while it runs: of the process this object started, else of the one its pid file names."""
        if self.process is not None:
            return self.process.pid if self.process.poll() is None else None
        if self.pid_file is None:
            return None
        pid = host.read_int(self.pid_file)
        # The pid may have been reused by an unrelated process since the file was written.
        if pid is not None and host.alive(pid) and self.module in host.cmdline(pid):
            return pid
        return None

    def start(self, **extra_env: str) -> None:
        """Start it; `extra_env` are settings without the prefix, e.g. FAILPOINTS='after_db_commit'."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, f"{self.prefix}HTTP_PORT": str(self.http_port)}
        env.update({f"{self.prefix}{k}": v for k, v in extra_env.items()})
        env.setdefault(f"{self.prefix}LOG_FORMAT", "json")
        log = self.log_path.open("ab")
        self.starts += 1
        log.write(f"\n=== start {self.starts} {time.strftime('%H:%M:%S')} ===\n".encode())
        log.flush()
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, one of our modules
            [sys.executable, "-m", self.module],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=self.own_session,
        )
        if self.pid_file is not None:
            host.write_text(self.pid_file, f"{self.process.pid}\n")

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.pid is None:
                    code = self.process.returncode if self.process is not None else None
                    raise ServiceProcessError(f"{self.module} exited with {code}:\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/health/ready")).status_code == httpx.codes.OK:
                        return
                await asyncio.sleep(0.2)
        raise ServiceProcessError(f"{self.module} not ready within {timeout}s:\n{self.tail()}")

    async def wait_exit(self, timeout: float = 60.0) -> int:
        if self.process is None:
            raise ServiceProcessError(f"{self.module} was not started here: its exit code is not ours to read")
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise ServiceProcessError(f"{self.module} still running after {timeout}s")
            await asyncio.sleep(0.1)
        return self.process.returncode

    async def ready_status(self) -> int:
        async with httpx.AsyncClient(timeout=5.0) as client:
            try:
                return (await client.get(f"{self.url}/health/ready")).status_code
            except httpx.HTTPError:
                return 0

    async def metrics(self) -> dict[str, float]:
        """Its Prometheus samples by `name{label=value,...}`, the service label left out so replicas add up."""
        found: dict[str, float] = {}
        async with httpx.AsyncClient(timeout=3.0) as client:
            text = (await client.get(f"{self.url}/metrics")).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()) if k != "service")
                key = f"{sample.name}{{{labels}}}"
                found[key] = found.get(key, 0.0) + sample.value
        return found

    def peak_rss_mb(self) -> float:
        """The most memory it has held so far (VmHWM), 0 when it does not run."""
        pid = self.pid
        if pid is None:
            return 0.0
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return 0.0
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        return float(match.group(1)) / 1024 if match else 0.0

    def pause(self) -> None:
        """SIGSTOP: the process stays, silent, as a hung host would be, until `resume`."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: no shutdown at all, as a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        elif (pid := self.pid) is not None:
            os.kill(pid, signal.SIGKILL)
        self._forget_pid()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, and SIGKILL if it has not exited by the deadline."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(10)
        elif (pid := self.pid) is not None:
            host.signal_and_wait(pid, timeout)
        self._forget_pid()

    def tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _signal(self, signum: signal.Signals) -> None:
        pid = self.pid
        if pid is None:
            raise ServiceProcessError(f"{self.module} does not run")
        os.kill(pid, signum)

    def _forget_pid(self) -> None:
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)


_next_port = 18100 + (os.getpid() % 400) * 4


def free_port() -> int:
    """A port from a per-run range, skipping ones in use."""
    global _next_port  # noqa: PLW0603
    while True:
        _next_port += 1
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", _next_port)) != 0:
                return _next_port
