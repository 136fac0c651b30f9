"""CMDB routes, service continuity and availability (ISO/IEC 20000-1 6.3): plans under change
control and their versions, tests, invocations, and the continuity pack's content."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from services.config.api.deps import POLICY, Caller
from services.config.schemas.continuity import (
    ContinuityTestCreate,
    ContinuityTestPage,
    ContinuityTestRead,
    InvocationCreate,
    InvocationRead,
    InvocationReturn,
    PackRead,
    PlanCreate,
    PlanPage,
    PlanRead,
    PlanRevise,
    PlanVersionRead,
    PlanVersions,
    Review,
)
from services.config.store import continuity as store
from services.config.usecases import continuity as usecases
from services.config.usecases import continuity_invocations as invocations
from shared import clock
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import IfMatch, Limit, Offset, optional_version
from shared.errors import found
from shared.http import created, tagged

router = APIRouter(prefix="/api/v1/continuity", tags=["continuity"], dependencies=[Depends(POLICY.enforce)])


@router.post("/plans", status_code=201, response_model=PlanRead)
async def create_continuity_plan(body: PlanCreate, uow: UnitOfWorkDep, who: Caller, response: Response) -> PlanRead:
    plan = await usecases.record_plan(body.model_dump(mode="json"), who.subject, uow)
    read = PlanRead.model_validate(plan)
    return created(response, f"{router.prefix}/plans/{read.id}", read.version, read)


@router.get("/plans", response_model=PlanPage)
async def list_continuity_plans(
    conn: ReadConnectionDep,
    kind: Literal["continuity", "availability"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PlanPage:
    rows, total = await store.page_of_plans(conn, kind=kind, limit=limit, offset=offset)
    now = clock.now()
    items = [PlanRead.model_validate(usecases.plan_answer(r, now)) for r in rows]
    return PlanPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/plans/{plan_id}", response_model=PlanRead)
async def get_continuity_plan(plan_id: UUID, conn: ReadConnectionDep, response: Response) -> PlanRead:
    row = found(await store.get_plan(conn, plan_id), f"continuity plan {plan_id}")
    read = PlanRead.model_validate(usecases.plan_answer(row, clock.now()))
    return tagged(response, read.version, read)


@router.put("/plans/{plan_id}", response_model=PlanRead)
async def revise_continuity_plan(
    plan_id: UUID, body: PlanRevise, uow: UnitOfWorkDep, who: Caller, response: Response, if_match: IfMatch = None
) -> PlanRead:
    """A new version of the plan; refused (422 naming `change_number`) unless an approved change,
    inside its window, names the plan or one of the services it covers."""
    plan = await usecases.revise_plan(
        plan_id, body.model_dump(mode="json"), who.subject, optional_version(if_match), uow
    )
    read = PlanRead.model_validate(plan)
    return tagged(response, read.version, read)


@router.get("/plans/{plan_id}/versions", response_model=PlanVersions)
async def continuity_plan_versions(plan_id: UUID, conn: ReadConnectionDep) -> PlanVersions:
    found(await store.get_plan(conn, plan_id), f"continuity plan {plan_id}")
    rows = await store.plan_versions(conn, plan_id)
    return PlanVersions(items=[PlanVersionRead.model_validate(r, from_attributes=True) for r in rows])


@router.post("/plans/{plan_id}/tests", status_code=201, response_model=ContinuityTestRead)
async def record_continuity_test(
    plan_id: UUID, body: ContinuityTestCreate, uow: UnitOfWorkDep, who: Caller, response: Response
) -> ContinuityTestRead:
    values = body.model_dump(mode="json") | {"tested_at": body.tested_at}
    test = await usecases.record_test(plan_id, values, who.subject, uow)
    response.headers["Location"] = f"{router.prefix}/plans/{plan_id}/tests"
    return ContinuityTestRead.model_validate(test)


@router.get("/plans/{plan_id}/tests", response_model=ContinuityTestPage)
async def list_continuity_tests(
    plan_id: UUID, conn: ReadConnectionDep, limit: Limit = 50, offset: Offset = 0
) -> ContinuityTestPage:
    found(await store.get_plan(conn, plan_id), f"continuity plan {plan_id}")
    rows, total = await store.page_of_tests(conn, plan_id, limit=limit, offset=offset)
    items = [ContinuityTestRead.model_validate(r, from_attributes=True) for r in rows]
    return ContinuityTestPage(items=items, total=total, limit=limit, offset=offset)


@router.post("/plans/{plan_id}/invocations", status_code=201, response_model=InvocationRead)
async def invoke_continuity_plan(
    plan_id: UUID, body: InvocationCreate, uow: UnitOfWorkDep, who: Caller, response: Response
) -> InvocationRead:
    values = body.model_dump(mode="json") | {"invoked_at": body.invoked_at}
    row = await invocations.invoke(plan_id, values, who.subject, uow)
    read = InvocationRead.model_validate(row)
    return created(response, f"{router.prefix}/invocations/{read.id}", read.version, read)


@router.get("/invocations/{invocation_id}", response_model=InvocationRead)
async def get_continuity_invocation(invocation_id: UUID, conn: ReadConnectionDep, response: Response) -> InvocationRead:
    row = found(await store.get_invocation(conn, invocation_id), f"continuity invocation {invocation_id}")
    read = InvocationRead.model_validate(row, from_attributes=True)
    return tagged(response, read.version, read)


@router.post("/invocations/{invocation_id}/return", response_model=InvocationRead)
async def return_to_normal(
    invocation_id: UUID,
    body: InvocationReturn,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> InvocationRead:
    values = body.model_dump(mode="json") | {"returned_to_normal_at": body.returned_to_normal_at}
    row = await invocations.return_to_normal(invocation_id, values, who.subject, optional_version(if_match), uow)
    read = InvocationRead.model_validate(row)
    return tagged(response, read.version, read)


@router.post("/invocations/{invocation_id}/review", response_model=InvocationRead)
async def review_invocation(
    invocation_id: UUID, body: Review, uow: UnitOfWorkDep, who: Caller, response: Response, if_match: IfMatch = None
) -> InvocationRead:
    """The review held after the invocation (once returned to normal)."""
    values = body.model_dump(mode="json")
    row = await invocations.review(invocation_id, values, who.subject, optional_version(if_match), uow)
    read = InvocationRead.model_validate(row)
    return tagged(response, read.version, read)


@router.post("/pack-exports", status_code=201, response_model=PackRead)
async def export_continuity_pack(uow: UnitOfWorkDep, who: Caller) -> PackRead:
    """The continuity pack's content (`itsm continuity-pack` writes it to files); the export is
    recorded and published as `continuity.pack_exported.v1`."""
    return PackRead.model_validate(await invocations.export_pack(who.subject, uow))
