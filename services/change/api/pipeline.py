"""The pipeline notification route: the generic JSON or GitHub's `deployment_status` webhook, who sent
it (a token, or GitHub's signature), and each payload turned into a deployment report."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from services.change.api.deployments import pipeline_answer
from services.change.api.deps import POLICY
from services.change.domain.deployments import DeploymentResult, environment_named
from services.change.domain.pipeline import CHANGE_NUMBER, GITHUB_STATES, signature_matches
from services.change.schemas.pipeline import GenericDeploymentEvent, GitHubDeploymentStatusEvent, PipelineAnswer
from services.change.settings import ChangeSettings
from services.change.usecases import deployments as usecases
from services.change.usecases.deployments import DeploymentReport
from shared.app import UnitOfWorkDep
from shared.errors import RuleViolation, Unauthenticated

router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"])
"""Public in the table's sense: GitHub proves itself with its signature, not a token; any other
notification runs the table (`_notifier`)."""


def from_generic(event: GenericDeploymentEvent, actor: str) -> DeploymentReport:
    return DeploymentReport(
        service=event.service,
        service_id=event.service_id,
        environment=environment_named(event.environment),
        result=event.status,
        actor=actor,
        source="generic",
        version=event.version,
        started_at=event.started_at,
        finished_at=event.finished_at,
        commit_sha=event.commit_sha,
        ref=event.ref,
        url=event.url,
        change_number=event.change_number,
        release_id=event.release_id,
        external_id=event.deployment_id,
        notification_id=event.event_id,
    )


def _payload(raw: Mapping[str, Any] | str | None) -> Mapping[str, Any]:
    """`deployment.payload` is the JSON the deployment was created with; GitHub sends it as an
    object, or as a string when it was given as one."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return {}
    return raw if isinstance(raw, Mapping) else {}


def from_github(event: GitHubDeploymentStatusEvent, actor: str, delivery_id: str | None) -> DeploymentReport | None:
    """The report for a GitHub deployment status, or None when the state records nothing."""
    result = GITHUB_STATES[event.deployment_status.state]
    if result is None:
        return None
    status, deployment = event.deployment_status, event.deployment
    payload = _payload(deployment.payload)
    change_number = payload.get("change_number") or payload.get("change")
    if change_number is not None and not (isinstance(change_number, str) and CHANGE_NUMBER.match(change_number)):
        raise RuleViolation(
            "deployment.payload.change_number is a change number like CHG0000042", field="change_number"
        )
    service = payload.get("service")
    version = payload.get("version")
    at = status.created_at or status.updated_at
    return DeploymentReport(
        service=service if isinstance(service, str) and service.strip() else event.repository.full_name,
        environment=environment_named(deployment.environment),
        result=result,
        actor=actor,
        source="github",
        version=version if isinstance(version, str) else deployment.ref,
        started_at=(deployment.created_at or at) if result is DeploymentResult.IN_PROGRESS else deployment.created_at,
        finished_at=None if result is DeploymentResult.IN_PROGRESS else at,
        commit_sha=deployment.sha,
        ref=deployment.ref,
        url=status.log_url or status.target_url or status.environment_url,
        change_number=change_number,
        # One record per GitHub deployment; each of its statuses is one notification, taken once.
        external_id=f"{event.repository.full_name}#{deployment.id}",
        notification_id=str(status.id),
        delivery_id=delivery_id,
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
    secret, or a caller with a bearer token the authorisation table lets through (its row
    `pipeline.pipeline_event`)."""
    settings: ChangeSettings = request.app.state.settings
    secret = settings.github_webhook_secret
    if secret is not None and (signature is not None or github_event is not None):
        if not signature_matches(secret.get_secret_value(), raw, signature):
            raise Unauthenticated("X-Hub-Signature-256 is missing or does not match the body signed with the secret")
        return "github-webhook" if github_event else "signed-pipeline"
    access = await POLICY.enforce(request)
    return access.principal.subject


def _generic_event_schema() -> dict[str, Any]:
    """The generic body's JSON Schema for the OpenAPI document; its enums are already components."""
    schema = GenericDeploymentEvent.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


@router.post(
    "/events",
    response_model=PipelineAnswer,
    responses={
        201: {"model": PipelineAnswer},
        202: {"model": PipelineAnswer},
        # The route authenticates in its body (a bearer token, or GitHub's signature of the body).
        401: {"description": "Neither a valid bearer token nor a matching X-Hub-Signature-256"},
        403: {"description": "The token holds neither the pipeline nor the change_manager role"},
    },
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
    response.headers["Location"] = f"{router.prefix}/{outcome.deployment.id}"
    return pipeline_answer(outcome)
