"""Routes of templates, releases, deployments, pipeline notifications and the gate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.delivery import store, usecases
from services.change.delivery.domain import (
    Deployment,
    DeploymentResult,
    Release,
    ReleaseStatus,
    ReleaseType,
    environment_named,
)
from services.change.delivery.pipeline import from_generic, from_github
from services.change.delivery.schemas import (
    AcceptanceBody,
    ChangeRef,
    DeploymentCreate,
    DeploymentPage,
    DeploymentRead,
    GateRead,
    GenericDeploymentEvent,
    GitHubDeploymentStatusEvent,
    IncidentLinkRead,
    Notes,
    PipelineAnswer,
    ReleaseCreate,
    ReleasePage,
    ReleaseRead,
    TemplateChangeCreate,
    TemplateCreate,
    TemplateRead,
    TemplateUpdate,
    Verification,
)
from services.change.delivery.signature import signature_matches
from services.change.schemas import ChangeRead
from services.change.settings import ChangeSettings
from services.change.usecases import Governance
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import READ_ROLES, Principal, Role, require_roles
from shared.errors import NotFound, RuleViolation, Unauthenticated
from shared.http import etag, expected_version

PIPELINE = Role.PIPELINE
"""A CI/CD system's token: it records deployments and reads them, and asks the gate."""

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES, PIPELINE))]
Manager = Annotated[Principal, Depends(require_roles(Role.CHANGE_MANAGER))]
Requester = Annotated[Principal, Depends(require_roles(Role.REQUESTER, Role.CHANGE_MANAGER))]
Deployer = Annotated[Principal, Depends(require_roles(Role.CHANGE_MANAGER, PIPELINE))]


def _governance(request: Request) -> Governance:
    governance: Governance = request.app.state.governance
    return governance


GovernanceDep = Annotated[Governance, Depends(_governance)]
IfMatch = Annotated[str | None, Header(description='The ETag read, e.g. W/"3" (optional)')]


def _version(if_match: str | None) -> int | None:
    return expected_version(if_match) if if_match else None


# ---------------------------------------------------------------------------- templates

templates_router = APIRouter(prefix="/api/v1/templates", tags=["templates"])


@templates_router.post("", status_code=201, response_model=TemplateRead)
async def create_template(body: TemplateCreate, uow: UnitOfWorkDep, who: Manager, response: Response) -> TemplateRead:
    template = await usecases.create_template(body.fields(), who.subject, uow)
    response.headers["Location"] = f"{templates_router.prefix}/{template.id}"
    response.headers["ETag"] = etag(template.version)
    return TemplateRead.of(template)


@templates_router.get("", response_model=list[TemplateRead])
async def list_templates(conn: ReadConnectionDep, _: Reader, active: bool | None = None) -> list[TemplateRead]:
    return [TemplateRead.of(t) for t in await store.list_templates(conn, active=active)]


@templates_router.get("/{template_id}", response_model=TemplateRead)
async def get_template(template_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> TemplateRead:
    template = await store.get_template(conn, template_id)
    if template is None:
        raise NotFound(f"template {template_id} does not exist")
    response.headers["ETag"] = etag(template.version)
    return TemplateRead.of(template)


@templates_router.patch("/{template_id}", response_model=TemplateRead)
async def update_template(
    template_id: UUID,
    body: TemplateUpdate,
    uow: UnitOfWorkDep,
    _: Manager,
    response: Response,
    if_match: Annotated[str | None, Header(description='The ETag read, e.g. W/"3" (required)')] = None,
) -> TemplateRead:
    template = await usecases.update_template(template_id, body.fields(), expected_version(if_match), uow)
    response.headers["ETag"] = etag(template.version)
    return TemplateRead.of(template)


@templates_router.delete("/{template_id}", status_code=204)
async def delete_template(template_id: UUID, uow: UnitOfWorkDep, _: Manager) -> Response:
    await usecases.delete_template(template_id, uow)
    return Response(status_code=204)


@templates_router.post("/{template_id}/changes", status_code=201, response_model=ChangeRead)
async def change_from_template(
    template_id: UUID,
    uow: UnitOfWorkDep,
    who: Requester,
    response: Response,
    governance: GovernanceDep,
    body: TemplateChangeCreate | None = None,
) -> ChangeRead:
    request = (body or TemplateChangeCreate()).request()
    item = await usecases.change_from_template(
        template_id, request, requester=who.subject, uow=uow, governance=governance
    )
    response.headers["Location"] = f"/api/v1/changes/{item.id}"
    response.headers["ETag"] = etag(item.version)
    return ChangeRead.of(item)


# ---------------------------------------------------------------------------- releases

releases_router = APIRouter(prefix="/api/v1/releases", tags=["releases"])


def _incident(row: Any, deployed_at: datetime | None) -> IncidentLinkRead:
    return IncidentLinkRead(
        incident_id=row.incident_id,
        incident_number=row.incident_number,
        change_id=row.change_id,
        reason=row.reason,
        ci_id=row.ci_id,
        service_id=row.service_id,
        linked_at=row.linked_at,
        after_release=None if deployed_at is None else row.linked_at >= deployed_at,
    )


async def _release_read(conn: AsyncConnection, item: Release) -> ReleaseRead:
    deployments, _ = await store.list_deployments(conn, release_id=item.id, limit=200)
    incidents = await store.incidents_of(conn, item.change_ids)
    return ReleaseRead.of(
        item, [DeploymentRead.of(d) for d in deployments], [_incident(r, item.deployed_at) for r in incidents]
    )


@releases_router.post("", status_code=201, response_model=ReleaseRead)
async def create_release(body: ReleaseCreate, uow: UnitOfWorkDep, who: Manager, response: Response) -> ReleaseRead:
    cmd = usecases.PlanRelease(
        name=body.name,
        version=body.version,
        release_type=body.type,
        actor=who.subject,
        service_id=body.service_id,
        change_ids=tuple(body.change_ids),
        known_error_ids=tuple(body.known_error_ids),
        planned_date=body.planned_date,
        acceptance_criteria=tuple(body.acceptance_criteria),
    )
    item = await usecases.plan_release(cmd, uow)
    response.headers["Location"] = f"{releases_router.prefix}/{item.id}"
    response.headers["ETag"] = etag(item.row_version)
    return ReleaseRead.of(item)


@releases_router.get("/{release_id}", response_model=ReleaseRead)
async def get_release(release_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> ReleaseRead:
    item = await store.get_release(conn, release_id)
    if item is None:
        raise NotFound(f"release {release_id} does not exist")
    response.headers["ETag"] = etag(item.row_version)
    return await _release_read(conn, item)


@releases_router.get("", response_model=ReleasePage)
async def list_releases(
    conn: ReadConnectionDep,
    _: Reader,
    status: ReleaseStatus | None = None,
    service_id: UUID | None = None,
    release_type: Annotated[ReleaseType | None, Query(alias="type")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ReleasePage:
    items, total = await store.list_releases(
        conn,
        status=status.value if status else None,
        service_id=service_id,
        release_type=release_type.value if release_type else None,
        limit=limit,
        offset=offset,
    )
    return ReleasePage(items=[ReleaseRead.of(r) for r in items], total=total, limit=limit, offset=offset)


async def _release_action(
    release_id: UUID, if_match: str | None, uow: UnitOfWorkDep, response: Response, step: usecases.ReleaseStep
) -> ReleaseRead:
    item = await usecases.act_on_release(release_id, _version(if_match), uow, step)
    response.headers["ETag"] = etag(item.row_version)
    return ReleaseRead.of(item)


@releases_router.post("/{release_id}/build", response_model=ReleaseRead)
async def build_release(
    release_id: UUID, uow: UnitOfWorkDep, who: Manager, response: Response, if_match: IfMatch = None
) -> ReleaseRead:
    return await _release_action(release_id, if_match, uow, response, lambda r, now, _: r.build(who.subject, now))


@releases_router.post("/{release_id}/accept", response_model=ReleaseRead, summary="The acceptance test passed")
async def accept_release(
    release_id: UUID,
    body: AcceptanceBody,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    if_match: IfMatch = None,
) -> ReleaseRead:
    return await _release_action(
        release_id, if_match, uow, response, lambda r, now, _: r.accept(body.notes, who.subject, now)
    )


@releases_router.post("/{release_id}/reject", response_model=ReleaseRead, summary="The acceptance test failed")
async def reject_release(
    release_id: UUID,
    body: AcceptanceBody,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    if_match: IfMatch = None,
) -> ReleaseRead:
    return await _release_action(
        release_id, if_match, uow, response, lambda r, now, _: r.reject(body.notes, who.subject, now)
    )


@releases_router.post("/{release_id}/deploy", response_model=ReleaseRead, summary="Deployed to production")
async def deploy_release(
    release_id: UUID, uow: UnitOfWorkDep, who: Manager, response: Response, if_match: IfMatch = None
) -> ReleaseRead:
    return await _release_action(
        release_id, if_match, uow, response, lambda r, now, changes: r.deploy(who.subject, now, changes)
    )


@releases_router.post("/{release_id}/fail", response_model=ReleaseRead, summary="Failed after deployment")
async def fail_release(
    release_id: UUID, body: Notes, uow: UnitOfWorkDep, who: Manager, response: Response, if_match: IfMatch = None
) -> ReleaseRead:
    return await _release_action(
        release_id, if_match, uow, response, lambda r, now, _: r.fail(body.notes, who.subject, now)
    )


@releases_router.post("/{release_id}/close", response_model=ReleaseRead)
async def close_release(
    release_id: UUID, uow: UnitOfWorkDep, who: Manager, response: Response, if_match: IfMatch = None
) -> ReleaseRead:
    return await _release_action(release_id, if_match, uow, response, lambda r, now, _: r.close(who.subject, now))


@releases_router.post("/{release_id}/cancel", response_model=ReleaseRead)
async def cancel_release(
    release_id: UUID, uow: UnitOfWorkDep, who: Manager, response: Response, if_match: IfMatch = None
) -> ReleaseRead:
    return await _release_action(release_id, if_match, uow, response, lambda r, now, _: r.cancel(who.subject, now))


# ---------------------------------------------------------------------------- deployments

deployments_router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"])


@deployments_router.post("", status_code=201, response_model=PipelineAnswer)
async def record_deployment(
    body: DeploymentCreate, uow: UnitOfWorkDep, who: Deployer, response: Response
) -> PipelineAnswer:
    report = usecases.DeploymentReport(
        service=body.service,
        service_id=body.service_id,
        environment=body.environment,
        result=body.result,
        actor=who.subject,
        version=body.version,
        started_at=body.started_at,
        finished_at=body.finished_at,
        commit_sha=body.commit_sha,
        url=body.url,
        change_id=body.change_id,
        change_number=body.change_number,
        release_id=body.release_id,
        verification=body.verification,
    )
    outcome = await usecases.record_deployment(report, uow, create_change=False)
    response.headers["Location"] = f"{deployments_router.prefix}/{outcome.deployment.id}"
    return _pipeline_answer(outcome)


def _pipeline_answer(outcome: usecases.DeploymentOutcome) -> PipelineAnswer:
    return PipelineAnswer(
        deployment=DeploymentRead.of(outcome.deployment),
        change=ChangeRef.of(outcome.change) if outcome.change else None,
        change_created=outcome.change_created,
        duplicate=outcome.duplicate,
        warnings=outcome.warnings,
    )


def _parse(model: type[BaseModel], raw: bytes) -> Any:
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors(include_url=False)]
        ) from exc


async def _notifier(request: Request, raw: bytes, signature: str | None, github_event: str | None) -> str:
    """Who sent the notification: GitHub, proven by the signature of the body with the webhook
    secret, or a caller with a bearer token (role pipeline or change_manager)."""
    settings: ChangeSettings = request.app.state.settings
    secret = settings.github_webhook_secret
    if secret is not None and (signature is not None or github_event is not None):
        if not signature_matches(secret.get_secret_value(), raw, signature):
            raise Unauthenticated("X-Hub-Signature-256 is missing or does not match the body signed with the secret")
        return "github-webhook" if github_event else "signed-pipeline"
    principal = await require_roles(Role.CHANGE_MANAGER, PIPELINE)(request)
    return principal.subject


def _generic_event_schema() -> dict[str, Any]:
    """The generic body's JSON Schema for the OpenAPI document; its enums are already components."""
    schema = GenericDeploymentEvent.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


@deployments_router.post(
    "/events",
    response_model=PipelineAnswer,
    responses={201: {"model": PipelineAnswer}, 202: {"model": PipelineAnswer}},
    summary="A deployment notification from a CI/CD pipeline (generic JSON or GitHub deployment_status)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            _generic_event_schema(),
                            {
                                "type": "object",
                                "description": "GitHub's deployment_status webhook payload as GitHub sends it "
                                "(with X-GitHub-Event: deployment_status)",
                            },
                        ]
                    }
                }
            },
        }
    },
)
async def pipeline_event(
    request: Request,
    uow: UnitOfWorkDep,
    response: Response,
    x_github_event: Annotated[str | None, Header()] = None,
    x_github_delivery: Annotated[str | None, Header()] = None,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
) -> PipelineAnswer:
    """Without `X-GitHub-Event`, the body is the generic JSON (`GenericDeploymentEvent`). With
    `X-GitHub-Event: deployment_status` it is GitHub's payload; other GitHub events (`ping` when the
    webhook is created) are acknowledged and ignored. 201 when a deployment was recorded, 200 when a
    known one was updated or the notification was taken before, 202 when nothing was recorded."""
    raw = await request.body()
    actor = await _notifier(request, raw, x_hub_signature_256, x_github_event)
    if x_github_event is None:
        report = from_generic(_parse(GenericDeploymentEvent, raw), actor)
    elif x_github_event != "deployment_status":
        response.status_code = 202
        return PipelineAnswer(deployment=None, ignored=f"GitHub event {x_github_event!r} records no deployment")
    else:
        event: GitHubDeploymentStatusEvent = _parse(GitHubDeploymentStatusEvent, raw)
        github_report = from_github(event, f"github:{event.repository.full_name}", x_github_delivery)
        if github_report is None:
            response.status_code = 202
            state = event.deployment_status.state
            return PipelineAnswer(deployment=None, ignored=f"the state {state!r} records no deployment")
        report = github_report
    outcome = await usecases.record_deployment(report, uow, create_change=True)
    response.status_code = 201 if outcome.created else 200
    response.headers["Location"] = f"{deployments_router.prefix}/{outcome.deployment.id}"
    return _pipeline_answer(outcome)


@deployments_router.get("", response_model=DeploymentPage)
async def list_deployments(
    conn: ReadConnectionDep,
    _: Reader,
    service: Annotated[str | None, Query(max_length=200)] = None,
    service_id: UUID | None = None,
    environment: Annotated[str | None, Query(max_length=50)] = None,
    result: DeploymentResult | None = None,
    release_id: UUID | None = None,
    change_id: UUID | None = None,
    since: Annotated[AwareDatetime | None, Query(description="Recorded at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Recorded before")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DeploymentPage:
    if since is not None and until is not None and until <= since:
        raise RuleViolation("'until' must come after 'since'", field="until")
    items, total = await store.list_deployments(
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
    return DeploymentPage(items=[DeploymentRead.of(d) for d in items], total=total, limit=limit, offset=offset)


async def _deployment_read(conn: AsyncConnection, item: Deployment) -> DeploymentRead:
    rows = await store.incidents_of(conn, [item.change_id]) if item.change_id else []
    return DeploymentRead.of(item, [_incident(r, item.finished_at) for r in rows])


@deployments_router.get("/{deployment_id}", response_model=DeploymentRead)
async def get_deployment(deployment_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> DeploymentRead:
    item = await store.get_deployment(conn, deployment_id)
    if item is None:
        raise NotFound(f"deployment {deployment_id} does not exist")
    response.headers["ETag"] = etag(item.row_version)
    return await _deployment_read(conn, item)


@deployments_router.post("/{deployment_id}/verify", response_model=DeploymentRead)
async def verify_deployment(
    deployment_id: UUID,
    body: Verification,
    uow: UnitOfWorkDep,
    _: Deployer,
    response: Response,
    if_match: IfMatch = None,
) -> DeploymentRead:
    item = await usecases.act_on_deployment(
        deployment_id, _version(if_match), uow, lambda d, now: d.verify(body.verification, body.passed, now)
    )
    response.headers["ETag"] = etag(item.row_version)
    return DeploymentRead.of(item)


@deployments_router.post("/{deployment_id}/roll-back", response_model=DeploymentRead)
async def roll_back_deployment(
    deployment_id: UUID, body: Notes, uow: UnitOfWorkDep, _: Deployer, response: Response, if_match: IfMatch = None
) -> DeploymentRead:
    item = await usecases.act_on_deployment(
        deployment_id, _version(if_match), uow, lambda d, now: d.roll_back(body.notes, now)
    )
    response.headers["ETag"] = etag(item.row_version)
    return DeploymentRead.of(item)


# ---------------------------------------------------------------------------- the gate

gate_router = APIRouter(prefix="/api/v1", tags=["gate"])


@gate_router.get(
    "/gate",
    response_model=GateRead,
    summary="May a pipeline deploy this service to this environment now? Block on `allowed`",
)
async def deployment_gate(
    request: Request,
    conn: ReadConnectionDep,
    _: Reader,
    service: Annotated[str, Query(min_length=1, max_length=200, description="Service id, or the pipeline's name")],
    environment: Annotated[str, Query(min_length=1, max_length=50, examples=["production"])],
) -> GateRead:
    """Always 200 with `allowed` true or false and the `reasons`: a pipeline step fails itself when
    `allowed` is false, e.g. `curl -s .../gate?service=acme/checkout&environment=production | jq -e .allowed`."""
    settings: ChangeSettings = request.app.state.settings
    env = environment_named(environment)
    now = datetime.now(UTC)
    answer, service_id = await usecases.gate_answer(
        conn, service=service, environment=env, gated=settings.gated_environments, now=now
    )
    return GateRead.of(answer, service=service, service_id=service_id, environment=env, at=now)


ROUTERS = [templates_router, releases_router, deployments_router, gate_router]
