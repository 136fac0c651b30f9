"""Reporting routes: the event log, the reports and the projection rebuild (stored runs and agreements:
governance/api.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from services.reporting import store, usecases
from services.reporting.domain.definitions import ReportFilters
from services.reporting.schemas import (
    EventPage,
    EventRead,
    IncidentSummaryRead,
    RebuildRead,
    ReportBody,
    ReportDefinitions,
)
from services.reporting.settings import ReportingSettings
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import READ_ROLES, Principal, Role, require_roles

router = APIRouter(prefix="/api/v1", tags=["reporting"])

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
Format = Literal["json", "csv"]


def _utc(moment: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@router.get("/events", response_model=EventPage, summary="The event log, filtered and paginated")
async def list_events(
    conn: ReadConnectionDep,
    _: Reader,
    type: Annotated[str | None, Query(description="CloudEvents type, e.g. itsm.incident.created.v1")] = None,
    subject: str | None = None,
    source: str | None = None,
    start: Annotated[datetime | None, Query(alias="from", description="events at or after this time")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="events before this time")] = None,
    since: Annotated[datetime | None, Query(deprecated=True, description="old name of `from`")] = None,
    until: Annotated[datetime | None, Query(deprecated=True, description="old name of `to`")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> EventPage:
    rows, total = await store.list_events(
        conn,
        type_=type,
        subject=subject,
        source=source,
        since=_utc(start or since),
        until=_utc(end or until),
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


@router.get("/reports/incidents/summary", response_model=IncidentSummaryRead)
async def incident_summary(conn: ReadConnectionDep, _: Reader) -> IncidentSummaryRead:
    by_status: dict[str, int] = {}
    by_priority: dict[str, int] = {str(p): 0 for p in range(1, 6)}
    counts = await store.incident_counts(conn)
    for status, priority, count in counts:
        by_status[status] = by_status.get(status, 0) + count
        by_priority[str(priority)] = by_priority.get(str(priority), 0) + count
    return IncidentSummaryRead(total=sum(c for _, _, c in counts), by_status=by_status, by_priority=by_priority)


@router.get("/reports", response_model=ReportDefinitions, summary="The report definitions (ISO/IEC 20000-1 6.2)")
async def list_reports(_: Reader) -> ReportDefinitions:
    return ReportDefinitions.model_validate({"items": usecases.definitions()})


@router.get(
    "/reports/{name}",
    response_model=ReportBody,
    summary="Produce a report (JSON, or CSV of its rows)",
    responses={200: {"content": {"text/csv": {}}}},
)
async def get_report(
    request: Request,
    conn: ReadConnectionDep,
    _: Reader,
    name: str,
    start: Annotated[datetime | None, Query(alias="from", description="period start (inclusive), ISO 8601")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="period end (exclusive), ISO 8601")] = None,
    service_id: UUID | None = None,
    group: Annotated[str | None, Query(max_length=200, description="assignment group")] = None,
    priority: Annotated[int | None, Query(ge=1, le=5)] = None,
    supplier_id: UUID | None = None,
    period: Annotated[
        Literal["day", "week", "month"] | None, Query(description="trend granularity of reports with a period column")
    ] = None,
    format: Format = "json",
) -> Response:
    settings: ReportingSettings = request.app.state.settings
    filters = ReportFilters(
        start=_utc(start),
        end=_utc(end),
        service_id=service_id,
        group=group,
        priority=priority,
        supplier_id=supplier_id,
        period=period,
    )
    report = await usecases.produce(conn, name, filters, availability_target=settings.availability_target)
    if format == "csv":
        return Response(
            usecases.to_csv(report.definition, report.rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return JSONResponse(report.as_json())


@router.post("/projections/rebuild", response_model=RebuildRead, summary="Rebuild every projection from the event log")
async def rebuild_projections(uow: UnitOfWorkDep, _: Admin) -> RebuildRead:
    result = await usecases.rebuild(uow)
    return RebuildRead(events=result.events, patches=result.patches)
