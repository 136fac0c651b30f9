"""What reporting consumes: every event of the suite (`#`), into its log and projections."""

from __future__ import annotations

from collections.abc import Mapping

from services.reporting import live, projections, store
from shared.events import CloudEvent
from shared.messaging import Handler
from shared.uow import UnitOfWork


async def on_any_event(event: CloudEvent, uow: UnitOfWork) -> None:
    if not await store.record_event(uow.connection, event):
        return  # already in the log: a redelivery that the inbox did not see (e.g. a replay)
    recorded = live.LiveEvent.of(event)
    uow.after_commit(lambda: live.FEED.publish(recorded))
    facts = projections.incident_facts(event)
    if facts is not None:
        await store.upsert_incident(uow.connection, facts)


HANDLERS: Mapping[str, Handler] = {"#": on_any_event}
