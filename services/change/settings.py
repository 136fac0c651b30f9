"""Change service settings (`CHANGE_*`, falling back to `ITSM_*`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

ConflictAction = Literal["warn", "refuse"]


class ChangeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CHANGE_", extra="ignore")

    service_name: ClassVar[str] = "change"
    default_port: ClassVar[int] = 8002

    config_url: str = Field(default="http://127.0.0.1:8003", description="The configuration service, for impact")
    config_token: SecretStr | None = Field(default=None, description="A token for it; else one signed with jwt_secret")
    config_timeout_s: float = Field(default=2.0, gt=0, description="Past this, the impact is unknown (scored high)")
    github_webhook_secret: SecretStr | None = Field(
        default=None,
        description="The secret of the GitHub webhook posting to /api/v1/deployments/events: its X-Hub-Signature-256"
        " is then required and verified (without it, GitHub's unsigned calls are refused: they carry no token)",
    )
    gated_environments: list[str] = Field(
        default=["production"], description="Environments under change control: the gate answers for them"
    )

    ci_check: Literal["strict", "unless_empty", "off"] = Field(
        default="unless_empty",
        description=(
            "Affected CIs and named services against the local CI read model (fed by config's events): strict"
            " refuses an unknown or retired CI; unless_empty does too, except while the read model holds no CI at"
            " all (a new install that has not received config's events yet); off checks nothing"
        ),
    )
    conflict_same_ci: ConflictAction = Field(default="warn", description="Overlapping change on the same CI")
    conflict_dependent_ci: ConflictAction = Field(
        default="warn", description="Overlapping change on a CI related to one of the change's CIs"
    )
    conflict_blackout: ConflictAction = Field(default="refuse", description="The window overlaps a blackout")
    conflict_maintenance_window: ConflictAction = Field(
        default="warn", description="The window is outside a maintenance window of one of the change's services"
    )
    cost_required_from_risk: Literal["low", "medium", "high"] | None = Field(
        default=None,
        description=(
            "Changes of this risk or higher are costed (6.4): a cost estimate before approval and, once reviewed"
            " after implementation, an actual before close; unset, costs are optional"
        ),
    )
    conflict_dependency_depth: int = Field(
        default=1, ge=1, le=3, description="How many relationships away a CI counts as dependent (1: direct neighbours)"
    )
