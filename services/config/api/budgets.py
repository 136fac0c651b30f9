"""CMDB routes, budgeting (ISO/IEC 20000-1 6.4): a CI's cost attributes, and service budgets
with their report (budget against actual against forecast)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.config.api.deps import POLICY, Caller
from services.config.domain.costs import ci_cost
from services.config.schemas.budgets import BudgetCreate, BudgetPage, BudgetRead, BudgetReport, CICostPut, CICostRead
from services.config.store import budgets as store
from services.config.usecases import budgets
from services.config.usecases.items import Edit
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset, RequiredIfMatch
from shared.errors import found
from shared.http import expected_version, tagged

router = APIRouter(prefix="/api/v1", tags=["budgeting"], dependencies=[Depends(POLICY.enforce)])


@router.put("/cis/{ci_id}/cost", response_model=CICostRead)
async def put_ci_cost(
    ci_id: UUID, body: CICostPut, uow: UnitOfWorkDep, who: Caller, response: Response, if_match: RequiredIfMatch = None
) -> CICostRead:
    cost = ci_cost(
        body.category, body.currency, body.purchase_cost, body.annual_run_cost, body.licence_count, body.cost_centre
    )
    edit = Edit(who.subject, expected_version(if_match), body.change_number)
    item = await budgets.set_ci_cost(ci_id, cost, edit, uow)
    return tagged(
        response,
        item.version,
        CICostRead.model_validate({"ci_id": item.id, "version": item.version, **item.attributes["cost"]}),
    )


@router.post("/budgets", status_code=201, response_model=BudgetRead)
async def create_budget(body: BudgetCreate, uow: UnitOfWorkDep, who: Caller, response: Response) -> BudgetRead:
    answer = await budgets.create_budget(body.model_dump(), who.subject, uow)
    response.headers["Location"] = f"{router.prefix}/budgets/{answer['id']}"
    return BudgetRead.model_validate(answer)


@router.get("/budgets", response_model=BudgetPage)
async def list_budgets(
    conn: ReadConnectionDep, service_id: UUID | None = None, limit: Limit = 50, offset: Offset = 0
) -> BudgetPage:
    rows, total = await store.page_of_budgets(conn, service_id=service_id, limit=limit, offset=offset)
    items = [BudgetRead.model_validate(budgets.budget_answer(r)) for r in rows]
    return BudgetPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/budgets/{budget_id}", response_model=BudgetRead)
async def get_budget(budget_id: UUID, conn: ReadConnectionDep) -> BudgetRead:
    row = found(await store.get_budget(conn, budget_id), f"budget {budget_id}")
    return BudgetRead.model_validate(budgets.budget_answer(row))


@router.get("/budgets/{budget_id}/report", response_model=BudgetReport)
async def budget_report(
    budget_id: UUID,
    uow: UnitOfWorkDep,
    as_of: Annotated[date | None, Query(description="The day the forecast runs from (default: today, UTC)")] = None,
) -> BudgetReport:
    return BudgetReport.model_validate(await budgets.report(budget_id, as_of, uow))
