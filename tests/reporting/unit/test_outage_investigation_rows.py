"""The outage-investigations report's rows (ISO/IEC 20000-1 6.3), pure: outages over the threshold
without a linked problem are listed, the longest first; investigated and short ones are counted
or left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from services.reporting.domain.outages import outage_investigation_rows

T0 = datetime(2026, 10, 5, tzinfo=UTC)
SERVICE = uuid4()


def _outage(number: str, minutes: float, *, problem: bool = False) -> dict[str, Any]:
    return {
        "incident_id": uuid4(),
        "number": number,
        "service_id": SERVICE,
        "priority": 1,
        "major": False,
        "opened_at": T0,
        "resolved_at": T0 + timedelta(minutes=minutes),
        "problem_id": uuid4() if problem else None,
    }


def test_only_outages_over_the_threshold_without_a_problem_are_listed_longest_first() -> None:
    outages = [
        _outage("INC0000001", 61),
        _outage("INC0000002", 600, problem=True),  # investigated
        _outage("INC0000003", 60),  # not over the threshold
        _outage("INC0000004", 240),
    ]
    rows, totals = outage_investigation_rows(outages, {str(SERVICE): "Payments"}, timedelta(minutes=60))
    assert [(r["number"], r["duration_minutes"], r["service_name"]) for r in rows] == [
        ("INC0000004", 240.0, "Payments"),
        ("INC0000001", 61.0, "Payments"),
    ]
    assert totals == {
        "threshold_minutes": 60.0,
        "outages_over_threshold": 3,
        "investigated": 1,
        "without_investigation": 2,
    }
