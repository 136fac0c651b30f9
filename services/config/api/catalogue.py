"""CMDB routes, the service catalogue: business services, and what each depends on."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends

from services.config.api.deps import POLICY, CurrentService
from services.config.domain.impact import MAX_DEPTH, Direction
from services.config.domain.items import ConfigItem
from services.config.schemas.catalogue import (
    ServiceDetail,
    ServicePage,
    ServiceRead,
    ServiceSpofs,
    SinglePointOfFailure,
)
from services.config.schemas.impact import AffectedCI
from services.config.store.catalogue import business_services, member_counts
from services.config.store.impact import walk
from services.config.store.items import ConfigItemRepository, get_config_item
from services.config.usecases.spof import service_spofs, spofs_json
from shared.app import ReadConnectionDep
from shared.deps import Limit, Offset
from shared.errors import found as found_record

router = APIRouter(prefix="/api/v1", tags=["cmdb"], dependencies=[Depends(POLICY.enforce)])


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
async def service_catalogue(conn: ReadConnectionDep, limit: Limit = 50, offset: Offset = 0) -> ServicePage:
    services, total = await business_services(conn, limit=limit, offset=offset)
    counts = await member_counts(conn, [s.id for s in services])
    items = [ServiceRead.model_validate(_service(s, counts.get(s.id, 0))) for s in services]
    return ServicePage(items=items, total=total, limit=limit, offset=offset)


@router.get("/services/{service_id}", response_model=ServiceDetail, tags=["service catalogue"])
async def service_detail(conn: ReadConnectionDep, service: CurrentService) -> ServiceDetail:
    counts = await member_counts(conn, [service.id])
    reached = await walk(conn, service.id, Direction.UPSTREAM, MAX_DEPTH)
    found = await ConfigItemRepository(conn).existing(r.ci_id for r in reached)
    supporting = [AffectedCI.of(r, found[r.ci_id]) for r in reached if r.ci_id in found]
    return ServiceDetail.model_validate({**_service(service, counts.get(service.id, 0)), "supporting": supporting})


@router.get(
    "/services/{service_id}/single-points-of-failure",
    response_model=ServiceSpofs,
    tags=["service catalogue"],
    summary="The service's single points of failure (availability planning)",
)
async def single_points_of_failure(conn: ReadConnectionDep, service_id: UUID) -> ServiceSpofs:
    """The CIs whose loss alone cuts the service off from all of its supporting CIs of some type
    (walking what it depends on, runs on and its groups' members, to any depth); 404 for an
    unknown CI, 422 for a CI that is no business service or a graph over the bound."""
    service = found_record(await get_config_item(conn, service_id), f"configuration item {service_id}")
    items = spofs_json(await service_spofs(conn, service)) or []
    return ServiceSpofs(service_id=service.id, items=[SinglePointOfFailure.model_validate(i) for i in items])
