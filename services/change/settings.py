"""Change service settings (`CHANGE_*`, falling back to `ITSM_*`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ChangeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CHANGE_", extra="ignore")

    service_name: ClassVar[str] = "change"
    default_port: ClassVar[int] = 8002
