"""The system driven: topics, each service's role and schema ready, its migrations applied, its processes started."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from devkit.processes import ServiceProcess, free_port
from shared import migrate
from shared.cli.topics import ensure_topics
from shared.db import create_pool
from shared.topic_config import TopicSettings

SERVICE_MODULES = {
    "applications": "applications",
    "workshops": "workshops",
    "funding": "funding",
    "probe": "tests.probe",  # the foundation tests' minimal service, named, not imported
}


def migrations_of(module: str) -> Path:
    """A service package's migrations folder, found without importing the package."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        msg = f"the {module} package is not installed"
        raise LookupError(msg)
    return Path(next(iter(spec.submodule_search_locations))) / "migrations"


def owner_role(service: str) -> str:
    return f"{service}_owner"


def role_dsn(admin_dsn: str, role: str, password: str) -> str:
    """The administrator's DSN with another role and password: same server, same database."""
    parts = urlsplit(admin_dsn)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{role}:{password}@{host}:{parts.port or 5432}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass
class System:
    """One Kafka and one PostgreSQL, and the services run against them.

    Each service reaches the database as its own role, named after it, with its name as
    password unless `dsns` gives the service another DSN.
    """

    kafka_bootstrap: str
    admin_dsn: str
    dsns: dict[str, str] = field(default_factory=dict)
    processes: list[ServiceProcess] = field(default_factory=list)

    async def prepare(
        self, *, services: tuple[str, ...], extra_topics: tuple[str, ...] = (), partitions: int = 6
    ) -> list[str]:
        """Topics, then each service's roles and schema, migrated as its owner, as `programme` would prepare them.

        Returns the topics created.
        """
        created = await ensure_topics(
            self.kafka_bootstrap,
            settings=TopicSettings(partitions=partitions, replication_factor=1),
            extra=extra_topics,
        )
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            for service in services:
                owner = owner_role(service)
                await migrate.bootstrap(
                    admin,
                    schema=service,
                    owner=owner,
                    owner_password=owner,
                    runtime=service,
                    runtime_password=urlsplit(self.dsn(service)).password or service,
                )
        finally:
            await admin.close()
        for service in services:
            await self.migrate(service, migrations=migrations_of(SERVICE_MODULES[service]))
        return created

    async def migrate(self, service: str, *, migrations: Path) -> list[migrate.Migration]:
        """The service's schema migrated by its owner; returns the migrations applied."""
        return await migrate.migrate_service(
            self.owner_dsn(service), service=service, runtime_role=service, migrations=migrations
        )

    async def migrated_pool(self, service: str, *, migrations: Path, max_size: int) -> asyncpg.Pool:
        """Connections as the service's runtime role, on its schema migrated by its owner."""
        await self.migrate(service, migrations=migrations)
        return await create_pool(
            self.dsn(service), schema=service, service=f"{service}-test", min_size=2, max_size=max_size
        )

    def dsn(self, service: str) -> str:
        """The service's runtime role: data rights on its own schema, no more."""
        return self.dsns.get(service) or role_dsn(self.admin_dsn, service, service)

    def owner_dsn(self, service: str) -> str:
        """The owner of the service's schema: what migrations run as."""
        return role_dsn(self.admin_dsn, owner_role(service), owner_role(service))

    def service_env(self, service: str) -> dict[str, str]:
        """The settings a service runs with here: this system's endpoints, loopback only, a quick relay."""
        prefix = f"{service.upper()}_"
        return {
            f"{prefix}DATABASE_DSN": self.dsn(service),
            f"{prefix}KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            f"{prefix}HTTP_HOST": "127.0.0.1",
            f"{prefix}RELAY_POLL_INTERVAL_S": "0.05",
        }

    def process(self, service: str, *, module: str | None = None, **env: str) -> ServiceProcess:
        """A service process (not started). Extra settings without prefix, e.g. FAILPOINTS='after_db_commit'."""
        prefix = f"{service.upper()}_"
        proc = ServiceProcess(
            module=module or SERVICE_MODULES[service],
            prefix=prefix,
            env={**self.service_env(service), **{f"{prefix}{k}": v for k, v in env.items()}},
            http_port=free_port(),
            name=service,
        )
        self.processes.append(proc)
        return proc

    async def start(self, service: str, *, module: str | None = None, **env: str) -> ServiceProcess:
        proc = self.process(service, module=module, **env)
        proc.start()
        await proc.wait_ready()
        return proc

    async def start_all(
        self, services: tuple[str, ...], *, replicas: int = 1, timeout: float = 120.0, **env: str
    ) -> dict[str, list[ServiceProcess]]:
        """`replicas` processes of each service, started together; returns them by service once all are ready."""
        started = {service: [self.process(service, **env) for _ in range(replicas)] for service in services}
        for procs in started.values():
            for proc in procs:
                proc.start()
        await asyncio.gather(*(proc.wait_ready(timeout) for procs in started.values() for proc in procs))
        return started

    @contextlib.asynccontextmanager
    async def running(
        self, services: Iterable[str], *, timeout: float = 120.0, **env: str
    ) -> AsyncIterator[dict[str, ServiceProcess]]:
        """One process of each service, ready, by service; stopped on leaving, whether they all started or not."""
        procs = {service: self.process(service, **env) for service in services}
        try:
            for proc in procs.values():
                proc.start()
            await asyncio.gather(*(proc.wait_ready(timeout) for proc in procs.values()))
            yield procs
        finally:
            for proc in procs.values():
                proc.stop()

    def stop_all(self) -> None:
        for proc in self.processes:
            proc.stop()
