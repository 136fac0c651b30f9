"""Capacity management actions: define a metric, set a CI's thresholds on it, read the runway
(utilisation against thresholds and the linear forecast's time to each), and record a new
version of a service's capacity plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from services.config.domain.capacity import (
    FORECAST_METHOD,
    Level,
    Thresholds,
    UpgradeItem,
    linear_forecast,
    next_review,
    validate_metric_name,
    validate_upgrade,
)
from services.config.domain.types import BUSINESS_SERVICE
from services.config.store import capacity as store
from services.config.store.items import ConfigItemRepository
from services.config.usecases.capacity import RUNWAY_SAMPLES
from shared import clock
from shared.errors import Conflict, NotFound, RuleViolation
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class DefineMetric:
    name: str
    unit: str
    promql: str
    ci_label: str
    warning: float
    critical: float
    actor: str


async def define_metric(cmd: DefineMetric, uow: UnitOfWork) -> Any:
    validate_metric_name(cmd.name)
    Thresholds(warning=cmd.warning, critical=cmd.critical)
    async with uow:
        if await store.metric_named(uow.connection, cmd.name) is not None:
            raise Conflict(f"there is a capacity metric {cmd.name!r} already")
        values = {
            "id": uuid4(),
            "name": cmd.name,
            "unit": cmd.unit,
            "promql": cmd.promql,
            "ci_label": cmd.ci_label,
            "warning": cmd.warning,
            "critical": cmd.critical,
            "sampled_until": None,
            "created_at": clock.now(),
            "created_by": cmd.actor,
        }
        await store.add_metric(uow.connection, values)
        row = await store.metric_named(uow.connection, cmd.name)
        await uow.commit()
    return row


async def set_threshold(
    uow: UnitOfWork, metric_name: str, ci_id: UUID, warning: float | None, critical: float | None
) -> dict[str, Any]:
    async with uow:
        conn = uow.connection
        metric = await store.metric_named(conn, metric_name)
        if metric is None:
            raise NotFound(f"there is no capacity metric {metric_name!r}")
        if not await store.ci_exists(conn, ci_id):
            raise NotFound(f"configuration item {ci_id}")
        limits = Thresholds(
            warning=metric.warning if warning is None else warning,
            critical=metric.critical if critical is None else critical,
        )
        now = clock.now()
        await store.put_threshold(
            conn,
            {
                "metric_id": metric.id,
                "ci_id": ci_id,
                "warning": limits.warning,
                "critical": limits.critical,
                "level": Level.OK.value,
                "level_since": None,
                "updated_at": now,
            },
        )
        row = await store.threshold_of(conn, metric.id, ci_id)
        await uow.commit()
    return {**row._asdict(), "metric": metric.name}


async def runway(
    uow: UnitOfWork, *, level: str | None, limit: int, offset: int, horizon: timedelta
) -> tuple[list[dict[str, Any]], int]:
    """Each CI's metrics with thresholds: level, last sample, the forecast and its runway."""
    now = clock.now()
    answers = []
    async with uow:
        conn = uow.connection
        rows, total = await store.runway_rows(conn, limit=limit, offset=offset, level=level)
        for row in rows:
            samples = await store.samples_of(conn, row.metric_id, row.ci_id, since=None, limit=RUNWAY_SAMPLES)
            forecast = linear_forecast([(s.at, s.value) for s in samples], horizon)
            answers.append(
                {
                    **row._asdict(),
                    "last_value": samples[-1].value if samples else None,
                    "last_at": samples[-1].at if samples else None,
                    "forecast": None
                    if forecast is None
                    else {
                        "method": forecast.method,
                        "horizon_days": horizon.total_seconds() / 86400,
                        "points": forecast.points,
                        "slope_per_day": forecast.slope_per_second * 86400,
                    },
                    "runway_to_warning_days": _days(forecast.runway(row.warning, now)) if forecast else None,
                    "runway_to_critical_days": _days(forecast.runway(row.critical, now)) if forecast else None,
                }
            )
    return answers, total


def _days(span: timedelta | None) -> float | None:
    return None if span is None else span.total_seconds() / 86400


@dataclass(frozen=True)
class RecordPlan:
    service_id: UUID
    requirements: str
    baselines: list[dict[str, Any]]
    forecast_horizon_days: int
    upgrade_items: list[dict[str, Any]]
    considerations: str
    review_interval_days: int
    reviewed_on: date
    actor: str


async def record_plan(cmd: RecordPlan, uow: UnitOfWork) -> dict[str, Any]:
    items = [
        validate_upgrade(
            UpgradeItem(
                resource=item["resource"],
                metric=item.get("metric"),
                lead_time_days=item["lead_time_days"],
                cost=Decimal(item["cost"]),
                currency=item["currency"],
                target_date=item["target_date"],
            ),
            index,
        )
        for index, item in enumerate(cmd.upgrade_items)
    ]
    next_review(cmd.reviewed_on, cmd.review_interval_days)
    async with uow:
        conn = uow.connection
        service = await ConfigItemRepository(conn).get(cmd.service_id)
        if service is None or service.ci_type != BUSINESS_SERVICE:
            raise RuleViolation(f"{cmd.service_id} is not a business service", field="service_id")
        values = {
            "id": uuid4(),
            "service_id": cmd.service_id,
            "version": await store.latest_plan_version(conn, cmd.service_id) + 1,
            "requirements": cmd.requirements,
            "baselines": cmd.baselines,
            "forecast_horizon_days": cmd.forecast_horizon_days,
            "upgrade_items": [_stored(item) for item in items],
            "considerations": cmd.considerations,
            "review_interval_days": cmd.review_interval_days,
            "reviewed_on": cmd.reviewed_on,
            "created_at": clock.now(),
            "created_by": cmd.actor,
        }
        await store.add_plan(conn, values)
        await uow.commit()
    return plan_answer(values)


def _stored(item: UpgradeItem) -> dict[str, Any]:
    """JSON as stored: the cost as a decimal string (never a float), the date in ISO form."""
    return {
        "resource": item.resource,
        "metric": item.metric,
        "lead_time_days": item.lead_time_days,
        "cost": str(item.cost),
        "currency": item.currency,
        "target_date": item.target_date.isoformat(),
    }


def plan_answer(row: Any) -> dict[str, Any]:
    """A stored plan (row or values) in the API's form, with each item's order-by date."""
    plan = dict(row) if isinstance(row, dict) else row._asdict()
    items = []
    for stored in plan["upgrade_items"]:
        target = date.fromisoformat(stored["target_date"])
        item = UpgradeItem(
            resource=stored["resource"],
            metric=stored.get("metric"),
            lead_time_days=int(stored["lead_time_days"]),
            cost=Decimal(stored["cost"]),
            currency=stored["currency"],
            target_date=target,
        )
        items.append({**stored, "cost": item.cost, "target_date": target, "order_by": item.order_by()})
    return {
        **plan,
        "upgrade_items": items,
        "forecast_method": FORECAST_METHOD,
        "next_review": next_review(plan["reviewed_on"], plan["review_interval_days"]),
    }
