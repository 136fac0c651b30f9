"""Route dependencies of the CMDB: who may change it (`Manager`), and the records routes read,
loaded once or answered with 404 (`CurrentItem`, `CurrentCIType`, ...)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends

from services.config.domain.items import ConfigItem
from services.config.domain.types import BUSINESS_SERVICE, CIType
from services.config.store.baselines import get_baseline
from services.config.store.discovery import get_run
from services.config.store.items import get_config_item
from services.config.store.types import TypeRepository
from shared.app import ReadConnectionDep
from shared.auth import Principal, Role, require_roles
from shared.errors import NotFound, found

Manager = Annotated[Principal, Depends(require_roles(Role.CONFIG_MANAGER))]
"""Who changes the CMDB: types, CIs, relationships, discovery runs, baselines, imports."""


async def current_item(ci_id: UUID, conn: ReadConnectionDep) -> ConfigItem:
    return found(await get_config_item(conn, ci_id), f"configuration item {ci_id}")


async def current_ci_type(name: str, conn: ReadConnectionDep) -> CIType:
    ci_type = await TypeRepository(conn).get(name)
    if ci_type is None:
        raise NotFound(f"there is no CI type {name!r}")
    return ci_type


async def current_service(service_id: UUID, conn: ReadConnectionDep) -> ConfigItem:
    """A business service: any other CI is no service of the catalogue."""
    service = await get_config_item(conn, service_id)
    if service is None or service.ci_type != BUSINESS_SERVICE:
        raise NotFound(f"there is no business service {service_id}")
    return service


async def current_run(run_id: UUID, conn: ReadConnectionDep) -> Any:
    return found(await get_run(conn, run_id), f"discovery run {run_id}")


async def current_baseline(baseline_id: UUID, conn: ReadConnectionDep) -> Any:
    return found(await get_baseline(conn, baseline_id), f"baseline {baseline_id}")


CurrentItem = Annotated[ConfigItem, Depends(current_item)]
CurrentCIType = Annotated[CIType, Depends(current_ci_type)]
CurrentService = Annotated[ConfigItem, Depends(current_service)]
CurrentRun = Annotated[Any, Depends(current_run)]
"""A stored discovery run (its row)."""
CurrentBaseline = Annotated[Any, Depends(current_baseline)]
"""A baseline's record (its row)."""
