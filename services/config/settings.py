"""Configuration service settings (`CONFIG_*`, falling back to `ITSM_*`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ConfigSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONFIG_", extra="ignore")

    service_name: ClassVar[str] = "config"
    default_port: ClassVar[int] = 8003

    # Capacity (ISO/IEC 20000-1 6.5): the job samples every metric's PromQL from Prometheus's
    # HTTP API (query_range) on a grid of `capacity_interval_s`, and catches up over a gap.
    prometheus_url: str | None = Field(
        default=None, max_length=500, description="Prometheus base URL (http://host:9090); unset: no sampling"
    )
    capacity_interval_s: float = Field(default=60.0, ge=1, le=3600, description="Sampling interval (the grid step)")
    capacity_timeout_s: float = Field(default=10.0, gt=0, le=300, description="Timeout of one Prometheus query")
    capacity_settle_s: float = Field(
        default=2.0, ge=0, le=600, description="Instants this recent wait for the next pass (a scrape being ingested)"
    )
    capacity_first_look_back: int = Field(
        default=5, ge=0, le=10_000, description="Grid steps a metric's first pass reaches back"
    )
    capacity_max_catch_up_points: int = Field(
        default=1000,
        ge=1,
        le=11_000,
        description="Instants per query_range when catching up (Prometheus's cap is 11,000)",
    )
    capacity_retention_days: float = Field(default=400, gt=0, le=3660, description="How long samples are kept")
    capacity_forecast_horizon_days: int = Field(
        default=180, ge=1, le=3660, description="How far the runway forecast looks ahead"
    )
