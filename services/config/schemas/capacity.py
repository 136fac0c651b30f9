"""API bodies of capacity management: metrics (a PromQL expression and its default thresholds),
a CI's thresholds on a metric, samples, the runway, and capacity plans."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import Field

from services.config.domain.capacity import METRIC_NAME
from shared.http import ApiModel, Page

FiniteFloat = Annotated[float, Field(allow_inf_nan=False, ge=-1e15, le=1e15)]
PROMQL_MAX = 2000
LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]{0,99}$"


class CapacityMetricCreate(ApiModel):
    """A metric read from Prometheus: `promql` yields one series per CI, the CI's id in `ci_label`."""

    name: str = Field(min_length=1, max_length=63, pattern=METRIC_NAME.pattern, examples=["disk_used_ratio"])
    unit: str = Field(min_length=1, max_length=30, examples=["ratio"])
    promql: str = Field(
        min_length=1,
        max_length=PROMQL_MAX,
        description="PromQL: one series per CI, labelled with the CI's id",
        examples=['max by (ci_id) (disk_used_ratio{job="node"})'],
    )
    ci_label: str = Field(default="ci_id", pattern=LABEL_NAME, description="The label carrying the CI's id")
    warning: FiniteFloat = Field(description="Default warning threshold (a value at or over it)")
    critical: FiniteFloat = Field(description="Default critical threshold")


class CapacityMetricRead(ApiModel):
    id: UUID
    name: str
    unit: str
    promql: str
    ci_label: str
    warning: float
    critical: float
    sampled_until: datetime | None = Field(description="The last grid instant sampled (None before the first pass)")
    created_at: datetime
    created_by: str


CapacityMetricPage = Page[CapacityMetricRead]


class CapacityThresholdPut(ApiModel):
    """A CI's thresholds on a metric; left out, the metric's defaults."""

    warning: FiniteFloat | None = None
    critical: FiniteFloat | None = None


class CapacityThresholdRead(ApiModel):
    metric: str
    ci_id: UUID
    warning: float
    critical: float
    level: str = Field(description="ok | warning | critical, after the latest sample")
    level_since: datetime | None


class CapacitySample(ApiModel):
    at: datetime
    value: float


class CapacitySamples(ApiModel):
    metric: str
    ci_id: UUID
    unit: str
    items: list[CapacitySample]


class ForecastRead(ApiModel):
    method: str = Field(examples=["linear"])
    horizon_days: float
    points: int
    slope_per_day: float


class RunwayRead(ApiModel):
    """Utilisation against thresholds, and the time the linear forecast gives until each."""

    ci_id: UUID
    metric: str
    unit: str
    level: str
    level_since: datetime | None = Field(description="The sample that put it at its level")
    last_value: float | None
    last_at: datetime | None
    warning: float
    critical: float
    forecast: ForecastRead | None = Field(description="None with fewer than two samples")
    runway_to_warning_days: float | None = Field(description="0 when there already; None: not within the horizon")
    runway_to_critical_days: float | None


RunwayPage = Page[RunwayRead]


class BaselineFigure(ApiModel):
    metric: str = Field(min_length=1, max_length=63)
    ci_id: UUID | None = None
    value: FiniteFloat
    unit: str = Field(min_length=1, max_length=30)


class UpgradeItemBody(ApiModel):
    resource: str = Field(min_length=1, max_length=200)
    metric: str | None = Field(default=None, max_length=63, description="The metric whose threshold triggers it")
    lead_time_days: int = Field(ge=0, le=3660)
    cost: Decimal = Field(ge=0, max_digits=16, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])
    target_date: date


class UpgradeItemRead(UpgradeItemBody):
    order_by: date = Field(description="target_date minus the lead time: the last day to order")


class CapacityPlanCreate(ApiModel):
    """A new version of a service's capacity plan (the first, or one replacing the latest)."""

    service_id: UUID
    requirements: str = Field(min_length=1, max_length=10_000)
    baselines: list[BaselineFigure] = Field(default_factory=list, max_length=200)
    forecast_horizon_days: int = Field(default=180, ge=1, le=3660)
    upgrade_items: list[UpgradeItemBody] = Field(default_factory=list, max_length=100)
    considerations: str = Field(
        default="", max_length=10_000, description="Regulatory, contractual, organisational and technology impacts"
    )
    review_interval_days: int = Field(ge=1, le=3660)
    reviewed_on: date


class CapacityPlanRead(ApiModel):
    id: UUID
    service_id: UUID
    version: int
    requirements: str
    baselines: list[BaselineFigure]
    forecast_method: str
    forecast_horizon_days: int
    upgrade_items: list[UpgradeItemRead]
    considerations: str
    review_interval_days: int
    reviewed_on: date
    next_review: date
    created_at: datetime
    created_by: str


CapacityPlanPage = Page[CapacityPlanRead]
