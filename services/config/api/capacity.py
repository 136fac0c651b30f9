"""CMDB routes, capacity (ISO/IEC 20000-1 6.5): metrics read from Prometheus, a CI's thresholds
on them, its samples, the runway report, capacity plans."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime

from services.config.api.deps import POLICY, Caller
from services.config.schemas.capacity import (
    CapacityMetricCreate,
    CapacityMetricPage,
    CapacityMetricRead,
    CapacityPlanCreate,
    CapacityPlanPage,
    CapacityPlanRead,
    CapacitySample,
    CapacitySamples,
    CapacityThresholdPut,
    CapacityThresholdRead,
    RunwayPage,
    RunwayRead,
)
from services.config.settings import ConfigSettings
from services.config.store import capacity as store
from services.config.usecases import capacity_plans
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset
from shared.errors import NotFound, found
from shared.http import ApiModel

router = APIRouter(prefix="/api/v1/capacity", tags=["capacity"], dependencies=[Depends(POLICY.enforce)])

MAX_SAMPLES = 5000
M = TypeVar("M", bound=ApiModel)


@router.post("/metrics", status_code=201, response_model=CapacityMetricRead)
async def create_capacity_metric(
    body: CapacityMetricCreate, uow: UnitOfWorkDep, who: Caller, response: Response
) -> CapacityMetricRead:
    row = await capacity_plans.define_metric(capacity_plans.DefineMetric(**body.model_dump(), actor=who.subject), uow)
    response.headers["Location"] = f"{router.prefix}/metrics/{row.name}"
    return CapacityMetricRead.model_validate(row, from_attributes=True)


@router.get("/metrics", response_model=CapacityMetricPage)
async def list_capacity_metrics(conn: ReadConnectionDep, limit: Limit = 50, offset: Offset = 0) -> CapacityMetricPage:
    rows, total = await store.page_of_metrics(conn, limit=limit, offset=offset)
    items = [CapacityMetricRead.model_validate(r, from_attributes=True) for r in rows]
    return CapacityMetricPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/metrics/{name}", response_model=CapacityMetricRead)
async def get_capacity_metric(name: str, conn: ReadConnectionDep) -> CapacityMetricRead:
    row = found(await store.metric_named(conn, name), f"capacity metric {name!r}")
    return CapacityMetricRead.model_validate(row, from_attributes=True)


@router.put("/metrics/{name}/thresholds/{ci_id}", response_model=CapacityThresholdRead)
async def put_capacity_threshold(
    name: str, ci_id: UUID, body: CapacityThresholdPut, uow: UnitOfWorkDep
) -> CapacityThresholdRead:
    row = await capacity_plans.set_threshold(uow, name, ci_id, body.warning, body.critical)
    return _body(CapacityThresholdRead, row)


@router.get("/metrics/{name}/samples/{ci_id}", response_model=CapacitySamples)
async def capacity_samples(
    name: str,
    ci_id: UUID,
    conn: ReadConnectionDep,
    since: Annotated[AwareDatetime | None, Query(description="From this instant on (with its offset)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SAMPLES, description="The latest this many, oldest first")] = 500,
) -> CapacitySamples:
    metric = found(await store.metric_named(conn, name), f"capacity metric {name!r}")
    if await store.threshold_of(conn, metric.id, ci_id) is None:
        raise NotFound(f"CI {ci_id} has no thresholds on {name!r}")
    rows = await store.samples_of(conn, metric.id, ci_id, since=since, limit=limit)
    items = [CapacitySample(at=r.at, value=r.value) for r in rows]
    return CapacitySamples(metric=name, ci_id=ci_id, unit=metric.unit, items=items)


@router.get("/runway", response_model=RunwayPage)
async def capacity_runway(
    uow: UnitOfWorkDep,
    request: Request,
    level: Literal["ok", "warning", "critical"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RunwayPage:
    settings: ConfigSettings = request.app.state.settings
    horizon = timedelta(days=settings.capacity_forecast_horizon_days)
    rows, total = await capacity_plans.runway(uow, level=level, limit=limit, offset=offset, horizon=horizon)
    return RunwayPage(items=[_body(RunwayRead, r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/plans", status_code=201, response_model=CapacityPlanRead)
async def create_capacity_plan(
    body: CapacityPlanCreate, uow: UnitOfWorkDep, who: Caller, response: Response
) -> CapacityPlanRead:
    baselines = body.model_dump(mode="json", include={"baselines"})  # stored as JSON (ids as text)
    cmd = capacity_plans.RecordPlan(**body.model_dump(exclude={"baselines"}), **baselines, actor=who.subject)
    plan = await capacity_plans.record_plan(cmd, uow)
    response.headers["Location"] = f"{router.prefix}/plans/{plan['id']}"
    return _body(CapacityPlanRead, plan)


@router.get("/plans/{plan_id}", response_model=CapacityPlanRead)
async def get_capacity_plan(plan_id: UUID, conn: ReadConnectionDep) -> CapacityPlanRead:
    row = found(await store.get_plan(conn, plan_id), f"capacity plan {plan_id}")
    return _body(CapacityPlanRead, capacity_plans.plan_answer(row))


@router.get("/plans", response_model=CapacityPlanPage)
async def list_capacity_plans(
    conn: ReadConnectionDep, service_id: UUID | None = None, limit: Limit = 50, offset: Offset = 0
) -> CapacityPlanPage:
    rows, total = await store.page_of_plans(conn, service_id=service_id, limit=limit, offset=offset)
    items = [_body(CapacityPlanRead, capacity_plans.plan_answer(r)) for r in rows]
    return CapacityPlanPage(items=items, total=total, limit=limit, offset=offset)


def _body(model: type[M], values: Mapping[str, Any]) -> M:
    """The answer's body from a use case's mapping (which may carry more than the body shows)."""
    return model.model_validate({name: values[name] for name in model.model_fields if name in values})
