"""The reports aggregate in SQL: on PostgreSQL and SQLite they must give what the former Python
code gave from the fact rows (tests/reporting/reference.py), and the edge cases of grouping in
SQL must hold: NULL and "" shown as one "", empty selections, incidents without a CI, ties at the
hot spots' cut, filters combined. The daily service-level figures (kept by triggers) must equal
what the incident facts give, through changes, deletes and merges.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.domain import figures
from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store import cmdb, tables
from services.reporting.store import service_levels as store
from services.reporting.usecases import projections
from services.reporting.usecases import reports as usecases
from shared.db import create_engine
from shared.uow import UnitOfWork
from tests.infra import Servers
from tests.reporting import reference
from tests.reporting.databases import BACKENDS, reporting_database

pytestmark = pytest.mark.asyncio(loop_scope="session")

T = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
NOW = T + timedelta(days=60)
D = timedelta(days=1)
H = timedelta(hours=1)


def uid(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"itsm-test/aggregates/{name}")


SERVICES = [uid("svc-a"), uid("svc-b"), uid("svc-c")]
SUPPLIERS = [uid("sup-a"), uid("sup-b")]
CIS = [uid(f"ci-{n}") for n in range(120)]
PROBLEMS = [uid(f"prb-{n}") for n in range(6)]
CHANGES = [uid(f"chg-{n}") for n in range(40)]
INCIDENT_STATUS = [None, "new", "assigned", "in_progress", "on_hold", "resolved", "closed", "cancelled"]


def _stamped(row: dict[str, Any]) -> dict[str, Any]:
    return row | {"updated_at": NOW, "updated_event": "test"}


def random_facts(seed: int) -> dict[str, list[dict[str, Any]]]:
    """Every kind of value the reports group and count, NULLs included; times to the microsecond."""
    rng = random.Random(seed)

    def moment(days: int = 50) -> datetime:
        return T + timedelta(seconds=rng.randint(0, days * 86400), microseconds=rng.randint(0, 999_999))

    def maybe(value: Any, p_none: float = 0.1) -> Any:
        return None if rng.random() < p_none else value

    def after(start: datetime | None, hours: int) -> datetime | None:
        if start is None or rng.random() < 0.2:
            return None
        return start + timedelta(seconds=rng.randint(1, hours * 3600), microseconds=rng.randint(0, 999_999))

    cis = []
    for n, ci in enumerate(CIS):
        name = rng.choice([f"host-{n:03d}", f"host-{n:03d}", None, ""])  # None and "": shown by id
        cis.append(
            {
                "ci_id": ci,
                "name": name,
                "type": maybe(rng.choice(["server", "database", "business_service"])),
                "status": maybe(rng.choice(["in_use", "retired", "active"])),
                "criticality": maybe(rng.randint(1, 3)),
                "service_id": maybe(rng.choice(SERVICES)),
                "supplier_id": maybe(rng.choice(SUPPLIERS), 0.6),
            }
        )
    cis += [
        {"ci_id": s, "name": f"Service {s.hex[:4]}", "type": "business_service", "status": "active"} for s in SERVICES
    ]
    incidents = []
    for n in range(700):
        opened = maybe(moment(), 0.03)
        status = rng.choice(INCIDENT_STATUS)
        resolved = after(opened, 30) if status in ("resolved", "closed") or rng.random() < 0.05 else None
        linked = rng.random() < 0.2
        incidents.append(
            {
                "incident_id": uuid.UUID(int=rng.getrandbits(128)),
                "number": f"INC{n:07d}",
                "status": status,
                "priority": maybe(rng.randint(1, 5)),
                "service_id": maybe(rng.choice(SERVICES)),
                "assignment_group": rng.choice(["ops", "net", "", None]),
                "ci_id": maybe(CIS[int(len(CIS) * rng.random() ** 2)], 0.2),
                "supplier_id": maybe(rng.choice(SUPPLIERS), 0.7),
                "major": rng.choice([None, False, False, True]),
                "opened_at": opened,
                "first_response_at": after(opened, 2),
                "resolved_at": resolved,
                "reassignments": rng.randint(0, 3),
                "escalations": rng.randint(0, 2),
                "problem_id": rng.choice(PROBLEMS) if linked else None,
                "problem_link_reason": rng.choice(["recurrence", "manual", None]) if linked else None,
                "response_met": rng.choice([None, True, False]),
                "resolution_met": rng.choice([None, True, False]),
                "response_breached": rng.choice([None, None, True]),
                "resolution_breached": rng.choice([None, None, True]),
            }
        )
    requests = []
    for n in range(250):
        submitted = maybe(moment(), 0.03)
        requests.append(
            {
                "request_id": uuid.UUID(int=rng.getrandbits(128)),
                "number": f"REQ{n:07d}",
                "catalogue_item": rng.choice(["laptop", "phone", "", None]),
                "status": rng.choice([None, "submitted", "fulfilled", "closed", "rejected", "cancelled"]),
                "priority": maybe(rng.randint(3, 5)),
                "service_id": maybe(rng.choice(SERVICES)),
                "assignment_group": rng.choice(["ops", "desk", "", None]),
                "submitted_at": submitted,
                "fulfilled_at": after(submitted, 60),
                "fulfilment_met": rng.choice([None, True, False]),
                "fulfilment_breached": rng.choice([None, None, True]),
            }
        )
    problems = [
        {
            "problem_id": p,
            "number": f"PRB{n:07d}",
            "status": rng.choice([None, "new", "known_error", "resolved", "closed"]),
            "service_id": maybe(rng.choice(SERVICES)),
            "origin": rng.choice(["recurrence", "manual", None]),
            "opened_at": maybe(moment()),
            "known_error_at": maybe(moment(), 0.5),
            "change_id": maybe(rng.choice(CHANGES), 0.5),
            "incident_count": maybe(rng.randint(1, 9)),
        }
        for n, p in enumerate(PROBLEMS)
    ]
    changes, change_services = [], []
    for n, c in enumerate(CHANGES):
        created = maybe(moment())
        done = after(created, 200)
        failed = rng.random() < 0.2
        changes.append(
            {
                "change_id": c,
                "number": f"CHG{n:07d}",
                "type": maybe(rng.choice(["standard", "normal", "emergency"])),
                "created_at": created,
                "implemented_at": done if not failed or rng.random() < 0.3 else None,
                "failed_at": done if failed else None,
                "backed_out": rng.choice([None, True, False]),
            }
        )
        change_services += [{"change_id": c, "service_id": s} for s in rng.sample(SERVICES, rng.randint(0, 2))]
    caused = [
        {"change_id": rng.choice(CHANGES), "incident_id": i["incident_id"], "service_id": i["service_id"]}
        for i in rng.sample(incidents, 25)
    ]
    deployments = [
        {
            "deployment_id": uuid.UUID(int=rng.getrandbits(128)),
            "service_id": maybe(rng.choice(SERVICES)),
            "environment": rng.choice(["production", "prod", "staging", None]),
            "result": rng.choice(["succeeded", "failed", "rolled_back", "in_progress", None]),
            "change_id": maybe(rng.choice(CHANGES), 0.3),
            "finished_at": maybe(moment()),
        }
        for _ in range(80)
    ]
    findings = [
        {
            "finding_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "kind": rng.choice(["unauthorised_change", "unauthorised_change", "cmdb_update_rejected", None]),
            "ci_id": maybe(rng.choice([*CIS[:20], uid("not-a-known-ci")])),
            "detected_at": maybe(moment()),
        }
        for _ in range(40)
    ]
    return {
        "ci_facts": cis,
        "incident_facts": incidents,
        "request_facts": requests,
        "problem_facts": problems,
        "change_facts": changes,
        "change_service_facts": change_services,
        "change_incident_facts": caused,
        "deployment_facts": deployments,
        "cmdb_finding_facts": findings,
    }


async def insert_facts(engine: AsyncEngine, facts: dict[str, list[dict[str, Any]]]) -> None:
    async with engine.begin() as conn:
        for name, rows in facts.items():
            table: Table = tables.FACTS[name]
            for row in rows:  # one at a time: the rows do not all name the same columns
                await conn.execute(insert(table).values(_stamped(row)))


async def read_facts(engine: AsyncEngine) -> dict[str, list[Any]]:
    async with engine.connect() as conn:
        return {name: [r._mapping for r in await conn.execute(select(t))] for name, t in tables.FACTS.items()}


@pytest.fixture(scope="module", params=BACKENDS)
def database(
    request: pytest.FixtureRequest, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Awaitable[str]]:
    return lambda label: reporting_database(request.param, servers, tmp_path_factory, label)


@pytest.fixture(scope="module")
async def random_engine(database: Callable[[str], Awaitable[str]]) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(await database("aggregates"))
    await insert_facts(engine, random_facts(seed=3))
    yield engine
    await engine.dispose()


async def produce(engine: AsyncEngine, name: str, filters: ReportFilters) -> tuple[list[Any], dict[str, Any]]:
    async with engine.connect() as conn:
        report = await usecases.produce(conn, name, filters, now=NOW)
    for row in report.rows:
        assert list(row) == list(report.definition.columns), name
    json.dumps(report.as_json())  # plain numbers (no Decimal from a PostgreSQL sum)
    return report.rows, report.totals


FILTERS = {
    "none": ReportFilters(),
    "period": ReportFilters(start=T + 10 * D, end=T + 40 * D),
    "service": ReportFilters(service_id=SERVICES[0]),
    "group": ReportFilters(group="ops"),
    "empty group": ReportFilters(group=""),
    "priority": ReportFilters(priority=2),
    "supplier": ReportFilters(supplier_id=SUPPLIERS[1]),
    "combined, by week": ReportFilters(
        start=T + 5 * D, end=T + 45 * D, service_id=SERVICES[1], group="net", priority=3, period="week"
    ),
    "period and supplier, by month": ReportFilters(start=T, end=T + 35 * D, supplier_id=SUPPLIERS[0], period="month"),
    "nothing matches": ReportFilters(service_id=uid("no-such-service")),
}
COMPARED = ("incidents", "hotspots", "workload", "requests", "problems", "changes", "cmdb")


@pytest.mark.parametrize("case", FILTERS)
async def test_the_sql_aggregates_equal_the_former_figures_from_every_row(
    random_engine: AsyncEngine, case: str
) -> None:
    filters = FILTERS[case]
    facts = await read_facts(random_engine)
    for name in COMPARED:
        rows, totals = await produce(random_engine, name, filters)
        expected_rows, expected_totals = reference.report(name, facts, filters, NOW)
        assert rows == expected_rows, f"{name}, {case}"
        assert totals == expected_totals, f"{name}, {case}"


def _window(filters: ReportFilters) -> figures.Window:
    end = filters.end or NOW
    return figures.Window(start=filters.start or end - usecases.DEFAULT_WINDOW, end=end)


@pytest.mark.parametrize("case", ["none", "period", "service", "nothing matches"])
async def test_availability_and_dora_read_only_the_rows_they_need_and_give_the_same_figures(
    random_engine: AsyncEngine, case: str
) -> None:
    filters = FILTERS[case]
    facts = await read_facts(random_engine)
    window, wanted = _window(filters), filters.service_id
    names = {str(c["ci_id"]): str(c["name"]) for c in facts["ci_facts"] if c["name"] is not None}
    outages = [
        i
        for i in facts["incident_facts"]
        if i["opened_at"] is not None
        and i["service_id"] is not None
        and (i["priority"] == 1 or i["major"] is True)
        and (wanted is None or i["service_id"] == wanted)
    ]
    services = [
        str(c["ci_id"])
        for c in facts["ci_facts"]
        if c["type"] in cmdb.SERVICE_TYPES and c["status"] != "retired" and (wanted is None or c["ci_id"] == wanted)
    ]
    expected = figures.availability_report(window, outages, services, names, lambda _: 99.5)
    assert await produce(random_engine, "availability", filters) == expected
    change_services: dict[str, set[str]] = defaultdict(set)
    for s in facts["change_service_facts"]:
        if wanted is None or s["service_id"] == wanted:
            change_services[str(s["change_id"])].add(str(s["service_id"]))
    expected = figures.dora_report(
        window,
        [d for d in facts["deployment_facts"] if wanted is None or d["service_id"] == wanted],
        reference.changes(facts["change_facts"], facts["change_service_facts"], ReportFilters(service_id=wanted)),
        change_services,
        {str(x["change_id"]) for x in facts["change_incident_facts"]},
        outages,
        names,
    )
    assert await produce(random_engine, "dora", filters) == expected


# Hand-counted cases, each on its own supplier (the filter that keeps them apart)

CASES = {name: uid(f"case-{name}") for name in ("hotspots", "ties", "keys", "no-ci")}
T1 = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)  # a Monday, before NOW
DB, WEB, VPN, EMAIL, PORTAL = uid("ci-db"), uid("ci-web"), uid("ci-vpn"), uid("svc-email"), uid("svc-portal")
P1, P2 = uid("p1"), uid("p2")


def _incident(case: str, ci: uuid.UUID | None, hours: float, **more: Any) -> dict[str, Any]:
    return {
        "incident_id": uuid.uuid4(),
        "number": f"INC{random.randrange(10**7):07d}",
        "supplier_id": CASES[case],
        "ci_id": ci,
        "service_id": PORTAL,
        "opened_at": T1 + timedelta(hours=hours),
        "status": "closed",
        "major": False,
    } | more


def cases() -> dict[str, list[dict[str, Any]]]:
    names = [(DB, "orders-db"), (WEB, "portal-web"), (VPN, "vpn"), (EMAIL, "Email"), (PORTAL, "Customer portal")]
    ties = [uid(f"tie-{n}") for n in range(60)]
    nowhere: dict[str, Any] = {"service_id": None, "assignment_group": None}
    incidents = [
        _incident("hotspots", DB, 1, problem_id=P1, problem_link_reason="recurrence"),
        _incident("hotspots", DB, 5, status="in_progress", problem_id=P1, problem_link_reason="recurrence"),
        _incident("hotspots", DB, 9, status="new", major=True, service_id=EMAIL),
        _incident("hotspots", WEB, 2),
        _incident("hotspots", WEB, 3, problem_id=P2, problem_link_reason="manual"),
        _incident("hotspots", VPN, 4, status="resolved"),
        _incident("hotspots", None, 6),
        # 60 CIs with one incident each: the cut at 50 goes by name.
        *(_incident("ties", ci, n) for n, ci in enumerate(ties)),
        # No service, no group and an empty group: one row ("", ""); its backlog of two.
        _incident("keys", None, 0, **nowhere, status=None, first_response_at=T1 + timedelta(minutes=30)),
        _incident("keys", None, 1, **nowhere | {"assignment_group": ""}, status="new", reassignments=2),
        _incident("keys", None, 2, **nowhere | {"assignment_group": ""}, status="resolved", resolved_at=T1 + 5 * H),
        _incident("no-ci", None, 1),
        _incident("no-ci", None, 2),
    ]  # fmt: skip
    cis = [{"ci_id": ci, "name": name} for ci, name in names]
    cis += [{"ci_id": ci, "name": f"host-{59 - n:02d}"} for n, ci in enumerate(ties)]
    return {"ci_facts": cis, "incident_facts": incidents}


@pytest.fixture(scope="module")
async def cases_engine(database: Callable[[str], Awaitable[str]]) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(await database("cases"))
    await insert_facts(engine, cases())
    yield engine
    await engine.dispose()


async def test_hot_spots_rank_cis_count_open_major_and_problems_and_name_the_latest_service(
    cases_engine: AsyncEngine,
) -> None:
    rows, totals = await produce(cases_engine, "hotspots", ReportFilters(supplier_id=CASES["hotspots"]))
    assert [(r["ci_name"], r["incidents"]) for r in rows] == [("orders-db", 3), ("portal-web", 2), ("vpn", 1)]
    db = rows[0]
    assert (db["open"], db["major"], db["problems"], db["recurring"]) == (2, 1, 1, 2)
    assert (db["service_id"], db["service_name"]) == (str(EMAIL), "Email")  # the service of its latest incident
    assert db["last_opened_at"] == (T1 + timedelta(hours=9)).isoformat()
    assert rows[1]["problems"] == 1 and rows[1]["recurring"] == 0
    assert rows[2]["open"] == 0  # resolved counts as no longer open
    assert totals == {"cis": 3, "incidents_on_cis": 6, "incidents_without_ci": 1, "cis_with_recurrence": 1}


async def test_hot_spots_keep_the_top_fifty_and_break_ties_by_name(cases_engine: AsyncEngine) -> None:
    rows, totals = await produce(cases_engine, "hotspots", ReportFilters(supplier_id=CASES["ties"]))
    assert len(rows) == 50 and totals["cis"] == 60 and totals["incidents_on_cis"] == 60
    assert [r["ci_name"] for r in rows] == [f"host-{n:02d}" for n in range(50)]
    assert totals["cis_with_recurrence"] == 0


async def test_incidents_without_a_ci_are_counted_when_no_incident_has_one(cases_engine: AsyncEngine) -> None:
    rows, totals = await produce(cases_engine, "hotspots", ReportFilters(supplier_id=CASES["no-ci"]))
    assert rows == []
    assert totals == {"cis": 0, "incidents_on_cis": 0, "incidents_without_ci": 2, "cis_with_recurrence": 0}


async def test_no_service_and_no_or_an_empty_group_are_one_row(cases_engine: AsyncEngine) -> None:
    rows, totals = await produce(cases_engine, "incidents", ReportFilters(supplier_id=CASES["keys"]))
    assert [(r["service_id"], r["service_name"], r["assignment_group"]) for r in rows] == [("", "", "")]
    row = rows[0]
    assert (row["opened"], row["resolved"], row["backlog"], row["reassignments"]) == (3, 1, 2, 2)
    # Backlog: the one without a status and the new one; their mean age and the oldest, as of NOW.
    ages = [(NOW - (T1 + timedelta(hours=h))).total_seconds() / 3600 for h in (0, 1)]
    assert row["backlog_avg_age_hours"] == round(sum(ages) / 2, 2)
    assert row["backlog_oldest_age_hours"] == round(max(ages), 2)
    assert (row["mtta_minutes"], row["mttr_hours"]) == (30.0, 3.0)
    assert totals["opened"] == 3 and totals["major_incident_numbers"] == []
    rows, totals = await produce(cases_engine, "workload", ReportFilters(supplier_id=CASES["keys"]))
    assert [(r["period"], r["assignment_group"], r["incidents_opened"]) for r in rows] == [("2026-03-23", "", 3)]


@pytest.mark.parametrize("name", ["incidents", "hotspots", "workload", "requests", "problems", "changes", "cmdb"])
async def test_a_selection_of_nothing_gives_no_rows_and_empty_totals(cases_engine: AsyncEngine, name: str) -> None:
    nothing = ReportFilters(service_id=uid("no-such-service"), supplier_id=uid("no-such-supplier"))
    rows, totals = await produce(cases_engine, name, nothing)
    expected: dict[str, Sequence[Any] | dict[str, Any]] = {
        "incidents": {
            "opened": 0, "resolved": 0, "backlog": 0, "backlog_avg_age_hours": None,
            "backlog_oldest_age_hours": None, "mtta_minutes": None, "mttr_hours": None, "major_incidents": 0,
            "reassignments": 0, "major_incident_numbers": [],
        },
        "hotspots": {"cis": 0, "incidents_on_cis": 0, "incidents_without_ci": 0, "cis_with_recurrence": 0},
        "workload": {},
        "requests": {
            "submitted": 0, "fulfilled": 0, "open": 0, "rejected": 0, "cancelled": 0, "avg_fulfilment_hours": None,
            "max_fulfilment_hours": None, "fulfilment_compliance_pct": None,
        },
        "problems": {
            "opened": 0, "open": 0, "known_errors": 0, "resolved": 0, "resolved_by_change": 0, "from_recurrence": 0,
            "linked_incidents": 0, "recurring_incidents": 0,
        },
        "changes": {
            "changes": 0, "implemented": 0, "failed": 0, "backed_out": 0, "success_rate_pct": None,
            "incidents_caused": 0, "emergency_changes": 0, "emergency_ratio_pct": None,
        },
        "cmdb": {"cis": 0, "critical": 0, "unauthorised_changes": 0, "rejected_cmdb_updates": 0},
    }  # fmt: skip
    assert rows == []
    assert totals == expected[name]


# The daily service-level figures (kept by triggers) against the incident facts


async def service_levels_both_ways(engine: AsyncEngine, filters: ReportFilters) -> tuple[list[Any], list[Any]]:
    def ordered(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(groups, key=lambda g: (g["period"], str(g["service_id"]), g["priority"]))

    async with engine.connect() as conn:
        by_day = await store.service_level_groups(conn, filters)
        from_facts = await store.service_level_fact_groups(conn, filters)
    return ordered(by_day), ordered(from_facts)


DAILY = {
    "none": ReportFilters(),
    "period by day": ReportFilters(start=T + 10 * D, end=T + 40 * D, period="day"),
    "service by week": ReportFilters(service_id=SERVICES[0], period="week"),
    "priority and period": ReportFilters(priority=2, start=T + 3 * D, end=T + 33 * D),
    "nothing": ReportFilters(service_id=uid("no-such-service")),
}


async def change_incidents(engine: AsyncEngine, seed: int) -> None:
    """Move incidents between days, services and priorities, change their results, delete some."""
    rng = random.Random(seed)
    i = tables.incident_facts
    async with engine.begin() as conn:
        ids = list((await conn.execute(select(i.c.incident_id, i.c.opened_at))).all())
        for incident_id, opened_at in rng.sample(ids, 150):
            change = rng.choice(["service", "priority", "opened", "results", "delete", "nothing"])
            where = i.c.incident_id == incident_id
            if change == "delete":
                await conn.execute(i.delete().where(where))
                continue
            values: dict[str, Any] = {
                "service": {"service_id": rng.choice([*SERVICES, None])},
                "priority": {"priority": rng.choice([1, 2, 3, None])},
                "opened": {"opened_at": None if opened_at is None else opened_at + rng.choice([-3, 1, 9]) * D},
                "results": {
                    "response_met": rng.choice([True, False, None]),
                    "resolution_met": rng.choice([True, None]),
                    "resolution_breached": rng.choice([True, None]),
                },
                "nothing": {"number": "INC-renamed"},  # no change the daily figures watch
            }[change]
            await conn.execute(i.update().where(where).values(values))


async def test_the_daily_service_level_figures_equal_the_incident_facts_through_changes_and_merges(
    random_engine: AsyncEngine,
) -> None:
    assert store.service_levels_by_day(ReportFilters(start=T, end=T + D))
    for name, filters in DAILY.items():
        by_day, from_facts = await service_levels_both_ways(random_engine, filters)
        assert by_day == from_facts, name
    await change_incidents(random_engine, seed=5)
    async with random_engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables.service_level_day_change)) > 0
    for name, filters in DAILY.items():
        by_day, from_facts = await service_levels_both_ways(random_engine, filters)
        assert by_day == from_facts, name

    # Merged once, merged again after more changes: the same figures, no change rows left.
    def unit_of_work() -> UnitOfWork:
        return UnitOfWork(random_engine, tables.outbox, source="/itsm/reporting")

    await projections.compact_service_level_days(unit_of_work)
    await change_incidents(random_engine, seed=6)
    merged = await projections.compact_service_level_days(unit_of_work)
    assert merged > 0
    async with random_engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables.service_level_day_change)) == 0
    for name, filters in DAILY.items():
        by_day, from_facts = await service_levels_both_ways(random_engine, filters)
        assert by_day == from_facts, name
        assert (name == "nothing") == (by_day == [])


async def test_a_group_a_supplier_or_a_time_of_day_takes_the_incident_facts() -> None:
    assert not store.service_levels_by_day(ReportFilters(group="ops"))
    assert not store.service_levels_by_day(ReportFilters(supplier_id=SUPPLIERS[0]))
    assert not store.service_levels_by_day(ReportFilters(start=T + 9 * H))
    assert not store.service_levels_by_day(ReportFilters(service_id=tables.NO_SERVICE))
    assert store.service_levels_by_day(ReportFilters(start=T, end=T + D, service_id=SERVICES[0], priority=1))
