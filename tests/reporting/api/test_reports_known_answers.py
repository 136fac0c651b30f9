"""Every report against the data set of tests/reporting/dataset.py, with hand-computed figures,
on PostgreSQL and on SQLite (the reports aggregate in SQL: both must give the same answers).

The events are applied in a shuffled order, in batches, through the same code the consumer runs:
the projections must not depend on the order (late events never overwrite newer state).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.domain.definitions import DEFINITIONS
from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store import projections as store
from services.reporting.store import tables
from services.reporting.usecases import projections as usecases
from services.reporting.usecases import reports
from shared.db import create_engine
from shared.uow import UnitOfWork
from tests.infra import Servers
from tests.reporting.databases import BACKENDS, reporting_database
from tests.reporting.dataset import (
    ACME,
    CONTRACT2,
    CUSTOMER,
    GLOBEX,
    INC,
    MAIL,
    NOW,
    PAYROLL,
    SRV1,
    T0,
    D,
    H,
    M,
    all_events,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def load(engine: AsyncEngine, seed: int) -> None:
    events = all_events()
    random.Random(seed).shuffle(events)
    while events:
        size = random.Random(seed + len(events)).randint(1, 7)
        batch, events = events[:size], events[size:]
        async with engine.begin() as conn:
            await usecases.project(conn, batch)


@pytest.fixture(scope="module", params=BACKENDS)
def database(
    request: pytest.FixtureRequest, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Awaitable[str]]:
    """Makes fresh reporting databases on the backend of this round (PostgreSQL, then SQLite)."""
    return lambda label: reporting_database(request.param, servers, tmp_path_factory, label)


@pytest.fixture(scope="module")
async def engine(database: Callable[[str], Awaitable[str]]) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(await database("known"))
    await load(engine, seed=7)
    yield engine
    await engine.dispose()


async def report(engine: AsyncEngine, name: str, **filters: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    target = filters.pop("availability_target", lambda _: 99.5)
    threshold = filters.pop("outage_threshold", timedelta(minutes=60))
    async with engine.connect() as conn:
        produced = await reports.produce(
            conn, name, ReportFilters(**filters), now=NOW, availability_target=target, outage_threshold=threshold
        )
    for row in produced.rows:
        assert list(row) == list(produced.definition.columns), f"{name}: columns differ from the definition"
    return produced.rows, produced.totals


def by(rows: list[dict[str, Any]], *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(r[k] for k in keys): {k: v for k, v in r.items() if k not in keys} for r in rows}


OCT = {"start": T0 - timedelta(days=4), "end": T0 + 27 * D}  # 2026-10-01 .. 2026-11-01


async def test_service_levels_per_month_service_and_priority(engine: AsyncEngine) -> None:
    rows, totals = await report(engine, "service-levels")
    keys = ("incidents", "response_measured", "response_met", "response_compliance_pct")
    keys += ("resolution_measured", "resolution_met", "resolution_compliance_pct", "breaches")
    got = {(r["period"], r["service_name"], r["priority"]): tuple(r[k] for k in keys) for r in rows}
    assert got == {
        ("2026-10-01", "Mail", 1): (1, 1, 1, 100.0, 1, 1, 100.0, 0),
        ("2026-10-01", "Mail", 2): (2, 2, 2, 100.0, 2, 1, 50.0, 1),
        ("2026-10-01", "Payroll", 1): (1, 0, 0, None, 0, 0, None, 0),
        ("2026-10-01", "Payroll", 3): (1, 1, 0, 0.0, 0, 0, None, 1),
        ("2026-11-01", "Payroll", 3): (1, 1, 1, 100.0, 1, 1, 100.0, 0),
    }
    assert totals == {
        "incidents": 6,
        "response_measured": 5,
        "response_met": 4,
        "response_compliance_pct": 80.0,
        "resolution_measured": 4,
        "resolution_met": 3,
        "resolution_compliance_pct": 75.0,
        "breaches": 2,
    }


async def test_service_levels_by_week_and_filtered(engine: AsyncEngine) -> None:
    rows, _ = await report(engine, "service-levels", period="week")
    assert sorted({r["period"] for r in rows}) == ["2026-10-05", "2026-11-02"]
    rows, _ = await report(engine, "service-levels", priority=2, service_id=MAIL)
    assert [(r["priority"], r["incidents"], r["resolution_compliance_pct"]) for r in rows] == [(2, 2, 50.0)]


async def test_service_levels_filtered_by_supplier_count_covered_incidents_once(engine: AsyncEngine) -> None:
    keys = ("incidents", "response_measured", "response_met", "resolution_measured", "resolution_met")
    rows, totals = await report(engine, "service-levels", supplier_id=ACME, **OCT)
    # INC3 (on srv1, which Acme's contract covers), INC4 (assigned to Acme, on Payroll and srv1:
    # once), INC5 (on Payroll, which the contract covers); INC6 is in November.
    assert {(r["service_name"], r["priority"]): tuple(r[k] for k in keys) for r in rows} == {
        ("Mail", 2): (1, 1, 1, 1, 1),
        ("Payroll", 1): (1, 0, 0, 0, 0),
        ("Payroll", 3): (1, 1, 0, 0, 0),
    }
    assert (totals["incidents"], totals["response_compliance_pct"], totals["resolution_compliance_pct"]) == (
        3,
        50.0,  # INC3 met its response, INC4 missed it
        100.0,
    )
    # Globex's contract covers Mail from T0 + 90 min: INC3, not INC1 and INC2 opened before.
    rows, totals = await report(engine, "service-levels", supplier_id=GLOBEX)
    assert [(r["service_name"], r["priority"], r["incidents"]) for r in rows] == [("Mail", 2, 1)]
    assert totals["incidents"] == 1


async def test_incidents_volume_backlog_mtta_mttr_by_service_and_group(engine: AsyncEngine) -> None:
    rows, totals = await report(engine, "incidents", **OCT)
    got = by(rows, "service_name", "assignment_group")
    figures = (
        "opened", "resolved", "backlog", "backlog_avg_age_hours", "backlog_oldest_age_hours",
        "mtta_minutes", "mttr_hours", "major_incidents", "reassignments",
    )  # fmt: skip
    assert {k: tuple(v[f] for f in figures) for k, v in got.items()} == {
        ("Mail", "net"): (1, 1, 0, None, None, 20.0, 1.0, 0, 1),
        ("Mail", "ops"): (2, 2, 0, None, None, 20.0, 3.0, 1, 0),
        ("Payroll", ""): (1, 0, 1, 22.0, 22.0, None, None, 0, 0),
        ("Payroll", "net"): (1, 0, 1, 24.0, 24.0, 60.0, None, 0, 0),
    }
    assert {f: totals[f] for f in figures} == dict(zip(figures, (5, 3, 2, 23.0, 24.0, 30.0, 2.33, 1, 1), strict=True))
    assert totals["major_incident_numbers"] == ["INC0000001"]


async def test_incidents_filtered_by_supplier(engine: AsyncEngine) -> None:
    rows, totals = await report(engine, "incidents", supplier_id=ACME)
    assert {k: v["opened"] for k, v in by(rows, "service_name", "assignment_group").items()} == {
        ("Mail", "net"): 1,  # INC3: on srv1
        ("Payroll", ""): 1,  # INC5: on Payroll
        ("Payroll", "net"): 1,  # INC4: assigned, on Payroll and srv1, once
        ("Payroll", "ops"): 1,  # INC6: assigned, on Payroll
    }
    assert (totals["opened"], totals["resolved"], totals["backlog"]) == (4, 2, 2)
    rows, totals = await report(engine, "incidents", supplier_id=GLOBEX)
    assert [(r["service_name"], r["assignment_group"], r["opened"]) for r in rows] == [("Mail", "net", 1)]


async def test_incidents_filtered_by_group(engine: AsyncEngine) -> None:
    _, totals = await report(engine, "incidents", group="ops")
    assert (totals["opened"], totals["mttr_hours"]) == (3, 3.33)  # INC1 2 h, INC2 4 h, INC6 4 h


async def test_requests_volume_and_fulfilment_times(engine: AsyncEngine) -> None:
    rows, totals = await report(engine, "requests")
    figures = (
        "submitted", "fulfilled", "open", "rejected", "cancelled",
        "avg_fulfilment_hours", "max_fulfilment_hours", "fulfilment_compliance_pct",
    )  # fmt: skip
    assert {k: tuple(v[f] for f in figures) for k, v in by(rows, "catalogue_item").items()} == {
        ("laptop",): (2, 2, 0, 0, 0, 15.0, 20.0, 50.0),
        ("mailbox",): (1, 0, 0, 1, 0, None, None, None),
    }
    assert tuple(totals[f] for f in figures) == (3, 2, 0, 1, 0, 15.0, 20.0, 50.0)


async def test_problems_known_errors_recurring_incidents_and_resolution_by_change(engine: AsyncEngine) -> None:
    rows, totals = await report(engine, "problems")
    names = {str(MAIL): "Mail", str(PAYROLL): "Payroll"}
    got = {names[r.pop("service_id")]: r for r in rows}
    assert got["Mail"] == {
        "opened": 1,
        "open": 0,
        "known_errors": 1,
        "resolved": 1,
        "resolved_by_change": 1,
        "from_recurrence": 1,
        "linked_incidents": 2,
        "recurring_incidents": 2,
    }
    assert got["Payroll"] == dict.fromkeys(got["Mail"], 0) | {"opened": 1, "open": 1}
    assert (totals["opened"], totals["open"], totals["recurring_incidents"]) == (2, 1, 2)


async def test_changes_by_type_success_rate_emergency_ratio_and_incidents_caused(engine: AsyncEngine) -> None:
    rows, totals = await report(engine, "changes")
    assert by(rows, "type") == {
        ("emergency",): {"changes": 1, "implemented": 0, "failed": 1, "backed_out": 1, "success_rate_pct": 0.0,
                         "incidents_caused": 0},
        ("normal",): {"changes": 2, "implemented": 1, "failed": 0, "backed_out": 0, "success_rate_pct": 100.0,
                      "incidents_caused": 0},
        ("standard",): {"changes": 1, "implemented": 1, "failed": 0, "backed_out": 0, "success_rate_pct": 100.0,
                        "incidents_caused": 1},
    }  # fmt: skip
    assert totals == {
        "changes": 4,
        "implemented": 2,
        "failed": 1,
        "backed_out": 1,
        "success_rate_pct": 66.67,
        "incidents_caused": 1,
        "emergency_changes": 1,
        "emergency_ratio_pct": 25.0,
    }
    _, mail = await report(engine, "changes", service_id=MAIL)
    assert (mail["changes"], mail["emergency_ratio_pct"], mail["success_rate_pct"]) == (2, 0.0, 100.0)


async def test_dora_per_service(engine: AsyncEngine) -> None:
    rows, totals = await report(engine, "dora", start=T0, end=T0 + 7 * D)
    got = {r.pop("service_name"): {k: v for k, v in r.items() if k != "service_id"} for r in rows}
    assert got == {
        "Mail": {"deployments": 2, "deployment_frequency_per_day": 0.286, "lead_time_hours": 27.0,
                 "change_failure_rate_pct": 50.0, "restores": 1, "time_to_restore_hours": 2.0},
        "Payroll": {"deployments": 1, "deployment_frequency_per_day": 0.0, "lead_time_hours": None,
                    "change_failure_rate_pct": 100.0, "restores": 0, "time_to_restore_hours": None},
    }  # fmt: skip
    assert (totals["deployments"], totals["lead_time_hours"], totals["change_failure_rate_pct"]) == (3, 27.0, 66.67)
    assert (totals["deployment_frequency_per_day"], totals["time_to_restore_hours"]) == (0.286, 2.0)


async def test_availability_from_outage_incidents_against_targets(engine: AsyncEngine) -> None:
    window = {"start": T0, "end": T0 + 7 * D}
    rows, totals = await report(engine, "availability", **window)
    got = by(rows, "service_name")
    assert got[("Mail",)] | {"service_id": None} == {
        "service_id": None,
        "window_hours": 168.0,
        "outages": 1,
        "downtime_minutes": 120.0,
        "availability_pct": 98.81,  # (10080 - 120) / 10080
        "target_pct": 99.5,
        "target_met": False,
    }
    assert (got[("Payroll",)]["downtime_minutes"], got[("Payroll",)]["availability_pct"]) == (8520.0, 15.476)
    assert (totals["outages"], totals["downtime_minutes"], totals["services_meeting_target"]) == (2, 8640.0, 0)
    rows, _ = await report(
        engine, "availability", availability_target=lambda s: 98.0 if s == str(MAIL) else 99.5, **window
    )
    assert {r["service_name"]: (r["target_pct"], r["target_met"]) for r in rows} == {
        "Mail": (98.0, True),
        "Payroll": (99.5, False),
    }


async def test_outages_over_the_threshold_without_an_investigation(engine: AsyncEngine) -> None:
    # INC1 (Mail, priority 1, major) was down T0 -> T0 + 2 h and no problem is linked to it; INC5
    # (Payroll, priority 1) is not resolved; INC2 and INC3 are linked to a problem but no outages.
    rows, totals = await report(engine, "outage-investigations", **OCT)
    assert rows == [
        {
            "incident_id": INC[1],
            "number": "INC0000001",
            "service_id": MAIL,
            "service_name": "Mail",
            "priority": 1,
            "major": True,
            "opened_at": T0,
            "resolved_at": T0 + 2 * H,
            "duration_minutes": 120.0,
        }
    ]
    assert totals == {
        "threshold_minutes": 60.0,
        "outages_over_threshold": 1,
        "investigated": 0,
        "without_investigation": 1,
    }
    # not longer than a 2-hour threshold; resolved outside the period; on another service
    assert (await report(engine, "outage-investigations", outage_threshold=2 * H, **OCT))[0] == []
    assert (await report(engine, "outage-investigations", start=T0 + 3 * H, end=T0 + 7 * D))[0] == []
    assert (await report(engine, "outage-investigations", service_id=PAYROLL, **OCT))[0] == []


async def test_cmdb_cis_by_type_and_status_with_unauthorised_changes(engine: AsyncEngine) -> None:
    rows, totals = await report(engine, "cmdb")
    assert by(rows, "type", "status") == {
        ("business_service", "active"): {"cis": 2, "critical": 0, "unauthorised_changes": 0},
        ("server", "in_use"): {"cis": 1, "critical": 1, "unauthorised_changes": 1},
        ("server", "retired"): {"cis": 1, "critical": 0, "unauthorised_changes": 0},
    }
    assert totals == {"cis": 4, "critical": 1, "unauthorised_changes": 1, "rejected_cmdb_updates": 1}


def _scorecard(**figures: Any) -> dict[str, Any]:
    return {
        "supplier_id": "",
        "supplier_name": "",
        "status": "active",
        "active_contracts": 1,
        "incidents": 0,
        "incidents_resolved": 0,
        "resolution_compliance_pct": None,
        "target_breaches": 0,
        "response_breaches": 0,
        "resolution_breaches": 0,
        "availability_breaches": 0,
        "change_success_breaches": 0,
        "open_disputes": 0,
    } | figures


ACME_CARD = _scorecard(
    supplier_id=str(ACME),
    supplier_name="Acme",
    incidents=4,  # INC4, INC6 assigned; INC3 on srv1, INC5 on Payroll (covered); INC4 once
    incidents_resolved=2,  # INC3, INC6
    resolution_compliance_pct=100.0,  # INC3, INC6 measured and met
    target_breaches=1,
    response_breaches=1,
    open_disputes=1,
)
GLOBEX_CARD = _scorecard(
    supplier_id=str(GLOBEX),
    supplier_name="Globex",
    active_contracts=1,  # drafted and activated at the same instant: active, not draft
    incidents=1,  # INC3; INC1 and INC2 were opened on Mail before its contract started
    incidents_resolved=1,
    resolution_compliance_pct=100.0,
)


async def test_supplier_scorecard(engine: AsyncEngine) -> None:
    rows, totals = await report(engine, "suppliers")
    assert rows == [ACME_CARD, GLOBEX_CARD]
    # INC3 counts toward both suppliers, once each.
    assert totals == {"suppliers": 2, "incidents": 5, "target_breaches": 1, "open_disputes": 1}


async def test_supplier_scorecard_filtered(engine: AsyncEngine) -> None:
    rows, totals = await report(engine, "suppliers", supplier_id=GLOBEX)
    assert rows == [GLOBEX_CARD]
    assert totals == {"suppliers": 1, "incidents": 1, "target_breaches": 0, "open_disputes": 0}
    rows, _ = await report(engine, "suppliers", supplier_id=ACME, **OCT)
    assert rows == [ACME_CARD | {"incidents": 3, "incidents_resolved": 1}]  # INC6 is in November
    rows, _ = await report(engine, "suppliers", service_id=MAIL)
    assert [(r["supplier_name"], r["incidents"], r["target_breaches"]) for r in rows] == [
        ("Acme", 1, 1),  # INC3 on srv1 (the breach is not per service)
        ("Globex", 1, 0),  # INC3 on Mail
    ]
    rows, _ = await report(engine, "suppliers", start=T0 + 5 * D, end=T0 + 6 * D)
    assert [(r["supplier_name"], r["incidents"], r["target_breaches"]) for r in rows] == [
        ("Acme", 0, 0),
        ("Globex", 0, 0),
    ]


async def test_hotspots_filtered_by_supplier(engine: AsyncEngine) -> None:
    rows, totals = await report(engine, "hotspots")
    srv1 = {
        "ci_id": str(SRV1),
        "ci_name": "srv1",
        "service_id": str(PAYROLL),  # the service of its latest incident, INC4
        "service_name": "Payroll",
        "incidents": 2,
        "open": 1,  # INC4
        "major": 0,
        "problems": 1,  # INC3 is linked to PRB0000001
        "recurring": 1,
        "last_opened_at": (T0 + D).isoformat(),
    }
    assert rows == [srv1]
    assert totals == {"cis": 1, "incidents_on_cis": 2, "incidents_without_ci": 4, "cis_with_recurrence": 1}
    rows, totals = await report(engine, "hotspots", supplier_id=ACME)
    assert rows == [srv1]
    assert totals["incidents_without_ci"] == 2  # INC5, INC6
    rows, totals = await report(engine, "hotspots", supplier_id=GLOBEX)
    assert rows == [
        srv1
        | {
            "service_id": str(MAIL),
            "service_name": "Mail",
            "incidents": 1,
            "open": 0,
            "last_opened_at": (T0 + 2 * H).isoformat(),
        }
    ]
    assert totals["incidents_without_ci"] == 0


async def test_events_at_the_same_instant_end_in_the_later_state_of_the_lifecycle(engine: AsyncEngine) -> None:
    k, i = tables.contract_facts, tables.incident_facts
    async with engine.connect() as conn:
        contract = (await conn.execute(select(k.c.status).where(k.c.contract_id == CONTRACT2))).scalar_one()
        incident = (await conn.execute(select(i.c.status).where(i.c.incident_id == INC[6]))).scalar_one()
    assert contract == "active"  # drafted and activated at once ("draft" > "active" as text)
    assert incident == "closed"  # resolved and closed at once ("resolved" > "closed" as text)


async def test_workload_per_group_and_day(engine: AsyncEngine) -> None:
    rows, totals = await report(engine, "workload")
    figures = (
        "incidents_opened", "incidents_resolved", "requests_submitted", "requests_fulfilled",
        "reassignments", "escalations",
    )  # fmt: skip
    assert {k: tuple(v[f] for f in figures) for k, v in by(rows, "period", "assignment_group").items()} == {
        ("2026-10-05", "desk"): (0, 0, 3, 2, 0, 0),
        ("2026-10-05", "net"): (1, 1, 0, 0, 1, 0),
        ("2026-10-05", "ops"): (2, 2, 0, 0, 0, 1),
        ("2026-10-06", ""): (1, 0, 0, 0, 0, 0),
        ("2026-10-06", "net"): (1, 0, 0, 0, 0, 0),
        ("2026-11-02", "ops"): (1, 1, 0, 0, 0, 0),
    }
    assert tuple(totals[f] for f in figures) == (6, 4, 3, 2, 1, 1)


SATISFACTION = (
    "surveys_issued", "answered", "response_rate_pct", "average_score", "satisfied_pct", "low_score_complaints",
    "complaints",
)  # fmt: skip


async def test_satisfaction_per_service_then_per_caller(engine: AsyncEngine) -> None:
    rows, totals = await report(engine, "satisfaction")
    got = [(r["scope"], r["service_name"], r["respondent"], *(r[k] for k in SATISFACTION)) for r in rows]
    services = sorted([("Mail", 2, 2, 100.0, 3.5, 50.0, 1, 1), ("Payroll", 1, 0, 0.0, None, None, 0, 1)],
                      key=lambda r: str(MAIL if r[0] == "Mail" else PAYROLL))  # fmt: skip
    assert got == [
        *(("service", name, "", *figures) for name, *figures in services),
        ("caller", "", "carol", 2, 1, 50.0, 5.0, 100.0, 0, 0),
        ("caller", "", "dan", 1, 1, 100.0, 2.0, 0.0, 1, 1),
        ("caller", "", "erin", 0, 0, None, None, None, 0, 1),
    ]
    assert {r["service_id"] for r in rows if r["scope"] == "service"} == {str(MAIL), str(PAYROLL)}
    assert tuple(totals[k] for k in SATISFACTION) == (3, 2, 66.67, 3.5, 50.0, 1, 2)

    # One service; a period that leaves out what came after the first day.
    mail, _ = await report(engine, "satisfaction", service_id=MAIL, end=T0 + D)
    assert [(r["scope"], r["respondent"], r["surveys_issued"], r["complaints"]) for r in mail] == [
        ("service", "", 2, 1),
        ("caller", "carol", 1, 0),
        ("caller", "dan", 1, 1),
    ]
    later, later_totals = await report(engine, "satisfaction", start=T0 + D)
    assert later_totals["surveys_issued"] == 1 and later_totals["complaints"] == 1
    assert [r["service_name"] for r in later if r["scope"] == "service"] == ["Payroll"]


async def test_customer_service_levels_against_the_sla_in_force(engine: AsyncEngine) -> None:
    rows, totals = await report(engine, "customer-service-levels")
    columns = ("customer_id", "customer_name", "agreement_number", "document_version", "availability_target_pct")
    columns += ("incidents", "response_measured", "response_met", "resolution_measured", "resolution_met")
    columns += ("response_met_pct", "resolution_met_pct")
    # Only Acme: the OLA has no customer; v2 (99.9%) superseded v1; incidents 1 and 2 are Acme's.
    assert [tuple(r[c] for c in columns) for r in rows] == [
        (str(CUSTOMER), "Acme Corp", "SLA0000001", 2, 99.9, 2, 2, 2, 2, 1, 100.0, 50.0)
    ]
    assert totals["incidents"] == 2 and totals["resolution_met_pct"] == 50.0
    first, _ = await report(engine, "customer-service-levels", end=T0 + 30 * M)
    assert [(r["incidents"], r["resolution_met"], r["resolution_met_pct"]) for r in first] == [(1, 1, 100.0)]
    other, other_totals = await report(engine, "customer-service-levels", service_id=PAYROLL)
    assert [(r["customer_name"], r["incidents"], r["resolution_met_pct"]) for r in other] == [("Acme Corp", 0, None)]
    assert other_totals["incidents"] == 0


async def test_capacity_utilisation_runway_and_performance_incidents(engine: AsyncEngine) -> None:
    rows, totals = await report(engine, "capacity")
    columns = ("ci_name", "metric", "level", "value", "utilisation_pct", "runway_days", "breaches")
    columns += ("critical_breaches", "last_breached_at", "performance_incidents")
    picked = [tuple(r[c] for c in columns) for r in rows]
    assert picked == [
        # srv1's disk: warning (3 days), critical, back to warning: the runway of its warning breach
        ("srv1", "disk", "warning", 0.85, 94.4, 3.0, 2, 1, T0 + 2 * H, 1),
        # srv1's cpu: warning with no forecast; i3 (category capacity) is on srv1
        ("srv1", "cpu", "warning", 0.81, 90.0, None, 1, 0, T0 + 90 * M, 1),
        # srv2's disk: warning, then cleared to ok
        ("srv2", "disk", "ok", 0.5, 55.6, None, 1, 0, T0 + H, 0),
    ]
    assert totals == {"critical": 0, "warning": 2, "performance_incidents": 1}
    later, later_totals = await report(engine, "capacity", start=T0 + 3 * H)
    assert [r["performance_incidents"] for r in later] == [0, 0, 0] and later_totals["performance_incidents"] == 0
    assert await report(engine, "capacity", service_id=MAIL) == (
        [],
        {"critical": 0, "warning": 0, "performance_incidents": 1},
    )


async def test_every_defined_report_is_covered_here() -> None:
    tested = {"service-levels", "incidents", "requests", "problems", "changes", "dora", "availability", "cmdb"}
    tested |= {"suppliers", "workload"}
    # Hot spots: two incidents on one CI here; hand-counted answers over more in
    # tests/reporting/integration/test_report_aggregates.py and in the dashboard's browser test.
    tested |= {"hotspots"}
    # The significant events (6.2 b): hand-computed rows in tests/reporting/api/test_significant_events.py.
    tested |= {"significant-events"}
    tested |= {"satisfaction"}
    tested |= {"capacity"}
    # Continuity (6.3.3): hand-computed rows in tests/reporting/api/test_continuity_report.py.
    tested |= {"continuity"}
    tested |= {"customer-service-levels"}
    # Costs (6.4): hand-computed rows in tests/reporting/api/test_cost_report.py.
    tested |= {"costs"}
    # The cost of changes (6.4): hand-computed rows in tests/reporting/api/test_change_cost_report.py.
    tested |= {"change-costs"}
    # Outages without an investigation (6.3): the one here above, and with an investigated outage
    # in tests/reporting/unit/test_outage_investigation_rows.py.
    tested |= {"outage-investigations"}
    assert {d.name for d in DEFINITIONS} == tested


async def test_rebuild_from_the_log_gives_identical_projections(
    engine: AsyncEngine, database: Callable[[str], Awaitable[str]]
) -> None:
    async with engine.connect() as conn:
        before = await store.projection_snapshot(conn)
    assert sum(len(rows) for rows in before.values()) > 30
    assert all(before.values()), [name for name, rows in before.items() if not rows]
    result = await usecases.rebuild(UnitOfWork(engine, tables.outbox, source="/itsm/reporting"), batch_size=7)
    assert result.events == len(all_events())
    async with engine.connect() as conn:
        after = await store.projection_snapshot(conn)
    assert after == before
    # The same events in another order, into another database, give the same projections too.
    other = create_engine(await database("known_other"))
    try:
        await load(other, seed=11)
        async with other.connect() as conn:
            assert await store.projection_snapshot(conn) == before
    finally:
        await other.dispose()
