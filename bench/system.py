"""The system under measurement: infrastructure, topics, schemas, and replicas of the three services as processes."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench import cost, isolation
from deploy.local import kafka as local_kafka
from deploy.local import postgres as local_postgres
from devkit.infra import Infrastructure, resolve_infrastructure
from devkit.processes import ServiceProcess
from devkit.system import System
from shared.topics import SERVICES


@dataclass
class RunningSystem:
    infra: Infrastructure
    system: System
    processes: dict[str, list[ServiceProcess]] = field(default_factory=dict)

    @classmethod
    async def start(cls, *, replicas: int = 1) -> RunningSystem:
        infra = resolve_infrastructure()
        # The bench's own database on the same server: the user's rows stay as they were.
        admin_dsn = await isolation.own_database(infra.admin_dsn)
        system = System(kafka_bootstrap=infra.kafka_bootstrap, admin_dsn=admin_dsn)
        await system.prepare(services=SERVICES)
        return cls(infra, system, await system.start_all(SERVICES, replicas=replicas, LOG_LEVEL="INFO"))

    def all_processes(self) -> list[ServiceProcess]:
        return [proc for procs in self.processes.values() for proc in procs]

    async def metrics(self, service: str) -> dict[str, float]:
        """Counters summed over the service's replicas, by `name{label=value,...}` without the service label."""
        totals: dict[str, float] = {}
        for proc in self.processes[service]:
            for key, value in (await proc.metrics()).items():
                totals[key] = totals.get(key, 0.0) + value
        return totals

    def peak_rss_mb(self, service: str) -> float:
        return max((proc.peak_rss_mb() for proc in self.processes[service]), default=0.0)

    def cpu_seconds(self, service: str) -> float:
        """CPU seconds the service's running replicas have used since they started."""
        return sum(cost.cpu_seconds(proc.pid) for proc in self.processes[service])

    def database_cpu_seconds(self) -> float | None:
        """CPU seconds of the PostgreSQL server and its connections; None unless this machine's local server."""
        if self.infra.origin != "local":
            return None
        return cost.tree_cpu_seconds(local_postgres.postgres_pid())

    def broker_cpu_seconds(self) -> float | None:
        """CPU seconds of the Kafka broker; None unless this machine's local broker (one JVM process)."""
        if self.infra.origin != "local":
            return None
        return cost.cpu_seconds(local_kafka.kafka_pid())

    def stop(self) -> None:
        self.system.stop_all()
        self.infra.close()


def applied(metrics: dict[str, float]) -> float:
    return sum(v for k, v in metrics.items() if k.startswith("programme_messages_in_total{") and "outcome=applied" in k)


def published(metrics: dict[str, float]) -> float:
    return sum(v for k, v in metrics.items() if k.startswith("programme_messages_out_total{"))
