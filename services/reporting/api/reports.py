"""Report routes: the definitions, a report produced now (JSON or CSV), the incident summary."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from services.reporting.api.deps import POLICY, Format, utc
from services.reporting.domain.report_filters import ReportFilters
from services.reporting.schemas.reports import IncidentSummaryRead, ReportBody, ReportDefinitions
from services.reporting.settings import ReportingSettings
from services.reporting.store import incidents as store
from services.reporting.usecases import reports as usecases
from shared.app import ReadConnectionDep
from shared.http import JSON_OR_CSV, representation

router = APIRouter(prefix="/api/v1", tags=["reporting"], dependencies=[Depends(POLICY.enforce)])


@router.get("/reports/incidents/summary", response_model=IncidentSummaryRead)
async def incident_summary(conn: ReadConnectionDep) -> IncidentSummaryRead:
    by_status: dict[str, int] = {}
    by_priority: dict[str, int] = {str(p): 0 for p in range(1, 6)}
    counts = await store.incident_counts(conn)
    for status, priority, count in counts:
        by_status[status] = by_status.get(status, 0) + count
        by_priority[str(priority)] = by_priority.get(str(priority), 0) + count
    return IncidentSummaryRead(total=sum(c for _, _, c in counts), by_status=by_status, by_priority=by_priority)


@router.get("/reports", response_model=ReportDefinitions, summary="The report definitions (ISO/IEC 20000-1 6.2)")
async def list_reports() -> ReportDefinitions:
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
        start=utc(start),
        end=utc(end),
        service_id=service_id,
        group=group,
        priority=priority,
        supplier_id=supplier_id,
        period=period,
    )
    report = await usecases.produce(
        conn,
        name,
        filters,
        availability_target=settings.availability_target,
        outage_threshold=settings.outage_threshold,
    )
    if representation(request, JSON_OR_CSV) == "csv":
        return Response(
            usecases.to_csv(report.definition, report.rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return JSONResponse(report.as_json())
