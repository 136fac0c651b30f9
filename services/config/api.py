"""CMDB routes: validate, call the use case, return a schema."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring
from typing import Annotated, Final, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from services.config import formats, store, usecases
from services.config.domain.discovery import ObservedRelationship
from services.config.domain.impact import MAX_DEPTH, Arrival, Direction
from services.config.domain.items import CIStatus, ConfigItem
from services.config.domain.relationships import INVERSE_NAMES
from services.config.domain.types import BUSINESS_SERVICE
from services.config.schemas import (
    AffectedCI,
    AppliedChangeRead,
    AuditReport,
    BaselineComparison,
    BaselineCreate,
    BaselinePage,
    BaselineRead,
    ChangedCI,
    ChangeReference,
    CIChangesRead,
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
    FindingRead,
    ImpactRead,
    ImportRead,
    NotSeenRead,
    PlannedChangeRead,
    RelationshipCreate,
    RelationshipRead,
    ServiceDetail,
    ServicePage,
    ServiceRead,
    UncontrolledEditRead,
    VersionPage,
    VersionRead,
)
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import READ_ROLES, Principal, Role, require_roles
from shared.errors import NotFound, RuleViolation
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


@router.get("/cis/{ci_id}/changes", response_model=CIChangesRead, tags=["configuration items"])
async def ci_changes(ci_id: UUID, conn: ReadConnectionDep, _: Reader) -> CIChangesRead:
    if await store.get_config_item(conn, ci_id) is None:
        raise NotFound(f"configuration item {ci_id} does not exist")
    applied, planned = await store.changes_touching(conn, ci_id)
    return CIChangesRead(
        applied=[
            AppliedChangeRead(number=r.number, first_applied_at=r.first, latest_version=r.version) for r in applied
        ],
        planned=[
            PlannedChangeRead(
                number=w.number, status=w.status, planned_start=w.planned_start, planned_end=w.planned_end
            )
            for w in planned
        ],
    )


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
) -> Response:
    root = await store.ConfigItemRepository(conn).get(ci_id)
    if root is None:
        raise NotFound(f"configuration item {ci_id} does not exist")
    arrivals, found = await store.impact(conn, ci_id, direction, depth)
    return Response(_impact_json(root, direction, depth, arrivals, found), media_type="application/json")


def _impact_json(
    root: ConfigItem,
    direction: Direction,
    depth: int,
    arrivals: Sequence[Arrival],
    found: Mapping[UUID, store.Summary],
) -> bytes:
    """The `ImpactRead` of a walk as JSON, byte for byte what FastAPI sends for the model
    (tests/config/unit/test_impact_answer.py holds it to that), written without a model per CI
    and per step: an answer holds every reached CI that exists (`found`) with
    its whole path, paths share their beginnings (a path is the one to the CI its last step comes
    from, plus that step), so each summary and each path is written once and reused."""
    ids: dict[UUID, str] = {}

    def text_of(value: UUID) -> str:
        written = ids.get(value)
        if written is None:
            written = ids[value] = str(value)
        return written

    def summary(ci_id: UUID, number: str, name: str, ci_type: str, status: str, criticality: int) -> str:
        return (
            f'{{"id":"{text_of(ci_id)}","number":{_string(number)},"name":{_string(name)},"type":{_string(ci_type)},'
            f'"status":{_string(status)},"criticality":{int(criticality)}}}'
        )

    paths: dict[UUID, str] = {root.id: ""}
    affected: list[str] = []
    services: list[str] = []
    # Nearest first, then by id (as the walk orders them): a CI's path is written after the one it extends.
    for a in sorted(arrivals, key=lambda a: (a.distance, a.ci_id.int)):
        read_as = INVERSE_NAMES[a.type] if a.relationship_reversed else a.type.value
        step = (
            f'{{"from_id":"{text_of(a.from_id)}","to_id":"{text_of(a.ci_id)}",'
            f'"relationship":"{a.type.value}","read_as":"{read_as}"}}'
        )
        before = paths[a.from_id]
        path = paths[a.ci_id] = f"{before},{step}" if before else step
        if (row := found.get(a.ci_id)) is not None:
            ci = summary(row.id, row.number, row.name, row.type, row.status, row.criticality)
            affected.append(f'{{"ci":{ci},"distance":{a.distance},"path":[{path}]}}')
            if row.type == BUSINESS_SERVICE:
                services.append(ci)
    head = summary(root.id, root.number, root.name, root.ci_type, root.status.value, root.criticality)
    return (
        f'{{"root":{head},"direction":"{direction.value}","depth":{depth},'
        f'"affected":[{",".join(affected)}],"business_services":[{",".join(services)}]}}'
    ).encode()


# Unicode's White_Space characters, which the models strip from the ends of strings (`ApiModel`).
_WHITESPACE: Final = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)


def _string(value: str) -> str:
    """A string as the models give it: stripped, then written as pydantic writes it (UTF-8 as it
    is; only quotes, backslashes and control characters escaped: `json.dumps(ensure_ascii=False)`)."""
    return encode_basestring(value.strip(_WHITESPACE))


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


# ---------------------------------------------------------------------------- baselines


@router.post("/baselines", status_code=201, response_model=BaselineRead, tags=["baselines"])
async def create_baseline(
    body: BaselineCreate, uow: UnitOfWorkDep, who: Manager, conn: ReadConnectionDep, response: Response
) -> BaselineRead:
    cmd = usecases.TakeBaseline(
        name=body.name,
        description=body.description,
        actor=who.subject,
        service_id=body.service_id,
        ci_type=body.type,
        status=body.status.value if body.status else None,
    )
    baseline_id, _ = await usecases.take_baseline(cmd, uow)
    response.headers["Location"] = f"{router.prefix}/baselines/{baseline_id}"
    return await get_baseline(baseline_id, conn, who)


@router.get("/baselines/{baseline_id}", response_model=BaselineRead, tags=["baselines"])
async def get_baseline(baseline_id: UUID, conn: ReadConnectionDep, _: Reader) -> BaselineRead:
    row = await store.get_baseline(conn, baseline_id)
    if row is None:
        raise NotFound(f"baseline {baseline_id} does not exist")
    return BaselineRead.model_validate(row, from_attributes=True)


@router.get("/baselines", response_model=BaselinePage, tags=["baselines"])
async def list_baselines(
    conn: ReadConnectionDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> BaselinePage:
    rows, total = await store.list_baselines(conn, limit=limit, offset=offset)
    items = [BaselineRead.model_validate(r, from_attributes=True) for r in rows]
    return BaselinePage(items=items, total=total, limit=limit, offset=offset)


@router.get("/baselines/{baseline_id}/compare", response_model=BaselineComparison, tags=["baselines"])
async def compare_baseline(
    baseline_id: UUID,
    uow: UnitOfWorkDep,
    _: Reader,
    with_: Annotated[str, Query(alias="with", description="Another baseline's id, or 'now'")] = "now",
) -> BaselineComparison:
    other = None if with_ == "now" else _uuid_or_422(with_, "with")
    result = await usecases.compare_baseline(uow, baseline_id, other)
    return BaselineComparison(
        baseline_id=baseline_id,
        compared_with=with_,
        added=[ConfigItemRead.of_snapshot(s) for s in result.added],
        removed=[ConfigItemRead.of_snapshot(s) for s in result.removed],
        changed=[ChangedCI(ci_id=c.ci_id, number=c.number, name=c.name, changes=c.changes) for c in result.changed],
        unchanged=result.unchanged,
    )


def _uuid_or_422(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise RuleViolation(f"{value!r} is neither 'now' nor a baseline id", field=field) from None


# ---------------------------------------------------------------------------- audit and service catalogue


@router.get("/audit", response_model=AuditReport, tags=["audit"])
async def configuration_audit(
    conn: ReadConnectionDep,
    _: Reader,
    not_seen_days: Annotated[int, Query(ge=1, le=3650)] = 30,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> AuditReport:
    now = datetime.now(UTC)
    findings = await store.open_findings(conn, limit=limit)
    stale = await store.not_seen_since(conn, now - timedelta(days=not_seen_days), limit=limit)
    edits = await store.controlled_changed_without_change(conn, limit=limit)
    return AuditReport(
        generated_at=now,
        not_seen_days=not_seen_days,
        differs_from_observed=[FindingRead.model_validate(f, from_attributes=True) for f in findings],
        not_seen=[NotSeenRead.model_validate(r, from_attributes=True) for r in stale],
        controlled_changed_without_change=[UncontrolledEditRead.model_validate(e, from_attributes=True) for e in edits],
    )


def _service(item: ConfigItem, members: int) -> dict[str, object]:
    return {
        "id": item.id,
        "number": item.number,
        "name": item.name,
        "description": item.description or str(item.attributes.get("description", "")),
        "owner": item.owner,
        "status": item.status,
        "criticality": item.criticality,
        "service_hours": item.attributes.get("service_hours"),
        "sla_tier": item.attributes.get("sla_tier"),
        "member_count": members,
    }


@router.get("/services", response_model=ServicePage, tags=["service catalogue"])
async def service_catalogue(
    conn: ReadConnectionDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ServicePage:
    services, total = await store.business_services(conn, limit=limit, offset=offset)
    counts = await store.member_counts(conn, [s.id for s in services])
    items = [ServiceRead.model_validate(_service(s, counts.get(s.id, 0))) for s in services]
    return ServicePage(items=items, total=total, limit=limit, offset=offset)


@router.get("/services/{service_id}", response_model=ServiceDetail, tags=["service catalogue"])
async def service_detail(service_id: UUID, conn: ReadConnectionDep, _: Reader) -> ServiceDetail:
    items = store.ConfigItemRepository(conn)
    service = await items.get(service_id)
    if service is None or service.ci_type != "business_service":
        raise NotFound(f"there is no business service {service_id}")
    counts = await store.member_counts(conn, [service.id])
    reached = await store.walk(conn, service.id, Direction.UPSTREAM, MAX_DEPTH)
    found = await items.existing(r.ci_id for r in reached)
    supporting = [AffectedCI.of(r, found[r.ci_id]) for r in reached if r.ci_id in found]
    return ServiceDetail.model_validate({**_service(service, counts.get(service.id, 0)), "supporting": supporting})


# ---------------------------------------------------------------------------- bulk import and export

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


def _export(rows: list[dict[str, object]], columns: tuple[str, ...], fmt: str, name: str) -> Response:
    if fmt == "csv":
        return Response(
            formats.to_csv(rows, columns),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return JSONResponse(rows)


@router.get("/export/cis", tags=["bulk"], response_class=Response)
async def export_cis(
    conn: ReadConnectionDep,
    _: Reader,
    fmt: ExportFormat = "json",
    ci_type: Annotated[str | None, Query(alias="type", max_length=50)] = None,
    status: CIStatus | None = None,
) -> Response:
    items = await store.export_items(conn, ci_type=ci_type, status=status.value if status else None)
    return _export([formats.ci_row(i) for i in items], formats.CI_COLUMNS, fmt, "cis")


@router.get("/export/relationships", tags=["bulk"], response_class=Response)
async def export_relationships(conn: ReadConnectionDep, _: Reader, fmt: ExportFormat = "json") -> Response:
    rows = [{"source": r.source, "type": r.type, "target": r.target} for r in await store.export_relationships(conn)]
    return _export(rows, formats.RELATIONSHIP_COLUMNS, fmt, "relationships")


@router.post("/import/cis", tags=["bulk"], response_model=ImportRead, openapi_extra=_IMPORT_BODY)
async def import_cis(
    request: Request,
    uow: UnitOfWorkDep,
    who: Manager,
    change_number: Annotated[str | None, Query(pattern=r"^CHG[0-9]{7}$")] = None,
) -> ImportRead:
    rows = await _rows(request, formats.CI_COLUMNS)
    result = await usecases.import_cis(rows, uow, actor=who.subject, change_number=change_number)
    return ImportRead(created=result.created, updated=result.updated, unchanged=result.unchanged)


@router.post("/import/relationships", tags=["bulk"], response_model=ImportRead, openapi_extra=_IMPORT_BODY)
async def import_relationships(
    request: Request,
    uow: UnitOfWorkDep,
    who: Manager,
    change_number: Annotated[str | None, Query(pattern=r"^CHG[0-9]{7}$")] = None,
) -> ImportRead:
    rows = await _rows(request, formats.RELATIONSHIP_COLUMNS)
    result = await usecases.import_relationships(rows, uow, actor=who.subject, change_number=change_number)
    return ImportRead(created=result.created, updated=result.updated, unchanged=result.unchanged)
