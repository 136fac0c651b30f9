"""Use cases of templates, releases, deployments, pipeline notifications and the gate; only these commit."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change import events as change_events
from services.change.delivery import store
from services.change.delivery.domain import (
    ChangeTemplate,
    Deployment,
    DeploymentResult,
    Environment,
    GateAnswer,
    Release,
    ReleaseType,
    TemplateChange,
    follow_deployment,
    gate,
    template_for,
)
from services.change.delivery.events import deployment_contract, release_contract
from services.change.domain import Change, ChangeType
from services.change.store import ChangeRepository
from services.change.usecases import DEFAULT_GOVERNANCE, Governance, services_of_change
from shared.errors import Conflict, NotFound, PreconditionFailed, RuleViolation
from shared.numbering import format_number
from shared.uow import UnitOfWork

# ---------------------------------------------------------------------------- templates


async def create_template(fields: Mapping[str, Any], actor: str, uow: UnitOfWork) -> ChangeTemplate:
    template = ChangeTemplate.create(template_id=uuid4(), actor=actor, now=datetime.now(UTC), **fields)
    async with uow:
        await store.add_template(uow.connection, template)
        await uow.commit()
    return template


async def update_template(
    template_id: UUID, fields: Mapping[str, Any], expected_version: int, uow: UnitOfWork
) -> ChangeTemplate:
    async with uow:
        template = await store.get_template(uow.connection, template_id, for_update=True)
        if template is None:
            raise NotFound(f"template {template_id} does not exist")
        if template.version != expected_version:
            raise PreconditionFailed(f"template {template.name!r} is at version {template.version}")
        template.update(datetime.now(UTC), **fields)
        await store.save_template(uow.connection, template, expected_version)
        await uow.commit()
    return template


async def delete_template(template_id: UUID, uow: UnitOfWork) -> None:
    async with uow:
        if await store.get_template(uow.connection, template_id) is None:
            raise NotFound(f"template {template_id} does not exist")
        if await store.template_in_use(uow.connection, template_id):
            raise Conflict("changes were made from this template: retire it (active: false) instead of deleting it")
        await store.delete_template(uow.connection, template_id)
        await uow.commit()


# A pipeline's notification is not refused for a CI the read model has not learnt yet: its
# standard change still gets the services its CIs are known to belong to.
PIPELINE_GOVERNANCE = Governance(ci_check="off")


async def _standard_change(
    conn: AsyncConnection,
    template: ChangeTemplate,
    request: TemplateChange,
    requester: str,
    now: datetime,
    governance: Governance,
) -> Change:
    """A standard change from the template, submitted and so approved (the pre-approved model
    skips the CAB), written but not committed. Its CIs and services are checked against the CI
    read model as any change's, and the services of its CIs are added to its own."""
    if not template.active:
        raise Conflict(f"the template {template.name!r} is retired: no new changes are made from it")
    changes = ChangeRepository(conn)
    start = request.planned_start or now
    named = request.service_ids or ((template.service_id,) if template.service_id else ())
    services = await services_of_change(conn, governance, affected_ci_ids=request.affected_ci_ids, service_ids=named)
    item = Change.draft(
        change_id=uuid4(),
        number=format_number("CHG", await changes.next_number()),
        title=request.title or template.name,
        description=request.description if request.description is not None else template.description,
        justification=request.justification or f"standard change from the pre-approved template {template.name!r}",
        change_type=ChangeType.STANDARD,
        category=template.category,
        requester=requester,
        planned_start=start,
        planned_end=request.planned_end or start + template.default_duration,
        affected_ci_ids=request.affected_ci_ids,
        now=now,
        planned_ci_changes=request.planned_ci_changes,
        service_ids=services,
        template_id=template.id,
        implementation_plan=template.implementation_plan,
        backout_plan=template.backout_plan,
        test_plan=template.test_plan,
    )
    item.submit(requester, now)
    await changes.add(item)
    return item


async def change_from_template(
    template_id: UUID,
    request: TemplateChange,
    *,
    requester: str,
    uow: UnitOfWork,
    governance: Governance = DEFAULT_GOVERNANCE,
) -> Change:
    async with uow:
        template = await store.get_template(uow.connection, template_id)
        if template is None:
            raise NotFound(f"template {template_id} does not exist")
        item = await _standard_change(uow.connection, template, request, requester, datetime.now(UTC), governance)
        uow.emit_pending(item, change_events.to_contract)
        await uow.commit()
    return item


# ---------------------------------------------------------------------------- releases


@dataclass(frozen=True)
class PlanRelease:
    name: str
    version: str
    release_type: ReleaseType
    actor: str
    service_id: UUID | None = None
    change_ids: tuple[UUID, ...] = ()
    known_error_ids: tuple[UUID, ...] = ()
    planned_date: datetime | None = None
    acceptance_criteria: tuple[str, ...] = ()


async def plan_release(cmd: PlanRelease, uow: UnitOfWork) -> Release:
    async with uow:
        conn = uow.connection
        known = await store.change_statuses(conn, cmd.change_ids)
        if missing := [str(c) for c in cmd.change_ids if c not in known]:
            raise RuleViolation(f"no such change: {', '.join(missing)}", field="change_ids")
        item = Release.plan(
            release_id=uuid4(),
            number=format_number("REL", await store.next_release_number(conn)),
            name=cmd.name,
            version=cmd.version,
            release_type=cmd.release_type,
            service_id=cmd.service_id,
            change_ids=cmd.change_ids,
            known_error_ids=cmd.known_error_ids,
            planned_date=cmd.planned_date,
            acceptance_criteria=cmd.acceptance_criteria,
            actor=cmd.actor,
            now=datetime.now(UTC),
        )
        await store.add_release(conn, item)
        uow.emit_pending(item, release_contract)
        await uow.commit()
    return item


ReleaseStep = Callable[[Release, datetime, Mapping[UUID, tuple[str, str]]], None]


async def act_on_release(release_id: UUID, expected_version: int | None, uow: UnitOfWork, step: ReleaseStep) -> Release:
    async with uow:
        conn = uow.connection
        item = await store.get_release(conn, release_id, for_update=True)
        if item is None:
            raise NotFound(f"release {release_id} does not exist")
        if expected_version is not None and expected_version != item.row_version:
            raise PreconditionFailed(f"{item.number} is at version {item.row_version}, not {expected_version}")
        read_version = item.row_version
        step(item, datetime.now(UTC), await store.change_statuses(conn, item.change_ids))
        await store.save_release(conn, item, read_version)
        uow.emit_pending(item, release_contract)
        await uow.commit()
    return item


# ---------------------------------------------------------------------------- deployments


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
        change_id = await store.change_id_by_number(conn, report.change_number.strip().upper())
        if change_id is None:
            raise RuleViolation(f"no change numbered {report.change_number}", field="change_number")
    if change_id is None:
        return None
    item = await changes.get(change_id, for_update=True)
    if item is None:
        raise RuleViolation(f"no change {change_id}", field="change_id")
    return item


async def record_deployment(report: DeploymentReport, uow: UnitOfWork, *, create_change: bool) -> DeploymentOutcome:
    """`_record_deployment`, once more when a concurrent notification about the same deployment
    inserted it first (the unique source + external id): the second attempt finds and updates it."""
    try:
        return await _record_deployment(report, uow, create_change=create_change)
    except IntegrityError:
        if report.external_id is None:
            raise
        return await _record_deployment(report, uow, create_change=create_change)


async def _record_deployment(report: DeploymentReport, uow: UnitOfWork, *, create_change: bool) -> DeploymentOutcome:
    """Record a deployment, or a later status of one already recorded (same source and external
    id). `create_change` (pipelines): with no change named, make a standard change from the
    template for the service (or the pipeline default template). A standard change from a template
    follows its deployment: implementing while it runs, implemented or failed when it ends."""
    async with uow:
        conn = uow.connection
        now = datetime.now(UTC)
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
            if report.release_id is not None and await store.get_release(conn, report.release_id) is None:
                raise RuleViolation(f"no release {report.release_id}", field="release_id")
            change = await _named_change(conn, report)
            service_id = report.service_id
            templates = await store.list_templates(conn, active=True)
            template = template_for(templates, service_id=service_id, service_name=report.service)
            if service_id is None and template is not None and not template.pipeline_default:
                service_id = template.service_id
            warnings: list[str] = []
            created_change = False
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
                    change = await _standard_change(conn, template, request, report.actor, now, PIPELINE_GOVERNANCE)
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
            uow.emit_pending(outcome.change, change_events.to_contract)
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


async def act_on_deployment(
    deployment_id: UUID, expected_version: int | None, uow: UnitOfWork, step: Callable[[Deployment, datetime], None]
) -> Deployment:
    async with uow:
        conn = uow.connection
        item = await store.get_deployment(conn, deployment_id, for_update=True)
        if item is None:
            raise NotFound(f"deployment {deployment_id} does not exist")
        if expected_version is not None and expected_version != item.row_version:
            raise PreconditionFailed(f"deployment {item.id} is at version {item.row_version}, not {expected_version}")
        read_version = item.row_version
        step(item, datetime.now(UTC))
        await store.save_deployment(conn, item, read_version)
        uow.emit_pending(item, deployment_contract)
        await uow.commit()
    return item


# ---------------------------------------------------------------------------- the gate


def _as_uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


async def gate_answer(
    conn: AsyncConnection, *, service: str, environment: Environment, gated: Iterable[str], now: datetime
) -> tuple[GateAnswer, UUID | None]:
    """The gate's answer for a service named by id or by the name its pipeline uses (resolved to
    an id through the templates that list that name)."""
    templates = await store.list_templates(conn, active=True)
    service_id = _as_uuid(service)
    service_name = None if service_id else service
    if service_id is None:
        named = template_for(templates, service_id=None, service_name=service_name)
        if named is not None and not named.pipeline_default:
            service_id = named.service_id
    changes = await store.open_changes_for(conn, service_id, now) if service_id else []
    answer = gate(
        service_id=service_id,
        service_name=service_name,
        environment=environment,
        gated=environment.value in set(gated),
        now=now,
        changes=changes,
        templates=templates,
        blackouts=await store.blackouts_at(conn, now),
    )
    return answer, service_id


# ---------------------------------------------------------------------------- incidents linked to changes


def deployment_period(since: datetime | None, until: datetime | None) -> tuple[datetime | None, datetime | None]:
    if since is not None and until is not None and until <= since:
        raise RuleViolation("'until' must come after 'since'", field="until")
    return since, until
