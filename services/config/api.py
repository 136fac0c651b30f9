"""CMDB routes: validate, call the use case, return a schema."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Response

from services.config import store, usecases
from services.config.domain.discovery import ObservedRelationship
from services.config.domain.impact import MAX_DEPTH, Direction, ImpactWalk
from services.config.domain.items import CIStatus
from services.config.schemas import (
    AffectedCI,
    ChangeReference,
    CISummary,
    CITypeCreate,
    CITypeRead,
    ConfigItemCreate,
    ConfigItemPage,
    ConfigItemRead,
    ConfigItemUpdate,
    DiscoveryRunCreate,
    DiscoveryRunPage,
    DiscoveryRunRead,
    DiscoveryRunSummary,
    ImpactRead,
    RelationshipCreate,
    RelationshipRead,
    VersionPage,
    VersionRead,
)
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import READ_ROLES, Principal, Role, require_roles
from shared.errors import NotFound
from shared.http import etag, expected_version

router = APIRouter(prefix="/api/v1", tags=["cmdb"])

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
Manager = Annotated[Principal, Depends(require_roles(Role.CONFIG_MANAGER))]
IfMatch = Annotated[str | None, Header(description='The ETag read, e.g. W/"3"')]


# ---------------------------------------------------------------------------- types


@router.get("/ci-types", response_model=list[CITypeRead], tags=["ci types"])
async def list_ci_types(conn: ReadConnectionDep, _: Reader) -> list[CITypeRead]:
    return [CITypeRead.of(t) for t in await store.TypeRepository(conn).all()]


@router.get("/ci-types/{name}", response_model=CITypeRead, tags=["ci types"])
async def get_ci_type(name: str, conn: ReadConnectionDep, _: Reader) -> CITypeRead:
    ci_type = await store.TypeRepository(conn).get(name)
    if ci_type is None:
        raise NotFound(f"there is no CI type {name!r}")
    return CITypeRead.of(ci_type)


@router.post("/ci-types", status_code=201, response_model=CITypeRead, tags=["ci types"])
async def create_ci_type(body: CITypeCreate, uow: UnitOfWorkDep, who: Manager, response: Response) -> CITypeRead:
    ci_type = await usecases.define_ci_type(usecases.DefineCIType(**body.model_dump(), actor=who.subject), uow)
    response.headers["Location"] = f"{router.prefix}/ci-types/{ci_type.name}"
    return CITypeRead.of(ci_type)


# ---------------------------------------------------------------------------- configuration items


@router.post("/cis", status_code=201, response_model=ConfigItemRead, tags=["configuration items"])
async def create_config_item(
    body: ConfigItemCreate, uow: UnitOfWorkDep, who: Manager, response: Response
) -> ConfigItemRead:
    cmd = usecases.RegisterConfigItem(
        **body.model_dump(exclude={"type", "identifiers"}), ci_type=body.type, identifiers=body.identifiers.to_domain()
    )
    item = await usecases.register_config_item(cmd, uow, actor=who.subject)
    response.headers["Location"] = f"{router.prefix}/cis/{item.id}"
    response.headers["ETag"] = etag(item.version)
    return ConfigItemRead.of(item)


@router.get("/cis/{ci_id}", response_model=ConfigItemRead, tags=["configuration items"])
async def get_config_item(
    ci_id: UUID,
    conn: ReadConnectionDep,
    _: Reader,
    response: Response,
    as_of: Annotated[datetime | None, Query(description="The CI as it was at this time")] = None,
) -> ConfigItemRead:
    if as_of is not None:
        snapshot = await store.snapshot_as_of(conn, ci_id, as_of)
        if snapshot is None:
            raise NotFound(f"configuration item {ci_id} did not exist at {as_of.isoformat()}")
        return ConfigItemRead.of_snapshot(snapshot)
    item = await store.get_config_item(conn, ci_id)
    if item is None:
        raise NotFound(f"configuration item {ci_id} does not exist")
    response.headers["ETag"] = etag(item.version)
    return ConfigItemRead.of(item)


@router.patch("/cis/{ci_id}", response_model=ConfigItemRead, tags=["configuration items"])
async def update_config_item(
    ci_id: UUID, body: ConfigItemUpdate, uow: UnitOfWorkDep, who: Manager, response: Response, if_match: IfMatch = None
) -> ConfigItemRead:
    edit = usecases.Edit(who.subject, expected_version(if_match), body.change_number)
    item = await usecases.update_config_item(ci_id, body.values(), edit, uow)
    response.headers["ETag"] = etag(item.version)
    return ConfigItemRead.of(item)


@router.post("/cis/{ci_id}/retire", response_model=ConfigItemRead, tags=["configuration items"])
async def retire_config_item(
    ci_id: UUID,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    body: ChangeReference | None = None,
    if_match: IfMatch = None,
) -> ConfigItemRead:
    edit = usecases.Edit(who.subject, expected_version(if_match), body.change_number if body else None)
    item = await usecases.retire_config_item(ci_id, edit, uow)
    response.headers["ETag"] = etag(item.version)
    return ConfigItemRead.of(item)


@router.get("/cis", response_model=ConfigItemPage, tags=["configuration items"])
async def list_config_items(
    conn: ReadConnectionDep,
    _: Reader,
    ci_type: Annotated[str | None, Query(alias="type", max_length=50)] = None,
    status: CIStatus | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="Part of the name, any case")] = None,
    service_id: UUID | None = None,
    controlled: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ConfigItemPage:
    items, total = await store.list_config_items(
        conn,
        ci_type=ci_type,
        status=status.value if status else None,
        q=q,
        service_id=service_id,
        controlled=controlled,
        limit=limit,
        offset=offset,
    )
    return ConfigItemPage(items=[ConfigItemRead.of(i) for i in items], total=total, limit=limit, offset=offset)


@router.get("/cis/{ci_id}/history", response_model=VersionPage, tags=["configuration items"])
async def ci_history(
    ci_id: UUID,
    conn: ReadConnectionDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> VersionPage:
    rows, total = await store.list_versions(conn, ci_id, limit=limit, offset=offset)
    if total == 0:
        raise NotFound(f"configuration item {ci_id} does not exist")
    items = [
        VersionRead(
            version=r.version,
            recorded_at=r.recorded_at,
            actor=r.actor,
            cause_kind=r.cause_kind,
            cause_reference=r.cause_reference,
            changes=r.changes,
        )
        for r in rows
    ]
    return VersionPage(items=items, total=total, limit=limit, offset=offset)


# ---------------------------------------------------------------------------- relationships and impact


@router.get("/cis/{ci_id}/relationships", response_model=list[RelationshipRead], tags=["relationships"])
async def ci_relationships(ci_id: UUID, conn: ReadConnectionDep, _: Reader) -> list[RelationshipRead]:
    if await store.get_config_item(conn, ci_id) is None:
        raise NotFound(f"configuration item {ci_id} does not exist")
    return [RelationshipRead.of(r) for r in await store.relationships_of(conn, ci_id)]


@router.post("/relationships", status_code=201, response_model=RelationshipRead, tags=["relationships"])
async def create_relationship(
    body: RelationshipCreate, uow: UnitOfWorkDep, who: Manager, response: Response
) -> RelationshipRead:
    edit = usecases.Edit(who.subject, None, body.change_number)
    relationship = await usecases.add_relationship(body.source_id, body.type, body.target_id, edit, uow)
    response.headers["Location"] = f"{router.prefix}/relationships/{relationship.id}"
    return RelationshipRead.of(relationship)


@router.delete("/relationships/{relationship_id}", status_code=204, tags=["relationships"])
async def delete_relationship(
    relationship_id: UUID,
    uow: UnitOfWorkDep,
    who: Manager,
    change_number: Annotated[str | None, Query(pattern=r"^CHG[0-9]{7}$")] = None,
) -> None:
    await usecases.remove_relationship(relationship_id, usecases.Edit(who.subject, None, change_number), uow)


@router.get("/cis/{ci_id}/impact", response_model=ImpactRead, tags=["relationships"])
async def impact(
    ci_id: UUID,
    conn: ReadConnectionDep,
    _: Reader,
    direction: Direction = Direction.DOWNSTREAM,
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 3,
) -> ImpactRead:
    items = store.ConfigItemRepository(conn)
    root = await items.get(ci_id)
    if root is None:
        raise NotFound(f"configuration item {ci_id} does not exist")
    walk = ImpactWalk(ci_id, direction, depth)
    while frontier := walk.frontier:
        walk.advance(await store.edges_touching(conn, frontier))
    reached = walk.result()
    found = await items.existing(r.ci_id for r in reached)
    affected = [AffectedCI.of(r, found[r.ci_id]) for r in reached if r.ci_id in found]
    services = [a.ci for a in affected if a.ci.type == "business_service"]
    return ImpactRead(
        root=CISummary.of(root), direction=direction, depth=depth, affected=affected, business_services=services
    )


# ---------------------------------------------------------------------------- discovery


@router.post("/discovery/runs", status_code=201, response_model=DiscoveryRunRead, tags=["discovery"])
async def create_discovery_run(
    body: DiscoveryRunCreate, uow: UnitOfWorkDep, who: Manager, conn: ReadConnectionDep, response: Response
) -> DiscoveryRunRead:
    run = usecases.DiscoveryRun(
        source=body.source,
        actor=who.subject,
        items=[i.to_domain() for i in body.items],
        relationships=[ObservedRelationship(r.source, r.type.value, r.target) for r in body.relationships],
    )
    run_id, _ = await usecases.run_discovery(run, uow)
    response.headers["Location"] = f"{router.prefix}/discovery/runs/{run_id}"
    return await get_discovery_run(run_id, conn, who)


@router.get("/discovery/runs/{run_id}", response_model=DiscoveryRunRead, tags=["discovery"])
async def get_discovery_run(run_id: UUID, conn: ReadConnectionDep, _: Reader) -> DiscoveryRunRead:
    row = await store.get_run(conn, run_id)
    if row is None:
        raise NotFound(f"discovery run {run_id} does not exist")
    return DiscoveryRunRead(
        id=row.id,
        source=row.source,
        actor=row.actor,
        started_at=row.started_at,
        finished_at=row.finished_at,
        counts=row.counts,
        items=row.report["items"],
        relationship_errors=row.report["relationship_errors"],
    )


@router.get("/discovery/runs", response_model=DiscoveryRunPage, tags=["discovery"])
async def list_discovery_runs(
    conn: ReadConnectionDep,
    _: Reader,
    source: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DiscoveryRunPage:
    rows, total = await store.list_runs(conn, source=source, limit=limit, offset=offset)
    items = [DiscoveryRunSummary.model_validate(r, from_attributes=True) for r in rows]
    return DiscoveryRunPage(items=items, total=total, limit=limit, offset=offset)
