"""The costs report (ISO/IEC 20000-1 6.4: budget against actual per service and period) against the
data set of tests/reporting/dataset.py (`costs()`), with hand-computed figures, on PostgreSQL and on
SQLite; rebuilt from the event log; through the report API as JSON (money as strings) and CSV.

The report is produced on 2026-10-07 (NOW): of October's 31 days 7 have elapsed, so a forecast is
actual x 31 / 7, rounded half to even to the cent.

Mail, October (budget licence 1000.00, personnel 3000.00):
  licence    actual 700.00 (FIN-001; FIN-005 of 09-30 and FIN-006 of 10-08 are not counted)
             forecast 700.00 x 31 / 7 = 3100.00
  shared     actual 66.67 (its part of FIN-003), no budget line: over; forecast 295.2528... = 295.25
  personnel  actual 1000.10, forecast 4429.0142... = 4429.01
  service    budget 4000.00, actual 1766.77, variance -2233.23, forecast 7824.26: at risk
Payroll, October (budget asset 500.00, external 1200.00):
  asset      actual 0.00, forecast 0.00: within
  shared     actual 33.34 (its part of FIN-003): over; forecast 147.6485... = 147.65
  external   actual 1300.00 - 150.00 (the correction FIN-004-C) = 1150.00: within the budget (it
             would be over without the correction), forecast 5092.857... = 5092.86: at risk
  service    budget 1700.00, actual 1183.34, variance -516.66, forecast 5240.51: at risk
Payroll, November (budget opex 800.00): FIN-007 (11-02) is after the report's day: actual 0.00,
  forecast 0.00 (the period has not started): within.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.app import create_app
from services.reporting.settings import ReportingSettings
from services.reporting.store import projections as store
from services.reporting.store import tables
from services.reporting.usecases import projections, reports
from shared import clock
from shared.db import create_engine
from shared.uow import UnitOfWork
from tests.conftest import running
from tests.infra import Servers
from tests.reporting.databases import BACKENDS, project_dataset, reporting_database
from tests.reporting.databases import produce as produce_report
from tests.reporting.dataset import MAIL, NOW, PAYROLL, T0, D, M, all_events

pytestmark = pytest.mark.asyncio(loop_scope="session")
Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module", params=BACKENDS)
def database(
    request: pytest.FixtureRequest, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Awaitable[str]]:
    return lambda label: reporting_database(request.param, servers, tmp_path_factory, label)


@pytest.fixture(scope="module")
async def url(database: Callable[[str], Awaitable[str]]) -> str:
    return await project_dataset(await database("costs"), seed=64)


@pytest.fixture(scope="module")
async def engine(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url)
    yield engine
    await engine.dispose()


async def produce(engine: AsyncEngine, **filters: Any) -> reports.Report:
    return await produce_report(engine, "costs", **filters)


def money(text: str) -> Decimal:
    return Decimal(text)


def row(period: str, service: Any, name: str, scope: str, category: str | None, *figures: str, status: str) -> dict:
    budget, actual, variance, forecast, forecast_variance = (money(f) for f in figures)
    end = {"2026-10-01": "2026-10-31", "2026-11-01": "2026-11-30"}[period]
    return {
        "period_start": period,
        "period_end": end,
        "service_id": str(service),
        "service_name": name,
        "scope": scope,
        "category": category,
        "currency": "EUR",
        "budget": budget,
        "actual": actual,
        "variance": variance,
        "forecast": forecast,
        "forecast_variance": forecast_variance,
        "status": status,
    }


OCT, NOV = "2026-10-01", "2026-11-01"
MAIL_OCT = [
    row(OCT, MAIL, "Mail", "service", None, "4000.00", "1766.77", "-2233.23", "7824.26", "3824.26", status="at_risk"),
    row(
        OCT, MAIL, "Mail", "category", "licence", "1000.00", "700.00", "-300.00", "3100.00", "2100.00", status="at_risk"
    ),
    row(OCT, MAIL, "Mail", "category", "shared", "0.00", "66.67", "66.67", "295.25", "295.25", status="over"),
    row(
        OCT,
        MAIL,
        "Mail",
        "category",
        "personnel",
        "3000.00",
        "1000.10",
        "-1999.90",
        "4429.01",
        "1429.01",
        status="at_risk",
    ),
]
PAYROLL_OCT = [
    row(
        OCT,
        PAYROLL,
        "Payroll",
        "service",
        None,
        "1700.00",
        "1183.34",
        "-516.66",
        "5240.51",
        "3540.51",
        status="at_risk",
    ),
    row(OCT, PAYROLL, "Payroll", "category", "asset", "500.00", "0.00", "-500.00", "0.00", "-500.00", status="within"),
    row(OCT, PAYROLL, "Payroll", "category", "shared", "0.00", "33.34", "33.34", "147.65", "147.65", status="over"),
    row(
        OCT,
        PAYROLL,
        "Payroll",
        "category",
        "external",
        "1200.00",
        "1150.00",
        "-50.00",
        "5092.86",
        "3892.86",
        status="at_risk",
    ),
]
PAYROLL_NOV = [
    row(NOV, PAYROLL, "Payroll", "service", None, "800.00", "0.00", "-800.00", "0.00", "-800.00", status="within"),
    row(NOV, PAYROLL, "Payroll", "category", "opex", "800.00", "0.00", "-800.00", "0.00", "-800.00", status="within"),
]
TOTALS = {
    "as_of": "2026-10-07",
    "budgets": 3,
    "over": 0,
    "at_risk": 2,
    "within": 1,
    "currency": "EUR",
    "budget": money("6500.00"),
    "actual": money("2950.11"),
    "variance": money("-3549.89"),
    "forecast": money("13064.77"),
}


async def test_budget_against_actual_per_service_and_category_by_hand(engine: AsyncEngine) -> None:
    report = await produce(engine)
    assert report.rows == [*MAIL_OCT, *PAYROLL_OCT, *PAYROLL_NOV]
    assert report.totals == TOTALS
    # Exact to the cent: Decimals, never floats.
    assert all(isinstance(r[k], Decimal) for r in report.rows for k in ("budget", "actual", "forecast"))


async def test_the_window_and_the_service_select_budgets(engine: AsyncEngine) -> None:
    october = await produce(engine, start=T0 - 4 * D, end=T0 + 27 * D)  # [2026-10-01, 2026-11-01)
    assert october.rows == [*MAIL_OCT, *PAYROLL_OCT]
    last_day = await produce(engine, start=T0 + 26 * D, end=T0 + 26 * D + M)  # a minute of 2026-10-31
    assert [r["service_name"] for r in last_day.rows if r["scope"] == "service"] == ["Mail", "Payroll"]
    assert (await produce(engine, service_id=PAYROLL)).rows == [*PAYROLL_OCT, *PAYROLL_NOV]
    november = await produce(engine, start=T0 + 27 * D, service_id=PAYROLL)
    assert november.rows == PAYROLL_NOV
    assert november.totals["actual"] == money("0.00") and november.totals["budgets"] == 1


async def test_rebuilt_from_the_event_log_the_report_is_the_same(engine: AsyncEngine) -> None:
    before = await produce(engine)
    async with engine.begin() as conn:
        await store.clear_projections(conn)
    emptied = await produce(engine)
    assert emptied.rows == [] and emptied.totals["budgets"] == 0
    result = await projections.rebuild(UnitOfWork(engine, tables.outbox, source="/itsm/reporting"), batch_size=4)
    assert result.events == len(all_events())
    after = await produce(engine)
    assert after.rows == before.rows == [*MAIL_OCT, *PAYROLL_OCT, *PAYROLL_NOV]
    assert after.totals == before.totals


@pytest.fixture
async def client(
    url: str, make_settings: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setattr(clock, "now", lambda: NOW)  # the day the actuals are counted to
    settings = make_settings(ReportingSettings, url, run_worker=False)
    async with running(create_app(settings)) as client:
        yield client


def as_text(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: str(v) if isinstance(v, Decimal) else v for k, v in r.items()} for r in rows]


async def test_the_report_api_gives_money_as_strings_in_json_and_csv(client: httpx.AsyncClient, auth: Auth) -> None:
    params = {"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    r = await client.get("/api/v1/reports/costs", params=params, headers=auth("auditor"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rows"] == as_text([*MAIL_OCT, *PAYROLL_OCT])
    assert body["rows"][0]["actual"] == "1766.77"  # a string: exact, never a float
    assert body["totals"]["actual"] == "2950.11" and body["totals"]["budgets"] == 2
    assert body["definition"]["filters"] == ["from", "to", "service_id"]
    r = await client.get("/api/v1/reports/costs", params={**params, "format": "csv"}, headers=auth("auditor"))
    assert r.status_code == 200, r.text
    lines = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["service_name"], x["category"], x["budget"], x["actual"], x["variance"]) for x in lines[:2]] == [
        ("Mail", "", "4000.00", "1766.77", "-2233.23"),
        ("Mail", "licence", "1000.00", "700.00", "-300.00"),
    ]
    forbidden = await client.get("/api/v1/reports/costs", headers=auth("requester"))
    assert forbidden.status_code == 403  # staff only, as every report
    r = await client.get(
        "/api/v1/reports/costs", params={"service_id": str(MAIL)}, headers=auth("service_level_manager")
    )
    assert r.status_code == 200, r.text
    assert [x["actual"] for x in r.json()["rows"]] == ["1766.77", "700.00", "66.67", "1000.10"]
