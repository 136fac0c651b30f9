"""Event log routes: the events reporting received, filtered and paginated."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.reporting.api.deps import POLICY, utc
from services.reporting.schemas.event_log import EventPage, EventRead
from services.reporting.store import event_log as store
from shared.app import ReadConnectionDep
from shared.deps import Offset

router = APIRouter(prefix="/api/v1", tags=["reporting"], dependencies=[Depends(POLICY.enforce)])


@router.get("/events", response_model=EventPage, summary="The event log, filtered and paginated")
async def list_events(
    conn: ReadConnectionDep,
    type: Annotated[str | None, Query(description="CloudEvents type, e.g. itsm.incident.created.v1")] = None,
    subject: str | None = None,
    source: str | None = None,
    start: Annotated[datetime | None, Query(alias="from", description="events at or after this time")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="events before this time")] = None,
    since: Annotated[datetime | None, Query(deprecated=True, description="old name of `from`")] = None,
    until: Annotated[datetime | None, Query(deprecated=True, description="old name of `to`")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> EventPage:
    rows, total = await store.list_events(
        conn,
        type_=type,
        subject=subject,
        source=source,
        since=utc(start or since),
        until=utc(end or until),
        limit=limit,
        offset=offset,
    )
    items = [
        EventRead(
            id=r.event_id,
            type=r.type,
            source=r.source,
            subject=r.subject,
            time=r.time,
            data=r.data,
            received_at=r.received_at,
        )
        for r in rows
    ]
    return EventPage(items=items, total=total, limit=limit, offset=offset)
