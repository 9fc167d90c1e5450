"""Services as real OS processes: started with their settings, waited on until ready, killed or stopped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".local" / "test-logs"


@dataclass
class ServiceProcess:
    """One service process. `module` is what `python -m` runs; `prefix` its settings' env prefix."""

    module: str
    prefix: str
    env: dict[str, str]
    http_port: int
    name: str = ""
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    starts: int = field(default=0, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def log_path(self) -> Path:
        return LOGS / f"{self.name or self.module}-{self.http_port}.log"

    def start(self, **extra_env: str) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            **self.env,
            f"{self.prefix}HTTP_PORT": str(self.http_port),
            f"{self.prefix}HTTP_HOST": "127.0.0.1",
        }
        env.update({f"{self.prefix}{k}": v for k, v in extra_env.items()})
        env.setdefault(f"{self.prefix}LOG_FORMAT", "json")
        log = self.log_path.open("ab")
        self.starts += 1
        log.write(f"\n=== start {self.starts} {time.strftime('%H:%M:%S')} ===\n".encode())
        log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise AssertionError(f"{self.module} exited with {self.process.returncode}:\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/health/ready")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise AssertionError(f"{self.module} not ready within {timeout}s:\n{self.tail()}")

    async def wait_exit(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        assert self.process is not None
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.module} still running after {timeout}s")
            await asyncio.sleep(0.1)
        return self.process.returncode

    async def ready_status(self) -> int:
        async with httpx.AsyncClient(timeout=5.0) as client:
            try:
                return (await client.get(f"{self.url}/health/ready")).status_code
            except httpx.HTTPError:
                return 0

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


_next_port = 18100 + (os.getpid() % 400) * 4


def free_port() -> int:
    """A port from a per-run range, skipping ones in use."""
    global _next_port  # noqa: PLW0603
    while True:
        _next_port += 1
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", _next_port)) != 0:
                return _next_port
