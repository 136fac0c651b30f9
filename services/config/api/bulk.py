"""CMDB routes, bulk import and export: CIs and relationships as JSON or CSV; an import stores
all rows or none."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from services.config.api.deps import POLICY, Caller
from services.config.domain.items import CIStatus
from services.config.schemas import bulk as formats
from services.config.schemas.bulk import ImportRead
from services.config.store.bulk import export_items
from services.config.store.bulk import export_relationships as relationship_rows
from services.config.usecases import bulk
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.errors import RuleViolation
from shared.http import JSON_OR_CSV, representation

router = APIRouter(prefix="/api/v1", tags=["cmdb"], dependencies=[Depends(POLICY.enforce)])

ExportFormat = Annotated[Literal["json", "csv"], Query(alias="format")]
_IMPORT_BODY = {
    "requestBody": {
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "text/csv": {"schema": {"type": "string"}},
        },
        "required": True,
    }
}


async def _rows(request: Request, columns: tuple[str, ...]) -> list[dict[str, object]]:
    body = await request.body()
    if request.headers.get("content-type", "").startswith("text/csv"):
        try:
            return formats.from_csv(body.decode("utf-8-sig"), columns)
        except UnicodeDecodeError:
            raise RuleViolation("CSV must be UTF-8", field="body") from None
    return formats.from_json(body)


def _export(request: Request, rows: list[dict[str, object]], columns: tuple[str, ...], name: str) -> Response:
    if representation(request, JSON_OR_CSV) == "csv":
        return Response(
            formats.to_csv(rows, columns),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return JSONResponse(rows)


@router.get("/export/cis", tags=["bulk"], response_class=Response)
async def export_cis(
    request: Request,
    conn: ReadConnectionDep,
    fmt: ExportFormat = "json",
    ci_type: Annotated[str | None, Query(alias="type", max_length=50)] = None,
    status: CIStatus | None = None,
) -> Response:
    items = await export_items(conn, ci_type=ci_type, status=status.value if status else None)
    return _export(request, [formats.ci_row(i) for i in items], formats.CI_COLUMNS, "cis")


@router.get("/export/relationships", tags=["bulk"], response_class=Response)
async def export_relationships(request: Request, conn: ReadConnectionDep, fmt: ExportFormat = "json") -> Response:
    rows = [{"source": r.source, "type": r.type, "target": r.target} for r in await relationship_rows(conn)]
    return _export(request, rows, formats.RELATIONSHIP_COLUMNS, "relationships")


@router.post("/import/cis", tags=["bulk"], response_model=ImportRead, openapi_extra=_IMPORT_BODY)
async def import_cis(
    request: Request,
    uow: UnitOfWorkDep,
    who: Caller,
    change_number: Annotated[str | None, Query(pattern=r"^CHG[0-9]{7}$")] = None,
) -> ImportRead:
    rows = await _rows(request, formats.CI_COLUMNS)
    result = await bulk.import_cis(rows, uow, actor=who.subject, change_number=change_number)
    return ImportRead(created=result.created, updated=result.updated, unchanged=result.unchanged)


@router.post("/import/relationships", tags=["bulk"], response_model=ImportRead, openapi_extra=_IMPORT_BODY)
async def import_relationships(
    request: Request,
    uow: UnitOfWorkDep,
    who: Caller,
    change_number: Annotated[str | None, Query(pattern=r"^CHG[0-9]{7}$")] = None,
) -> ImportRead:
    rows = await _rows(request, formats.RELATIONSHIP_COLUMNS)
    result = await bulk.import_relationships(rows, uow, actor=who.subject, change_number=change_number)
    return ImportRead(created=result.created, updated=result.updated, unchanged=result.unchanged)
