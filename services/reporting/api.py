"""Reporting routes: the event log and the reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.reporting import projections, store
from services.reporting.schemas import EventPage, EventRead, IncidentSummaryRead
from shared.app import ReadConnectionDep
from shared.auth import READ_ROLES, Principal, require_roles

router = APIRouter(prefix="/api/v1", tags=["reporting"])

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]


@router.get("/events", response_model=EventPage, summary="The event log, filtered and paginated")
async def list_events(
    conn: ReadConnectionDep,
    _: Reader,
    type: Annotated[str | None, Query(description="CloudEvents type, e.g. itsm.incident.created.v1")] = None,
    subject: str | None = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> EventPage:
    rows, total = await store.list_events(
        conn, type_=type, subject=subject, source=source, since=since, until=until, limit=limit, offset=offset
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


@router.get("/reports/incidents/summary", response_model=IncidentSummaryRead)
async def incident_summary(conn: ReadConnectionDep, _: Reader) -> IncidentSummaryRead:
    summary = projections.summarise(await store.incident_counts(conn))
    return IncidentSummaryRead(total=summary.total, by_status=summary.by_status, by_priority=summary.by_priority)
