"""Change service settings (`CHANGE_*`, falling back to `ITSM_*`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


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
