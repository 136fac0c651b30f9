"""The significant-events report (ISO/IEC 20000-1 6.2 b) against the data set of
tests/reporting/dataset.py plus two production deployments, with hand-computed rows.

The data set's continuity plan for Mail was invoked for INC1 (T0+30m, back to normal T0+2h,
reviewed): a `continuity_invocation` row under INC0000001.

From the data set: INC1 is the one major incident (Mail, opened T0, resolved T0+2h); production
deployments finished: dep2 (Mail, T0+1d6h, CHG2), dep1 (Mail, T0+2d, CHG1), dep4 (Payroll,
failed, T0+2d1h, CHG3); dep3 is staging, dep5 still in progress. CHG3 is the emergency change
(Payroll, created T0+2d, failed T0+2d1h). Added here: dep6 (Mail, rolled back, T0+3d to
T0+3d30m, no change) and dep7 (a service the CMDB does not know, recorded as "legacy-batch",
T0+3d22h to T0+4d).
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.domain.report_filters import ReportFilters
from services.reporting.usecases import projections
from services.reporting.usecases import reports as usecases
from shared.db import create_engine
from shared.events import CloudEvent, new_event
from shared.events.change import DeploymentRecorded
from shared.events.incident import IncidentClosed
from tests.infra import Servers, create_service_database
from tests.reporting.dataset import INC, MAIL, NOW, PAYROLL, T0, D, H, M, all_events, uid

pytestmark = pytest.mark.asyncio(loop_scope="session")

LEGACY = uid("svc-legacy")


def _deployment(n: int, service: Any, name: str, result: str, started: datetime, finished: datetime) -> CloudEvent:
    data = DeploymentRecorded(
        deployment_id=uid(f"dep{n}"),
        service_id=service,
        service=name,
        environment="production",
        result=result,
        started_at=started,
        finished_at=finished,
        recorded_at=finished,
    )
    return new_event(data, source="/itsm/change", subject=str(uid(f"dep{n}")), time=finished, event_id=uid(f"e-dep{n}"))


def extra_events() -> list[CloudEvent]:
    return [
        _deployment(6, MAIL, "mail-web", "rolled_back", T0 + 3 * D, T0 + 3 * D + 30 * M),
        _deployment(7, LEGACY, "legacy-batch", "succeeded", T0 + 4 * D - 2 * H, T0 + 4 * D),
    ]


def close_inc1() -> CloudEvent:
    at = T0 + 3 * D
    data = IncidentClosed(
        incident_id=INC[1],
        number="INC0000001",
        status="closed",
        previous_status="resolved",
        priority=1,
        actor="a",
        occurred_at=at,
        service_id=MAIL,
        assignment_group="ops",
        major=True,
    )
    return new_event(data, source="/itsm/incident", subject=str(INC[1]), time=at, event_id=uid("close-inc1"))


@pytest.fixture(scope="module")
async def engine(servers: Servers) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(await create_service_database(servers, "reporting", label="significant"))
    events = [*all_events(), *extra_events()]
    random.Random(3).shuffle(events)  # in any order, in batches, as the consumer applies them
    while events:
        batch, events = events[:5], events[5:]
        async with engine.begin() as conn:
            await projections.project(conn, batch)
    yield engine
    await engine.dispose()


async def produce(engine: AsyncEngine, **filters: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    async with engine.connect() as conn:
        report = await usecases.produce(conn, "significant-events", ReportFilters(**filters), now=NOW)
    for row in report.rows:
        assert list(row) == list(report.definition.columns)
    return report.rows, report.totals


def brief(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            r["kind"],
            r["reference"],
            r["service_name"],
            r["started_at"],
            r["ended_at"],
            r["duration_hours"],
            r["status"],
            r["change_number"],
            r["review_status"],
        )
        for r in rows
    ]


MAJOR = ("major_incident", "INC0000001", "Mail", T0, T0 + 2 * H, 2.0, "resolved", None, "unknown")
INV = ("continuity_invocation", "INC0000001", "Mail", T0 + 30 * M, T0 + 2 * H, 1.5, "reviewed", None, "recorded")
DEP2 = ("deployment", str(uid("dep2")), "Mail", None, T0 + D + 6 * H, None, "succeeded", "CHG0000002", None)
DEP1 = ("deployment", str(uid("dep1")), "Mail", None, T0 + 2 * D, None, "succeeded", "CHG0000001", None)
CHG3 = ("emergency_change", "CHG0000003", "Payroll", T0 + 2 * D, T0 + 2 * D + H, 1.0, "failed", None, None)
DEP4 = ("deployment", str(uid("dep4")), "Payroll", None, T0 + 2 * D + H, None, "failed", "CHG0000003", None)
DEP6 = ("deployment", str(uid("dep6")), "Mail", T0 + 3 * D, T0 + 3 * D + 30 * M, 0.5, "rolled_back", None, None)
DEP7 = ("deployment", str(uid("dep7")), "legacy-batch", T0 + 3 * D + 22 * H, T0 + 4 * D, 2.0, "succeeded", None, None)


async def test_major_incidents_production_deployments_and_emergency_changes_in_time_order(engine: AsyncEngine) -> None:
    rows, totals = await produce(engine)
    assert brief(rows) == [MAJOR, INV, DEP2, DEP1, CHG3, DEP4, DEP6, DEP7]
    assert [r["service_id"] for r in rows] == [str(MAIL), str(MAIL), str(MAIL), str(MAIL), str(PAYROLL),
                                              str(PAYROLL), str(MAIL), str(LEGACY)]  # fmt: skip
    assert totals == {
        "major_incidents": 1,
        "major_incidents_unresolved": 0,
        "deployments": 5,
        "failed_deployments": 2,  # dep4 failed, dep6 rolled back
        "emergency_changes": 1,
        "failed_emergency_changes": 1,
        "continuity_invocations": 1,  # the continuity plan invoked for INC1
    }


async def test_filtered_by_period_and_service(engine: AsyncEngine) -> None:
    rows, totals = await produce(engine, start=T0 + 2 * D, end=T0 + 3 * D)
    assert brief(rows) == [DEP1, CHG3, DEP4]  # dep6 finished after `to`; INC1 opened before `from`
    assert (totals["major_incidents"], totals["deployments"], totals["emergency_changes"]) == (0, 2, 1)
    rows, _ = await produce(engine, service_id=PAYROLL)
    assert brief(rows) == [CHG3, DEP4]
    rows, _ = await produce(engine, service_id=MAIL, start=T0, end=T0 + D)
    assert brief(rows) == [MAJOR, INV]


async def test_the_figures_reconcile_with_the_incidents_changes_and_dora_reports(engine: AsyncEngine) -> None:
    window = {"start": T0, "end": T0 + 7 * D}
    _, totals = await produce(engine, **window)
    async with engine.connect() as conn:
        incidents = await usecases.produce(conn, "incidents", ReportFilters(**window), now=NOW)
        changes = await usecases.produce(conn, "changes", ReportFilters(**window), now=NOW)
        dora = await usecases.produce(conn, "dora", ReportFilters(**window), now=NOW)
    assert totals["major_incidents"] == incidents.totals["major_incidents"] == 1
    assert totals["emergency_changes"] == changes.totals["emergency_changes"] == 1
    assert totals["deployments"] == dora.totals["deployments"] == 5


async def test_csv_has_the_definition_columns_and_a_closed_major_incident_has_its_review(
    engine: AsyncEngine,
) -> None:
    """Last in this module: it closes INC1 in the shared database."""
    async with engine.connect() as conn:
        report = await usecases.produce(conn, "significant-events", ReportFilters(end=T0 + D), now=NOW)
    table = list(csv.reader(io.StringIO(usecases.to_csv(report.definition, report.rows))))
    assert table == [
        list(report.definition.columns),
        ["major_incident", "INC0000001", str(MAIL), "Mail", T0.isoformat(), (T0 + 2 * H).isoformat(), "2.0",
         "resolved", "", "unknown"],
        ["continuity_invocation", "INC0000001", str(MAIL), "Mail", (T0 + 30 * M).isoformat(),
         (T0 + 2 * H).isoformat(), "1.5", "reviewed", "", "recorded"],
    ]  # fmt: skip
    async with engine.begin() as conn:
        await projections.project(conn, [close_inc1()])
    rows, _ = await produce(engine, end=T0 + D)
    assert brief(rows) == [(*MAJOR[:6], "closed", None, "recorded"), INV]
