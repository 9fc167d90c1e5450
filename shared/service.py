"""Wiring a service: the only place that puts settings, broker, pool, relay, consumers and HTTP together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import uvicorn
from aiokafka import ConsumerRecord
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy

from shared import asyncapi, failpoints, migrate, outbox, scheduler
from shared.asyncapi_http import asyncapi_routes
from shared.consumer import Consumer, Subscription
from shared.db import Liveness, create_pool, is_transient
from shared.descriptor import Descriptor
from shared.http import health_routes
from shared.kafka import make_broker, make_dlq_producer, make_producer
from shared.logging import configure_logging, get_logger
from shared.lookups import Lookup, LookupRoutes, ServiceAsgi
from shared.metrics import ServiceMetrics
from shared.relay import Relay
from shared.retry import Backoff
from shared.runtime import Runtime
from shared.scheduler import Job
from shared.settings import ServiceSettings

log = get_logger(__name__)


@dataclass(frozen=True)
class ServiceSpec:
    """A service put together: what it is, its settings, what it reads, and its time-driven jobs."""

    service: Descriptor
    settings: ServiceSettings
    subscriptions: Sequence[Subscription]
    jobs: Sequence[Job[Any]] = ()
    lookups: Sequence[Lookup] = ()

    @property
    def name(self) -> str:
        return self.service.name


def build_app(spec: ServiceSpec) -> AsgiFastStream:
    settings = spec.settings
    configure_logging(spec.name, level=settings.log_level, log_format=settings.log_format)
    failpoints.activate(settings.failpoints)
    runtime = Runtime(service=spec.name, settings=settings, metrics=ServiceMetrics(spec.name))
    broker = make_broker(settings, service=spec.name, logger=get_logger("faststream"))
    _subscribe(broker, runtime, spec)
    tasks: list[asyncio.Task[None]] = []

    async def start() -> None:
        await _start_runtime(runtime, spec, tasks)

    async def stop() -> None:
        runtime.stopping.set()

    async def close() -> None:
        await _stop_runtime(runtime, tasks)

    app = ServiceAsgi(
        broker,
        asgi_routes=(*health_routes(runtime, broker), *asyncapi_routes(describe(spec))),
        on_startup=[start],
        on_shutdown=[stop],
        after_shutdown=[close],
        logger=get_logger("faststream"),
    )
    app.lookups = LookupRoutes(runtime, spec.lookups, title=spec.name, version=spec.service.version)
    return app


def serve(app: AsgiFastStream, settings: ServiceSettings) -> None:
    """Run the app over HTTP (uvicorn), on the settings' host and port; SIGTERM and Ctrl-C stop it cleanly."""
    # log_config=None: uvicorn's lines go to the root handler configure_logging set up, as JSON like ours.
    uvicorn.run(
        app, host=settings.http_host, port=settings.http_port, log_level="warning", access_log=False, log_config=None
    )


def _subscribe(broker: KafkaBroker, runtime: Runtime, spec: ServiceSpec) -> None:
    settings = spec.settings
    for subscription in spec.subscriptions:
        consumer = Consumer(runtime, subscription)
        broker.subscriber(
            subscription.topic,
            group_id=settings.group_id(spec.name),
            batch=True,
            max_records=settings.consumer_max_records,
            batch_timeout_ms=settings.consumer_batch_timeout_ms,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=2_000,
            max_poll_interval_ms=300_000,
            # Our reader parses every record itself, strictly; faststream decoding the body or the
            # headers first would raise on a broken one before our handler could dead-letter it.
            listener=consumer.listener,
            parser=_parse_with_raw_records,
            decoder=_the_message_itself,
            title=f"{spec.name}:{subscription.topic}",
            description=subscription.description or f"{spec.name} consumes {subscription.topic}",
        )(consumer.handle)


async def _parse_with_raw_records(
    records: tuple[ConsumerRecord[bytes, bytes], ...],
    original: Callable[[tuple[ConsumerRecord[bytes, bytes], ...]], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """faststream's batch parser, shown headers it can decode; the consumer still gets the records as they came.

    faststream decodes every header value as UTF-8 and, on one that is not, drops the whole batch
    before the handler runs: the good records with it, and the bad one never reaches the DLQ.
    """
    message = await original(tuple(replace(record, headers=_text_headers(record)) for record in records))
    message.raw_message = records
    return message


def _text_headers(record: ConsumerRecord[bytes, bytes]) -> list[tuple[str, bytes]]:
    return [(name, (value or b"").decode("utf-8", "replace").encode()) for name, value in record.headers or ()]


async def _the_message_itself(message: StreamMessage[Any]) -> StreamMessage[Any]:
    """The handler's argument (the broker applies no types): the message, its records undecoded."""
    return message


def describe(spec: ServiceSpec) -> dict[str, Any]:
    """The service's AsyncAPI document, from what it reads and publishes (faststream's would show empty payloads)."""
    return asyncapi.document(
        spec.name,
        version=spec.service.version,
        summary=spec.service.summary,
        publishes=spec.service.publishes,
        reads=[asyncapi.Reads.of(subscription) for subscription in spec.subscriptions],
    )


async def _start_runtime(runtime: Runtime, spec: ServiceSpec, tasks: list[asyncio.Task[None]]) -> None:
    settings = spec.settings
    dsn = settings.database_dsn.get_secret_value()
    schema = runtime.schema
    backoff = Backoff(max_s=settings.retry_backoff_max_s)
    while True:  # the database may still be starting: wait for it rather than crash-loop
        try:
            await migrate.at_startup(settings, service=spec.name, schema=schema, migrations=spec.service.migrations)
            runtime.pool_or_none = await create_pool(
                dsn,
                schema=schema,
                service=spec.name,
                min_size=settings.database_pool_min,
                max_size=settings.database_pool_max,
            )
            break
        except Exception as error:
            if not is_transient(error):
                raise
            await backoff.wait(log, "startup.database_unreachable", error)
    producer = make_producer(settings, service=spec.name)
    dlq_producer = make_dlq_producer(settings, service=spec.name)
    for client in (producer, dlq_producer):
        backoff.reset()
        while True:
            try:
                await client.start()
                break
            except Exception as error:
                if not is_transient(error):
                    raise
                await backoff.wait(log, "startup.broker_unreachable", error)
    runtime.producer_or_none = producer
    runtime.dlq_producer_or_none = dlq_producer
    runtime.relay = Relay(
        service=spec.name,
        dsn=dsn,
        schema=schema,
        producer=producer,
        metrics=runtime.metrics,
        poll_interval_s=settings.relay_poll_interval_s,
        batch_size=settings.relay_batch_size,
        retention_hours=settings.outbox_retention_hours,
        on_health=lambda ok: setattr(runtime.health, "relay_ok", ok),
        liveness=Liveness(settings.relay_lock_timeout_s, settings.relay_command_timeout_s),
    )
    tasks.append(asyncio.create_task(runtime.relay.run(), name=f"{spec.name}-relay"))
    tasks.extend(asyncio.create_task(scheduler.run(runtime, job), name=f"{spec.name}-{job.name}") for job in spec.jobs)
    # What start-up built (modules, models, schemas, clients: some 75,000 objects) lives as long as
    # the process: out of the cyclic collector's reach, a full collection no longer walks it. One
    # took 30-70 ms here, a stall of every consumer and the relay at once (ADR 4).
    gc.collect()
    gc.freeze()
    log.info("service.started", schema=schema, subscriptions=[s.topic for s in spec.subscriptions])


async def _stop_runtime(runtime: Runtime, tasks: list[asyncio.Task[None]]) -> None:
    # Consumers are stopped by now (faststream stops the broker before after_shutdown): let the
    # relay publish what they recorded, then stop it.
    if runtime.relay is not None and runtime.pool_or_none is not None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5), runtime.pool.acquire() as conn:
                while await outbox.unsent(conn):
                    runtime.relay.wake()
                    await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if runtime.producer_or_none is not None:
        await runtime.producer.stop()
    if runtime.dlq_producer_or_none is not None:
        await runtime.dlq_producer.stop()
    if runtime.pool_or_none is not None:
        await runtime.pool.close()
    log.info("service.stopped")
