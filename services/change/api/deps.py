"""The change API's dependencies: its role sets, the change policy, and the load-or-404 `Current<Record>`s."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from services.change.domain.changes import Change
from services.change.domain.deployments import Deployment
from services.change.domain.maintenance import MaintenanceWindow
from services.change.domain.releases import Release
from services.change.domain.templates import ChangeTemplate
from services.change.store.changes import get_change
from services.change.store.deployments import get_deployment
from services.change.store.maintenance import get_maintenance_window
from services.change.store.releases import get_release
from services.change.store.templates import get_template
from services.change.usecases.changes import Act, Governance
from services.change.usecases.releases import ReleaseAct
from shared.app import ReadConnectionDep
from shared.auth import READ_ROLES, Principal, Role, require_roles
from shared.deps import IfMatch, optional_version
from shared.errors import found

PIPELINE = Role.PIPELINE
"""A CI/CD system's token: it records deployments and reads them, and asks the gate."""

Requester = Annotated[Principal, Depends(require_roles(Role.REQUESTER, Role.CHANGE_MANAGER))]
Manager = Annotated[Principal, Depends(require_roles(Role.CHANGE_MANAGER))]
Approver = Annotated[Principal, Depends(require_roles(Role.CHANGE_MANAGER, Role.CAB_MEMBER))]
Deployer = Annotated[Principal, Depends(require_roles(Role.CHANGE_MANAGER, PIPELINE))]
DeliveryReader = Annotated[Principal, Depends(require_roles(*READ_ROLES, PIPELINE))]
"""Who reads templates, releases, deployments and the gate: every human role and the pipeline."""


def _governance(request: Request) -> Governance:
    governance: Governance = request.app.state.governance
    return governance


GovernanceDep = Annotated[Governance, Depends(_governance)]


def change_act(change_id: UUID, who: Principal, if_match: str | None) -> Act:
    """A lifecycle step on a change by the caller, on the version If-Match names (if sent)."""
    return Act(change_id, who.subject, who.roles, optional_version(if_match))


async def manager_action(change_id: UUID, who: Manager, if_match: IfMatch = None) -> Act:
    """A change manager's lifecycle step on a change (the role refused before anything is read)."""
    return change_act(change_id, who, if_match)


ManagerAction = Annotated[Act, Depends(manager_action)]


async def release_action(release_id: UUID, who: Manager, if_match: IfMatch = None) -> ReleaseAct:
    """A change manager's step on a release (the role refused before anything is read)."""
    return ReleaseAct(release_id, who.subject, optional_version(if_match))


ManagerReleaseAction = Annotated[ReleaseAct, Depends(release_action)]


async def current_change(change_id: UUID, conn: ReadConnectionDep) -> Change:
    return found(await get_change(conn, change_id), f"change {change_id}")


async def current_template(template_id: UUID, conn: ReadConnectionDep) -> ChangeTemplate:
    return found(await get_template(conn, template_id), f"template {template_id}")


async def current_release(release_id: UUID, conn: ReadConnectionDep) -> Release:
    return found(await get_release(conn, release_id), f"release {release_id}")


async def current_deployment(deployment_id: UUID, conn: ReadConnectionDep) -> Deployment:
    return found(await get_deployment(conn, deployment_id), f"deployment {deployment_id}")


async def current_maintenance_window(window_id: UUID, conn: ReadConnectionDep) -> MaintenanceWindow:
    return found(await get_maintenance_window(conn, window_id), f"maintenance window {window_id}")


CurrentChange = Annotated[Change, Depends(current_change)]
CurrentTemplate = Annotated[ChangeTemplate, Depends(current_template)]
CurrentRelease = Annotated[Release, Depends(current_release)]
CurrentDeployment = Annotated[Deployment, Depends(current_deployment)]
CurrentMaintenanceWindow = Annotated[MaintenanceWindow, Depends(current_maintenance_window)]
