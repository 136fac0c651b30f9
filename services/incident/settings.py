"""Incident service settings (`INCIDENT_*`, falling back to `ITSM_*`)."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import ClassVar

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from services.incident.domain.incident import IncidentPolicy, priority_matrix
from shared.settings import ServiceSettings


class IncidentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INCIDENT_", extra="ignore")

    service_name: ClassVar[str] = "incident"
    default_port: ClassVar[int] = 8001

    priority_matrix: list[list[int]] = Field(
        default=[[1, 2, 3], [2, 3, 4], [3, 4, 5]],
        description="Priority (1 critical .. 5 planning) by impact (rows 1-3) and urgency (columns 1-3), as JSON:"
        " INCIDENT_PRIORITY_MATRIX='[[1,2,3],[2,3,4],[3,4,5]]' (ITIL's usual matrix)",
    )
    reopen_window_days: float = Field(default=7, gt=0, description="A resolved incident may be reopened this long")
    auto_close_after_days: float = Field(
        default=5, gt=0, description="A resolved incident the caller has not confirmed closes after this long"
    )
    auto_close_interval_s: float = Field(default=300, gt=0, description="How often the auto-close job runs")
    auto_close_batch: int = Field(default=500, ge=1, le=10_000, description="Incidents closed per transaction")
    list_count_limit: int = Field(
        default=10_000,
        ge=1,
        description="The list counts matches up to this many (a lower bound with total_exact false beyond):"
        " an exact count of a large match costs far more than the page",
    )
    idempotency_ttl_hours: float = Field(default=24, gt=0, description="How long an Idempotency-Key is remembered")

    @field_validator("priority_matrix")
    @classmethod
    def _a_full_matrix(cls, rows: list[list[int]]) -> list[list[int]]:
        priority_matrix(rows)  # raises ValueError naming what is wrong
        return rows

    @cached_property
    def policy(self) -> IncidentPolicy:
        return IncidentPolicy(
            priority_matrix=priority_matrix(self.priority_matrix),
            reopen_window=timedelta(days=self.reopen_window_days),
            auto_close_after=timedelta(days=self.auto_close_after_days),
        )

    @property
    def idempotency_ttl(self) -> timedelta:
        return timedelta(hours=self.idempotency_ttl_hours)
