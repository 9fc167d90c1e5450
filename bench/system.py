"""The system under measurement: infrastructure, topics, schemas, and the three services as processes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from devkit.infra import Infrastructure, resolve_infrastructure
from devkit.processes import ServiceProcess
from devkit.system import System

SERVICES = ("applications", "workshops", "funding")


@dataclass
class RunningSystem:
    infra: Infrastructure
    system: System
    processes: dict[str, list[ServiceProcess]] = field(default_factory=dict)

    @classmethod
    async def start(cls, *, replicas: int = 1, **env: str) -> RunningSystem:
        infra = resolve_infrastructure()
        system = System(kafka_bootstrap=infra.kafka_bootstrap, admin_dsn=infra.admin_dsn)
        await system.prepare(services=SERVICES)
        running = cls(infra, system)
        for service in SERVICES:
            running.processes[service] = []
            for _ in range(replicas):
                proc = system.process(service, LOG_LEVEL=env.get("LOG_LEVEL", "INFO"))
                proc.start()
                running.processes[service].append(proc)
        for procs in running.processes.values():
            for proc in procs:
                await proc.wait_ready(timeout=120)
        return running

    def all_processes(self) -> list[ServiceProcess]:
        return [proc for procs in self.processes.values() for proc in procs]

    async def metrics(self, service: str) -> dict[str, float]:
        """Counters summed over the service's replicas, by `name{label=value,...}` without the service label."""
        totals: dict[str, float] = {}
        for proc in self.processes[service]:
            for key, value in (await self.metrics_of(proc)).items():
                totals[key] = totals.get(key, 0.0) + value
        return totals

    async def metrics_of(self, proc: ServiceProcess) -> dict[str, float]:
        found: dict[str, float] = {}
        async with httpx.AsyncClient(timeout=3.0) as client:
            text = (await client.get(f"{proc.url}/metrics")).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()) if k != "service")
                key = f"{sample.name}{{{labels}}}"
                found[key] = found.get(key, 0.0) + sample.value
        return found

    def peak_rss_mb(self, service: str) -> float:
        peaks = [_vm_hwm_kb(proc) for proc in self.processes[service]]
        return max(peaks) / 1024 if peaks else 0.0

    def stop(self) -> None:
        for proc in self.all_processes():
            proc.stop()
        self.infra.close()


def _vm_hwm_kb(proc: ServiceProcess) -> float:
    if proc.process is None:
        return 0.0
    try:
        status = Path(f"/proc/{proc.process.pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return float(match.group(1)) if match else 0.0


def applied(metrics: dict[str, float]) -> float:
    return sum(v for k, v in metrics.items() if k.startswith("programme_messages_in_total{") and "outcome=applied" in k)


def published(metrics: dict[str, float]) -> float:
    return sum(v for k, v in metrics.items() if k.startswith("programme_messages_out_total{"))
