"""What config's capacity crossings set in the capacity facts, and the capacity report's rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from services.reporting.domain import config_events
from services.reporting.domain.facts import CAPACITY
from services.reporting.domain.report_rows import capacity_rows
from shared.events.config import CapacityThresholdBreached, CapacityThresholdCleared

T = datetime(2026, 10, 5, 9, tzinfo=UTC)
CI = UUID(int=1)
COMMON: dict[str, Any] = {
    "ci_id": CI,
    "metric": "disk",
    "unit": "ratio",
    "warning": 0.8,
    "critical": 0.9,
    "sampled_at": T,
}


def test_a_warning_breach_counts_and_keeps_its_runway() -> None:
    data = CapacityThresholdBreached(
        **COMMON, level="warning", current_level="warning", value=0.85, runway_to_critical_s=7200.0
    )
    assert config_events.capacity_crossing(data) == [
        (
            CAPACITY,
            {
                "ci_id": CI,
                "metric": "disk",
                "unit": "ratio",
                "level": "warning",
                "value": 0.85,
                "warning": 0.8,
                "critical": 0.9,
                "breaches": 1,
                "critical_breaches": 0,
                "last_breached_at": T,
                "runway_to_critical_s": 7200.0,
            },
        )
    ]


def test_a_critical_breach_counts_as_critical_and_a_breach_without_runway_sets_none() -> None:
    [(_, values)] = config_events.capacity_crossing(
        CapacityThresholdBreached(**COMMON, level="critical", current_level="critical", value=0.95)
    )
    assert (values["breaches"], values["critical_breaches"], values["level"]) == (1, 1, "critical")
    assert "runway_to_critical_s" not in values  # a missing value never erases the last one


def test_a_clearing_sets_where_it_stands_and_when_it_cleared() -> None:
    [(table, values)] = config_events.capacity_crossing(
        CapacityThresholdCleared(**COMMON, level="critical", current_level="warning", value=0.85)
    )
    assert table is CAPACITY
    assert (values["level"], values["last_cleared_at"]) == ("warning", T)
    assert not {"breaches", "critical_breaches", "last_breached_at", "runway_to_critical_s"} & set(values)


def _fact(ci: int, metric: str, level: str | None, value: float | None, runway: float | None) -> dict[str, Any]:
    return {
        "ci_id": UUID(int=ci),
        "metric": metric,
        "unit": "ratio",
        "level": level,
        "value": value,
        "warning": 0.8,
        "critical": 0.9,
        "runway_to_critical_s": runway,
        "breaches": 2,
        "critical_breaches": 1,
        "last_breached_at": T,
        "service_id": None if ci != 2 else UUID(int=99),
        "performance_incidents": ci,
    }


def test_rows_put_critical_first_then_the_shortest_runway_and_count_the_levels() -> None:
    facts = [
        _fact(1, "disk", "ok", 0.5, 86400.0),
        _fact(2, "cpu", "warning", 0.81, 2 * 86400.0),
        _fact(3, "disk", "critical", 0.99, 86400.0),
        _fact(4, "disk", "warning", 0.85, 43200.0),
        _fact(5, "mem", "warning", None, None),
        _fact(6, "mem", None, 0.0, None),
    ]
    rows, totals = capacity_rows(facts, {str(UUID(int=2)): "web-db"}, 7)
    assert [(r["ci_id"], r["level"], r["runway_days"]) for r in rows] == [
        (str(UUID(int=3)), "critical", 0.0),
        (str(UUID(int=4)), "warning", 0.5),
        (str(UUID(int=2)), "warning", 2.0),
        (str(UUID(int=5)), "warning", None),
        (str(UUID(int=1)), "ok", None),
        (str(UUID(int=6)), "ok", None),
    ]
    by_ci = {r["ci_id"]: r for r in rows}
    assert by_ci[str(UUID(int=2))]["ci_name"] == "web-db" and by_ci[str(UUID(int=2))]["service_id"] == str(UUID(int=99))
    assert by_ci[str(UUID(int=1))]["service_id"] is None and by_ci[str(UUID(int=1))]["ci_name"] is None
    assert [by_ci[str(UUID(int=n))]["utilisation_pct"] for n in (1, 3, 5, 6)] == [55.6, 110.0, None, 0.0]
    assert by_ci[str(UUID(int=4))]["performance_incidents"] == 4
    assert totals == {"critical": 1, "warning": 3, "performance_incidents": 7}


def test_rows_without_a_critical_threshold_have_no_utilisation() -> None:
    fact = {**_fact(1, "disk", "warning", 0.5, None), "critical": 0.0}
    [row], _ = capacity_rows([fact], {}, 0)
    assert row["utilisation_pct"] is None
