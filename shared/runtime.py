"""What a running service holds: its engine, broker connection, outbox relay and consumer.

The same `ServiceRuntime` backs the API process (`shared.app`) and a standalone worker
(`shared.worker`); nothing is created at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import MetaData, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.backlog import BacklogSampler
from shared.db import create_engine, reading
from shared.idempotency import purge_job_for
from shared.messaging import BatchHandler, BrokerConnection, EventConsumer, EventPublisher, Handler
from shared.outbox import OutboxRelay, pending_on
from shared.periodic import PeriodicJob, PeriodicRunner
from shared.settings import ServiceSettings
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceSpec:
    """A service as the shared mechanism sees it: its tables and the events it consumes."""

    name: str
    title: str
    description: str
    metadata: MetaData
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    version: str = "0.1.0"
    bulk_paths: tuple[str, ...] = ()
    """Path prefixes that take large bodies (up to `max_bulk_body_bytes`)."""
    keys_claimed_by_use_case: tuple[str, ...] = ()
    """Create paths whose use case claims `Idempotency-Key` in its own transaction (shared.idempotency),
    which the app-wide middleware (shared.idempotent_creates) then leaves to it."""
    periodic: tuple[PeriodicJob, ...] = ()
    """Scheduled jobs (watchers) the worker runs; see shared.periodic."""
    batch_handler: BatchHandler | None = None
    """Optional: applies several events in one transaction (used when `consumer_batch_size` > 1)."""
    readiness_details: Callable[[AsyncConnection], Awaitable[dict[str, str]]] | None = None
    """Optional: what /readyz reports beside its checks (a periodic job's source), read on its
    connection; informative, it never makes the service unready."""

    @property
    def outbox(self) -> Table:
        return self.metadata.tables["outbox"]

    @property
    def inbox(self) -> Table:
        return self.metadata.tables["inbox"]


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]
    """What is reachable: "ok", or why not."""
    outbox_backlog: int | None
    """Events written and not yet published (None when the outbox could not be counted)."""
    details: dict[str, str] = field(default_factory=dict)
    """What the service's `readiness_details` reported (not a condition of readiness)."""

    @property
    def ready(self) -> bool:
        return all(v == "ok" for v in self.checks.values())


class ServiceRuntime:
    def __init__(self, spec: ServiceSpec, settings: ServiceSettings, *, run_worker: bool = True) -> None:
        self.spec = spec
        self.settings = settings
        self.run_worker = run_worker
        self.engine: AsyncEngine = create_engine(
            settings.database_url, pool_size=settings.db_pool_size, pool_name=spec.name
        )
        self.broker = BrokerConnection(settings.amqp_url.get_secret_value(), name=f"itsm-{spec.name}")
        self.publisher = EventPublisher(self.broker, settings.events_exchange, timeout_s=settings.publish_timeout_s)
        self.relay = OutboxRelay(
            self.engine,
            spec.outbox,
            self.publisher,
            batch_size=settings.relay_batch_size,
            poll_interval_s=settings.relay_poll_interval_s,
            service=spec.name,
        )
        self.consumer: EventConsumer | None = None
        if spec.handlers:
            self.consumer = EventConsumer(
                self.broker,
                consumer_name=spec.name,
                exchange_name=settings.events_exchange,
                queue_name=settings.queue_name(),
                handlers=spec.handlers,
                unit_of_work=self.unit_of_work,
                inbox_table=spec.inbox,
                prefetch=settings.prefetch,
                max_attempts=settings.max_delivery_attempts,
                retry_delay_ms=settings.retry_delay_ms,
                predecessor_wait_s=settings.predecessor_wait_s,
                batch_handler=spec.batch_handler,
                batch_size=settings.consumer_batch_size,
            )
        self.periodic = PeriodicRunner(
            spec.periodic + purge_job_for(spec.metadata, spec.periodic),
            unit_of_work=self.unit_of_work,
            engine=self.engine,
            settings=settings,
            service=spec.name,
        )
        consumer = self.consumer
        self.backlog = BacklogSampler(
            spec.name,
            engine=self.engine,
            outbox=spec.outbox,
            broker=self.broker,
            queue_name=settings.queue_name() if consumer is not None else None,
            consumer_attached=(lambda: consumer.is_attached) if consumer is not None else None,
            interval_s=settings.metrics_sample_interval_s,
        )
        self.accepting = False

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(
            self.engine,
            self.spec.outbox,
            source=f"/itsm/{self.spec.name}",
            on_commit=self.relay.notify,
            settings=self.settings,
        )

    async def start(self) -> None:
        self.broker.start()
        if self.run_worker:
            self.relay.start()
            if self.consumer is not None:
                self.consumer.start()
            self.periodic.start()
            # The backlog is the worker's concern: sampled where the relay and consumer run.
            self.backlog.start()
        self.accepting = True
        log.info("%s started", self.spec.name)

    async def stop(self) -> None:
        """Drain (on SIGTERM, after the HTTP server has finished its requests): stop the watchers,
        stop consuming and finish the deliveries in hand (`drain_timeout_s`), flush the outbox
        (`flush_timeout_s`: what the drain emitted too), then close; every step is bounded."""
        self.accepting = False
        await self.backlog.stop()
        await self.periodic.stop()
        if self.consumer is not None:
            await self.consumer.stop(self.settings.drain_timeout_s)
        await self.relay.stop(self.settings.flush_timeout_s)
        await self.broker.close()
        await self.engine.dispose()
        log.info("%s stopped", self.spec.name)

    async def readiness(self) -> Readiness:
        checks: dict[str, str] = {}
        backlog: int | None = None
        details: dict[str, str] = {}
        try:
            async with reading(self.engine) as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), 2)
                checks["database"] = "ok"
                # A count, no records: the backlog is for `itsm status` and monitoring, not a
                # condition of readiness (a file with no tables yet is still a reachable database).
                with contextlib.suppress(Exception):
                    backlog = await asyncio.wait_for(pending_on(conn, self.spec.outbox), 2)
                if self.spec.readiness_details is not None:
                    with contextlib.suppress(Exception):
                        details = await asyncio.wait_for(self.spec.readiness_details(conn), 2)
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        checks["broker"] = "ok" if self.broker.is_connected else "unavailable"
        if self.run_worker and self.consumer is not None:
            checks["consumer"] = "ok" if self.consumer.is_attached else "not attached"
        if not self.accepting:
            checks["lifecycle"] = "shutting down"
        return Readiness(checks, backlog, details)
