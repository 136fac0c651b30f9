"""Reporting service settings (`REPORTING_*`, falling back to `ITSM_*`)."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore")

    service_name: ClassVar[str] = "reporting"
    default_port: ClassVar[int] = 8005

    stream_max_readers: int = Field(
        default=200, ge=1, le=10_000, description="Live dashboard streams one process serves at once (more get 503)"
    )
    stream_max_per_subject: int = Field(
        default=5,
        ge=1,
        le=10_000,
        description="Live streams one token subject may hold open in one process (more get 429)",
    )
    stream_keepalive_s: float = Field(
        default=15.0, gt=0, le=300, description="A comment line this often on an idle live stream, so proxies keep it"
    )

    # Reporting consumes every event of the suite: it writes them in batches (see EventConsumer).
    prefetch: int = Field(default=500, ge=1, le=1000)
    consumer_batch_size: int = Field(default=250, ge=1, le=1000)

    availability_target_pct: float = Field(
        default=99.5, ge=0, le=100, description="The availability target of a service without its own"
    )
    availability_targets: dict[str, float] = Field(
        default_factory=dict,
        description='Per service id, its availability target (JSON, e.g. {"<uuid>": 99.9})',
    )
    outage_investigation_threshold_min: float = Field(
        default=60,
        gt=0,
        le=60 * 24 * 366,
        description="An unplanned outage longer than this needs an investigation (keep it equal to the incident"
        " service's INCIDENT_OUTAGE_INVESTIGATION_THRESHOLD_MIN)",
    )
    report_schedule_interval_s: float = Field(
        default=300.0, gt=0, description="How often the scheduler looks for a report period without its run"
    )

    report_delivery_timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="How long a webhook receiver has to answer one delivery of a run"
    )
    report_delivery_retry_s: float = Field(
        default=300.0,
        gt=0,
        description="Wait before the first retry of a failed delivery (doubled after each failure)",
    )
    report_delivery_retry_max_s: float = Field(
        default=21_600.0, gt=0, description="The longest wait between two attempts of a delivery"
    )
    report_delivery_max_attempts: int = Field(
        default=10, ge=1, le=100, description="Attempts of a delivery before it stays failed"
    )
    service_level_days_interval_s: float = Field(
        default=60.0,
        gt=0,
        description="How often the daily service-level figures merge their changes (reports sum the rest)",
    )

    @property
    def outage_threshold(self) -> timedelta:
        return timedelta(minutes=self.outage_investigation_threshold_min)

    def availability_target(self, service_id: str) -> float:
        return self.availability_targets.get(service_id, self.availability_target_pct)
