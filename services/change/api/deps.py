"""The change API's dependencies: its authorisation table (who may call each route, on whose
changes), the change policy, and the load-or-404 `Current<Record>`s."""

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
from shared import records_control
from shared.app import ReadConnectionDep
from shared.auth import READ_ROLES, Principal, Role
from shared.authorization import Access, Ownership, Policy, Rule, row
from shared.deps import IfMatch, optional_version
from shared.errors import found

# ---------------------------------------------------------------------------- the authorisation table

_R, _CM, _CAB, _PIPELINE = Role.REQUESTER, Role.CHANGE_MANAGER, Role.CAB_MEMBER, Role.PIPELINE
_STAFF = READ_ROLES - {_R}
"""Every person's role but requester."""
_CHANGE_READ = row(allow=_STAFF, own=[_R])
"""Every person's role reads changes; a requester only their own."""
_STAFF_READ = row(allow=_STAFF)
"""Records that are nobody's (the schedule, windows, releases, deployments): staff read them."""
_RAISE = row(allow=[_CM], own=[_R])
"""A requester raises changes (they become its requester) and acts on their own; a change manager on any."""
_MANAGE = row(allow=[_CM])
_DEPLOY = row(allow=[_CM, _PIPELINE])
"""A CI/CD system's token records deployments (and their checks and roll-backs), and nothing else."""

TABLE: dict[str, dict[str, Rule]] = {
    "changes.create_change": _RAISE,
    "changes.get_change": _CHANGE_READ,
    "changes.list_changes": _CHANGE_READ,
    "changes.submit": _RAISE,
    "changes.start": _MANAGE,
    "changes.complete": _MANAGE,
    "changes.fail": _MANAGE,
    "changes.review": _MANAGE,
    "changes.close": _MANAGE,
    "changes.cancel": _RAISE,
    "cab.assess": _MANAGE,
    # Which of the two decides a given change (the CAB for a high-risk normal change), and that
    # nobody decides their own, is the domain's rule (domain/cab.py check_decider).
    "cab.approve": row(allow=[_CM, _CAB]),
    "cab.reject": row(allow=[_CM, _CAB]),
    "design.put_design": _RAISE,
    "design.get_design": _CHANGE_READ,
    "design.go_live": _MANAGE,
    "schedule.schedule": _MANAGE,
    "schedule.change_conflicts": _CHANGE_READ,
    "schedule.change_schedule": _STAFF_READ,
    "schedule.create_blackout": _MANAGE,
    "schedule.list_blackouts": _STAFF_READ,
    "maintenance.create_maintenance_window": _MANAGE,
    "maintenance.list_maintenance_windows": _STAFF_READ,
    "maintenance.get_maintenance_window": _STAFF_READ,
    "maintenance.replace_maintenance_window": _MANAGE,
    "maintenance.delete_maintenance_window": _MANAGE,
    "templates.create_template": _MANAGE,
    # The catalogue of standard changes a requester may raise (`change_from_template`): nobody's
    # record, so every person's role reads it.
    "templates.list_templates": row(allow=READ_ROLES),
    "templates.get_template": row(allow=READ_ROLES),
    "templates.update_template": _MANAGE,
    "templates.delete_template": _MANAGE,
    "templates.change_from_template": _RAISE,
    "releases.create_release": _MANAGE,
    "releases.get_release": _STAFF_READ,
    "releases.list_releases": _STAFF_READ,
    "releases.build_release": _MANAGE,
    "releases.accept_release": _MANAGE,
    "releases.reject_release": _MANAGE,
    "releases.deploy_release": _MANAGE,
    "releases.fail_release": _MANAGE,
    "releases.close_release": _MANAGE,
    "releases.cancel_release": _MANAGE,
    "deployments.record_deployment": _DEPLOY,
    "deployments.list_deployments": _STAFF_READ,
    "deployments.get_deployment": _STAFF_READ,
    "deployments.verify_deployment": _DEPLOY,
    "deployments.roll_back_deployment": _DEPLOY,
    # With a bearer token (without GitHub's signature): see `PUBLIC`.
    "pipeline.pipeline_event": _DEPLOY,
    "gate.deployment_gate": row(allow=[*_STAFF, _PIPELINE]),
    # Evidence export (4.3.3): the whole record with its events, for the auditor's read-only token (and admin).
    "evidence.change_evidence": row(allow=[Role.AUDITOR]),
    # 6.3.2: whoever raises a change states its continuity and availability impact before assessment.
    "continuity.put_continuity_impact": _RAISE,
    "continuity.get_continuity_impact": _CHANGE_READ,
    # 6.4: whoever raises a change costs it (the estimate, later the actual); its readers read it.
    "costs.put_change_cost": _RAISE,
    "costs.get_change_cost": _CHANGE_READ,
    # Records control (4.3.3): admin sets retention policies and legal holds; the auditor reads them
    # and the disposal log.
    **records_control.AUTHORISATION,
}

PUBLIC = frozenset({"pipeline.pipeline_event"})
"""GitHub cannot send a token: its webhook proves itself with the signature of the body
(`api/pipeline.py`), and a notification without one runs this table itself, from its row."""


def _requester_is(change: Change, who: Principal) -> bool:
    """the change's requester is the principal (the token's subject): whoever raised it."""
    return change.requester == who.subject


CHANGES = Ownership("change_id", "change", get_change, _requester_is)
POLICY = Policy("change", TABLE, [CHANGES], public=PUBLIC)
Authorised = Annotated[Access, Depends(POLICY.enforce)]
"""What the table grants the caller on this route (routers install `POLICY.enforce` first)."""
Caller = Annotated[Principal, Depends(POLICY.caller)]
"""Who the table let through (for routes that record who acted)."""


def _governance(request: Request) -> Governance:
    governance: Governance = request.app.state.governance
    return governance


GovernanceDep = Annotated[Governance, Depends(_governance)]


# ---------------------------------------------------------------------------- who acts on which version


async def change_action(change_id: UUID, who: Caller, if_match: IfMatch = None) -> Act:
    """A lifecycle step on a change by the caller (the table let them), on the version If-Match
    names (if sent)."""
    return Act(change_id, who.subject, who.roles, optional_version(if_match))


ChangeAction = Annotated[Act, Depends(change_action)]


async def release_action(release_id: UUID, who: Caller, if_match: IfMatch = None) -> ReleaseAct:
    """A step on a release by the caller, on the version If-Match names (if sent)."""
    return ReleaseAct(release_id, who.subject, optional_version(if_match))


ReleaseAction = Annotated[ReleaseAct, Depends(release_action)]


# ---------------------------------------------------------------------------- load-or-404


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
