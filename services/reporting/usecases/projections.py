"""Projection use cases: record events into the log and the fact tables (announcing them to the
live streams once committed), rebuild every projection from the log, merge the daily figures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.facts import Patch
from services.reporting.events import patches_for
from services.reporting.store import event_log, live
from services.reporting.store import projections as store
from services.reporting.usecases import improvements
from shared.events import CloudEvent
from shared.uow import UnitOfWork


async def project(conn: AsyncConnection, events: Sequence[CloudEvent]) -> int:
    """Record new events in the log and merge what they say into the fact tables."""
    return len(await _project(conn, events))


async def _project(conn: AsyncConnection, events: Sequence[CloudEvent]) -> list[CloudEvent]:
    """`project`; the events that were new to the log."""
    fresh = await event_log.record_events(conn, events)
    patches: list[Patch] = [p for e in fresh for p in patches_for(e)]
    await store.apply_patches(conn, patches)
    return fresh


@dataclass(frozen=True)
class RebuildResult:
    events: int
    patches: int


async def rebuild(uow: UnitOfWork, *, batch_size: int = 2000) -> RebuildResult:
    """Empty every fact table and replay the whole log into them, in one transaction (readers see
    the old projections until it commits; consumers wait for it on the fact tables' lock)."""
    async with uow:
        conn = uow.connection
        await store.clear_projections(conn)
        events = patches = 0
        async for batch in event_log.log_batches(conn, batch_size):
            events += len(batch)
            patches += await store.apply_patches(conn, [p for e in batch for p in patches_for(e)])
        await store.compact_service_level_days(conn)  # the replay's changes, merged before anyone reads them
        await uow.commit()
    return RebuildResult(events=events, patches=patches)


async def compact_service_level_days(unit_of_work: Callable[[], UnitOfWork]) -> int:
    """Merge the daily service-level figures' changes (a periodic job; safe on several replicas)."""
    async with unit_of_work() as uow:
        merged = await store.compact_service_level_days(uow.connection)
        await uow.commit()
    return merged


async def record(events: Sequence[CloudEvent], uow: UnitOfWork) -> None:
    """What the consumer does with a delivery or a batch of them: project the new events, raise the
    improvement register's entries they call for, and tell the dashboard's live streams once
    committed (an event already in the log, a redelivery the inbox did not see, e.g. a replay,
    changes nothing)."""
    fresh = await _project(uow.connection, events)
    if fresh:
        await improvements.intake(fresh, uow)
        _announce_after_commit(events, uow)


def _announce_after_commit(events: Sequence[CloudEvent], uow: UnitOfWork) -> None:
    """Tell the dashboard's live streams once committed, so a report re-read on the news counts them."""
    recorded = [live.LiveEvent.of(e) for e in events]

    def announce() -> None:
        for item in recorded:
            live.FEED.broadcast(item)

    uow.after_commit(announce)
