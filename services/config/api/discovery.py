"""CMDB routes, discovery: reconcile a tool's observations, and the stored run reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from services.config.api.deps import POLICY, Caller, CurrentRun
from services.config.schemas.discovery import (
    DiscoveryRunCreate,
    DiscoveryRunPage,
    DiscoveryRunRead,
    DiscoveryRunSummary,
)
from services.config.store.discovery import list_runs
from services.config.usecases import discovery
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset

router = APIRouter(prefix="/api/v1", tags=["cmdb"], dependencies=[Depends(POLICY.enforce)])


@router.post("/discovery/runs", status_code=201, response_model=DiscoveryRunRead, tags=["discovery"])
async def create_discovery_run(
    body: DiscoveryRunCreate, uow: UnitOfWorkDep, who: Caller, response: Response
) -> DiscoveryRunRead:
    run = discovery.DiscoveryRun(
        source=body.source,
        actor=who.subject,
        items=[i.to_domain() for i in body.items],
        relationships=[r.to_domain() for r in body.relationships],
    )
    stored = await discovery.run_discovery(run, uow)
    response.headers["Location"] = f"{router.prefix}/discovery/runs/{stored.id}"
    return _run_read(stored)


@router.get("/discovery/runs/{run_id}", response_model=DiscoveryRunRead, tags=["discovery"])
async def get_discovery_run(run: CurrentRun) -> DiscoveryRunRead:
    return _run_read(run)


def _run_read(row: Any) -> DiscoveryRunRead:
    return DiscoveryRunRead.from_record(
        row, items=row.report["items"], relationship_errors=row.report["relationship_errors"]
    )


@router.get("/discovery/runs", response_model=DiscoveryRunPage, tags=["discovery"])
async def list_discovery_runs(
    conn: ReadConnectionDep,
    source: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DiscoveryRunPage:
    rows, total = await list_runs(conn, source=source, limit=limit, offset=offset)
    items = [DiscoveryRunSummary.model_validate(r, from_attributes=True) for r in rows]
    return DiscoveryRunPage(items=items, total=total, limit=limit, offset=offset)
