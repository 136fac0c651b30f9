"""CMDB routes, accounting (ISO/IEC 20000-1 6.4): versioned allocation rules for shared and
overhead costs, and finance's actuals imported from CSV with a result per row."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from services.config.api.deps import POLICY, Caller
from services.config.schemas import budgets as formats
from services.config.schemas.budgets import (
    ActualsImportRead,
    AllocationRuleCreate,
    AllocationRulePage,
    AllocationRuleRead,
    CostActualPage,
    CostActualRead,
)
from services.config.store import budgets as store
from services.config.usecases import costs
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset
from shared.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["budgeting"], dependencies=[Depends(POLICY.enforce)])

_CSV_BODY = {"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}}


@router.post("/allocation-rules", status_code=201, response_model=AllocationRuleRead)
async def create_allocation_rule(
    body: AllocationRuleCreate, uow: UnitOfWorkDep, who: Caller, response: Response
) -> AllocationRuleRead:
    rule = await costs.record_rule(body.model_dump(), who.subject, uow)
    response.headers["Location"] = f"{router.prefix}/allocation-rules/{rule['name']}?version={rule['version']}"
    return AllocationRuleRead.model_validate(rule)


@router.get("/allocation-rules", response_model=AllocationRulePage)
async def list_allocation_rules(
    conn: ReadConnectionDep,
    name: Annotated[str | None, Query(max_length=63)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AllocationRulePage:
    rows, total = await store.page_of_rules(conn, name=name, limit=limit, offset=offset)
    items = [AllocationRuleRead.model_validate(costs.rule_answer(r)) for r in rows]
    return AllocationRulePage(items=items, total=total, limit=limit, offset=offset)


@router.get("/allocation-rules/{name}", response_model=AllocationRuleRead)
async def get_allocation_rule(
    name: str,
    conn: ReadConnectionDep,
    version: Annotated[int | None, Query(ge=1, le=1_000_000, description="Default: the latest")] = None,
) -> AllocationRuleRead:
    row = await (store.latest_rule(conn, name) if version is None else store.rule_version(conn, name, version))
    if row is None:
        raise NotFound(f"there is no allocation rule {name!r}" + (f" version {version}" if version else ""))
    return AllocationRuleRead.model_validate(costs.rule_answer(row))


@router.post("/cost-actuals", response_model=ActualsImportRead, openapi_extra=_CSV_BODY)
async def import_cost_actuals(request: Request, uow: UnitOfWorkDep, who: Caller) -> ActualsImportRead:
    rows = formats.actual_rows(await request.body(), request.headers.get("content-type", ""))
    return ActualsImportRead.model_validate(await costs.import_actuals(rows, who.subject, uow))


@router.get("/cost-actuals", response_model=CostActualPage)
async def list_cost_actuals(
    conn: ReadConnectionDep,
    service_id: UUID | None = None,
    since: Annotated[date | None, Query(description="Incurred on or after")] = None,
    until: Annotated[date | None, Query(description="Incurred on or before")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> CostActualPage:
    rows, total = await store.page_of_actuals(
        conn, service_id=service_id, since=since, until=until, limit=limit, offset=offset
    )
    items = [CostActualRead.model_validate(costs.actual_answer(r)) for r in rows]
    return CostActualPage(items=items, total=total, limit=limit, offset=offset)
