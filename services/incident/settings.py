"""Incident service settings (`INCIDENT_*`, falling back to `ITSM_*`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IncidentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INCIDENT_", extra="ignore")

    service_name: ClassVar[str] = "incident"
    default_port: ClassVar[int] = 8001

    sla_watch_interval_s: float = Field(default=30.0, gt=0, description="Seconds between SLA watcher passes")
    sla_watch_batch: int = Field(default=1000, ge=1, description="Clocks the SLA watcher claims per transaction")
