"""Incident service settings (`INCIDENT_*`, falling back to `ITSM_*`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IncidentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INCIDENT_", extra="ignore")

    service_name: ClassVar[str] = "incident"
    default_port: ClassVar[int] = 8001
