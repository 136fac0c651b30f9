"""Deployment use cases: record a deployment (from an operator or a pipeline notification, once),
and amend a recorded one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change import events
from services.change.domain.changes import Change
from services.change.domain.deployments import (
    Deployment,
    DeploymentResult,
    Environment,
    environment_named,
    follow_deployment,
)
from services.change.domain.gate import change_for_deployment
from services.change.domain.templates import TemplateChange, template_for
from services.change.events import deployment_contract
from services.change.store import deployments as store
from services.change.store.changes import ChangeRepository, change_id_by_number
from services.change.store.gate import open_changes_for
from services.change.store.releases import get_release
from services.change.store.templates import list_templates
from services.change.usecases.changes import Governance
from services.change.usecases.templates import standard_change
from shared import clock
from shared.errors import NotFound, PreconditionFailed, RuleViolation
from shared.uow import AnyUnitOfWork

# A pipeline's notification is not refused for a CI the read model has not learnt yet: its
# standard change still gets the services its CIs are known to belong to.
PIPELINE_GOVERNANCE = Governance(ci_check="off")


@dataclass(frozen=True)
class DeploymentReport:
    """A deployment as an operator (API) or a pipeline (notification) reports it."""

    service: str
    environment: Environment
    result: DeploymentResult
    actor: str
    source: str = "api"
    service_id: UUID | None = None
    version: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    commit_sha: str | None = None
    ref: str | None = None
    url: str | None = None
    change_id: UUID | None = None
    change_number: str | None = None
    release_id: UUID | None = None
    external_id: str | None = None
    notification_id: str | None = None
    """The sender's id of this notification (GitHub: the deployment status id): taken once."""
    delivery_id: str | None = None
    verification: str = ""


@dataclass
class DeploymentOutcome:
    deployment: Deployment
    change: Change | None
    created: bool = False
    change_created: bool = False
    duplicate: bool = False
    warnings: list[str] = field(default_factory=list)


async def _named_change(conn: AsyncConnection, report: DeploymentReport) -> Change | None:
    changes = ChangeRepository(conn)
    change_id = report.change_id
    if change_id is None and report.change_number:
        change_id = await change_id_by_number(conn, report.change_number.strip().upper())
        if change_id is None:
            raise RuleViolation(f"no change numbered {report.change_number}", field="change_number")
    if change_id is None:
        return None
    item = await changes.get(change_id, for_update=True)
    if item is None:
        raise RuleViolation(f"no change {change_id}", field="change_id")
    return item


async def _covering_change(conn: AsyncConnection, service_id: UUID, at: datetime) -> Change | None:
    """The approved (scheduled, implementing) change for the service whose window contains `at`."""
    chosen = change_for_deployment(await open_changes_for(conn, service_id, at), at)
    return await ChangeRepository(conn).get(chosen.id, for_update=True) if chosen else None


async def record_deployment(report: DeploymentReport, uow: AnyUnitOfWork, *, create_change: bool) -> DeploymentOutcome:
    """`_record_deployment`, once more when a concurrent notification about the same deployment
    inserted it first (the unique source + external id): the second attempt finds and updates it."""
    try:
        return await _record_deployment(report, uow, create_change=create_change)
    except IntegrityError:
        if report.external_id is None:
            raise
        return await _record_deployment(report, uow, create_change=create_change)


async def _record_deployment(report: DeploymentReport, uow: AnyUnitOfWork, *, create_change: bool) -> DeploymentOutcome:
    """Record a deployment, or a later status of one already recorded (same source and external
    id). `create_change` (pipelines): with no change named, take the approved change for the
    service whose window contains the deployment (as the gate names it), else make a standard
    change from the template for the service (or the pipeline default template). A standard change
    from a template follows its deployment: implementing while it runs, implemented or failed when
    it ends."""
    async with uow:
        conn = uow.connection
        now = clock.now()
        if report.notification_id is not None:
            seen = await store.notification_seen(conn, report.source, report.notification_id)
            if seen is not None:
                return await _answer_duplicate(conn, seen)
        existing = (
            await store.deployment_by_external_id(conn, report.source, report.external_id)
            if report.external_id
            else None
        )
        changes = ChangeRepository(conn)
        outcome: DeploymentOutcome
        if existing is not None:
            read_version = existing.row_version
            changed = existing.report(report.result, now, report.finished_at)
            if changed:
                await store.save_deployment(conn, existing, read_version)
            change = await changes.get(existing.change_id, for_update=True) if existing.change_id else None
            outcome = DeploymentOutcome(existing, change)
        else:
            if report.release_id is not None and await get_release(conn, report.release_id) is None:
                raise RuleViolation(f"no release {report.release_id}", field="release_id")
            change = await _named_change(conn, report)
            service_id = report.service_id
            templates = await list_templates(conn, active=True)
            template = template_for(templates, service_id=service_id, service_name=report.service)
            if service_id is None and template is not None and not template.pipeline_default:
                service_id = template.service_id
            warnings: list[str] = []
            created_change = False
            if change is None and create_change and service_id is not None:
                change = await _covering_change(conn, service_id, report.started_at or report.finished_at or now)
            if change is None and create_change:
                if template is not None:
                    request = TemplateChange(
                        title=f"Deploy {report.service} {report.version or report.commit_sha or ''}".strip()
                        + f" to {report.environment.value}",
                        description=f"Recorded from a {report.source} deployment notification"
                        + (f": {report.url}" if report.url else ""),
                        planned_start=report.started_at or now,
                        service_ids=(service_id,) if service_id else (),
                    )
                    change = await standard_change(conn, template, request, report.actor, now, PIPELINE_GOVERNANCE)
                    created_change = True
                else:
                    warnings.append(
                        f"no change authorises this deployment: name one, or have a change manager create a standard"
                        f" change template for {report.service!r} (or a pipeline default template)"
                    )
            item = Deployment.record(
                deployment_id=uuid4(),
                service=report.service,
                service_id=service_id,
                environment=report.environment,
                version=report.version,
                result=report.result,
                started_at=report.started_at,
                finished_at=report.finished_at,
                source=report.source,
                recorded_by=report.actor,
                now=now,
                release_id=report.release_id,
                change_id=change.id if change else None,
                change_number=change.number if change else None,
                commit_sha=report.commit_sha,
                ref=report.ref,
                url=report.url,
                external_id=report.external_id,
                verification=report.verification,
            )
            await store.add_deployment(conn, item)
            outcome = DeploymentOutcome(item, change, True, created_change, False, warnings)
        if outcome.change is not None:
            read_version = outcome.change.version
            follow_deployment(outcome.change, outcome.deployment.result, report.actor, now)
            if outcome.change.version != read_version:
                await changes.save(outcome.change, read_version)
            uow.emit_pending(outcome.change, events.to_contract)
        if report.notification_id is not None:
            first = await store.add_notification(
                conn,
                source=report.source,
                notification_id=report.notification_id,
                deployment_id=outcome.deployment.id,
                status=report.result.value,
                delivery_id=report.delivery_id,
                now=now,
            )
            if not first:  # the same notification, delivered twice at once: the other one counts
                await uow.rollback()
                first_id = await store.notification_seen(conn, report.source, report.notification_id)
                return await _answer_duplicate(conn, first_id)
        uow.emit_pending(outcome.deployment, deployment_contract)
        await uow.commit()
    return outcome


async def _answer_duplicate(conn: AsyncConnection, deployment_id: UUID | None) -> DeploymentOutcome:
    item = await store.get_deployment(conn, deployment_id) if deployment_id else None
    if item is None:
        raise NotFound("the deployment this notification recorded no longer exists")
    change = await ChangeRepository(conn).get(item.change_id) if item.change_id else None
    return DeploymentOutcome(item, change, duplicate=True)


async def _act_on_deployment(
    deployment_id: UUID, expected_version: int | None, uow: AnyUnitOfWork, step: Callable[[Deployment, datetime], None]
) -> Deployment:
    """The one way a recorded deployment is amended: lock, check If-Match, take `step`, save, publish."""
    async with uow:
        conn = uow.connection
        item = await store.get_deployment(conn, deployment_id, for_update=True)
        if item is None:
            raise NotFound(f"deployment {deployment_id} does not exist")
        if expected_version is not None and expected_version != item.row_version:
            raise PreconditionFailed(f"deployment {item.id} is at version {item.row_version}, not {expected_version}")
        read_version = item.row_version
        step(item, clock.now())
        await store.save_deployment(conn, item, read_version)
        uow.emit_pending(item, deployment_contract)
        await uow.commit()
    return item


async def verify_deployment(
    deployment_id: UUID, verification: str, passed: bool, expected_version: int | None, uow: AnyUnitOfWork
) -> Deployment:
    """The checks made after the deployment; a failed one marks a successful deployment failed."""
    return await _act_on_deployment(
        deployment_id, expected_version, uow, lambda d, now: d.verify(verification, passed, now)
    )


async def roll_back_deployment(
    deployment_id: UUID, notes: str, expected_version: int | None, uow: AnyUnitOfWork
) -> Deployment:
    return await _act_on_deployment(deployment_id, expected_version, uow, lambda d, now: d.roll_back(notes, now))


async def list_deployments(
    conn: AsyncConnection,
    *,
    service: str | None,
    service_id: UUID | None,
    environment: str | None,
    result: DeploymentResult | None,
    release_id: UUID | None,
    change_id: UUID | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[Deployment], int]:
    """The deployments recorded in [since, until), filtered; the environment by any name pipelines use."""
    since, until = deployment_period(since, until)
    return await store.list_deployments(
        conn,
        service=service,
        service_id=service_id,
        environment=environment_named(environment).value if environment else None,
        result=result.value if result else None,
        release_id=release_id,
        change_id=change_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )


def deployment_period(since: datetime | None, until: datetime | None) -> tuple[datetime | None, datetime | None]:
    if since is not None and until is not None and until <= since:
        raise RuleViolation("'until' must come after 'since'", field="until")
    return since, until
