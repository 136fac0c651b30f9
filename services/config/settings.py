"""Configuration service settings (`CONFIG_*`, falling back to `ITSM_*`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ConfigSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONFIG_", extra="ignore")

    service_name: ClassVar[str] = "config"
    default_port: ClassVar[int] = 8003
