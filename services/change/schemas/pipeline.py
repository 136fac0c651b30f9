"""HTTP bodies of pipeline notifications: the generic JSON, GitHub's `deployment_status` webhook
(only the fields used), and the answer to either."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.change.domain.deployments import DeploymentResult
from services.change.schemas.deployments import ChangeRef, DeploymentRead
from shared.http import ApiModel
from shared.json_limits import BoundedJson


class PipelineAnswer(ApiModel):
    deployment: DeploymentRead | None
    change: ChangeRef | None = None
    change_created: bool = Field(default=False, description="A standard change was made from a template for it")
    duplicate: bool = Field(default=False, description="The same notification was taken before; nothing changed")
    ignored: str | None = Field(default=None, description="Why a notification was taken without recording anything")
    warnings: list[str] = Field(default_factory=list)


class GenericDeploymentEvent(ApiModel):
    """The generic notification any CI/CD system can send (a `curl` at the end of a deploy job).

    Several notifications with the same `deployment_id` update one deployment (in_progress, then
    succeeded or failed); `event_id`, when given, makes a retried notification harmless.
    """

    service: str = Field(min_length=1, max_length=200, examples=["checkout"])
    service_id: UUID | None = None
    environment: str = Field(min_length=1, max_length=50, examples=["production"])
    version: str | None = Field(default=None, max_length=100, examples=["2.4.0"])
    status: DeploymentResult
    commit_sha: str | None = Field(default=None, max_length=64, pattern=r"^[0-9a-fA-F]{7,64}$")
    ref: str | None = Field(default=None, max_length=255)
    url: str | None = Field(default=None, max_length=2000, description="The pipeline run")
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None
    change_number: str | None = Field(default=None, max_length=20, pattern=r"^[Cc][Hh][Gg]\d{7}$")
    release_id: UUID | None = None
    deployment_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The pipeline's id of this deployment (a run id)"
    )
    event_id: str | None = Field(default=None, min_length=1, max_length=200, description="Unique per notification")


# GitHub's `deployment_status` webhook, as GitHub sends it: only the fields used are declared,
# the rest (sender, creator, installation, urls...) is ignored.


class _GitHub(BaseModel):
    model_config = ConfigDict(extra="ignore")


class GitHubDeploymentStatus(_GitHub):
    id: int
    state: Literal["error", "failure", "inactive", "in_progress", "queued", "pending", "success", "waiting"]
    description: str | None = None
    environment: str | None = None
    target_url: str | None = None
    log_url: str | None = None
    environment_url: str | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class GitHubDeployment(_GitHub):
    id: int
    sha: str = Field(max_length=64)
    ref: str | None = Field(default=None, max_length=255)
    task: str | None = None
    payload: Annotated[dict[str, Any] | str | None, BoundedJson] = None
    environment: str = Field(min_length=1, max_length=100)
    description: str | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class GitHubRepository(_GitHub):
    id: int | None = None
    full_name: str = Field(min_length=1, max_length=200)
    html_url: str | None = None


class GitHubDeploymentStatusEvent(_GitHub):
    action: str | None = None
    deployment_status: GitHubDeploymentStatus
    deployment: GitHubDeployment
    repository: GitHubRepository
