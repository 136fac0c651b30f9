"""The change-costs report (ISO/IEC 20000-1 6.4: the cost of changes per service) against the data
set of tests/reporting/dataset.py (`change_costs()`), with hand-computed figures, on PostgreSQL and
on SQLite; rebuilt from the event log; through the report API as JSON (money as strings) and CSV.

Only each change's latest statement counts (the events are projected shuffled):
  CHG1: Mail only (its first statement also named Payroll), estimate 100.00 (not 90.00), actual
        120.50: variance 20.50.
  CHG2: Mail and Payroll (counted in both), estimate 300.00, actual 250.00: variance -50.00.
  CHG3: Payroll, estimate 80.00, no actual (the 75.00 first stated was withdrawn): no variance.
  CHG4: Payroll, USD, November: estimate 10.00, actual 12.34, variance 2.34.
October, Mail:    2 changes, 2 with an actual, estimated 400.00, actual 370.50, variance -29.50.
October, Payroll: 2 changes, 1 with an actual, estimated 380.00, actual 250.00, variance -50.00.
November, Payroll (USD): 1 change, 1 with an actual, 10.00, 12.34, 2.34.
October's total counts CHG2 once: 3 changes, estimated 480.00, actual 370.50, variance -29.50.
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
from shared.db import create_engine
from shared.uow import UnitOfWork
from tests.conftest import running
from tests.infra import Servers
from tests.reporting.databases import BACKENDS, project_dataset, reporting_database
from tests.reporting.databases import produce as produce_report
from tests.reporting.dataset import MAIL, PAYROLL, T0, D, H, all_events

pytestmark = pytest.mark.asyncio(loop_scope="session")
Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module", params=BACKENDS)
def database(
    request: pytest.FixtureRequest, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Awaitable[str]]:
    return lambda label: reporting_database(request.param, servers, tmp_path_factory, label)


@pytest.fixture(scope="module")
async def url(database: Callable[[str], Awaitable[str]]) -> str:
    return await project_dataset(await database("changecosts"), seed=17)


@pytest.fixture(scope="module")
async def engine(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url)
    yield engine
    await engine.dispose()


async def produce(engine: AsyncEngine, **filters: Any) -> reports.Report:
    return await produce_report(engine, "change-costs", **filters)


def row(month: str, service: Any, name: str, currency: str, changes: int, with_actual: int, *money: str) -> dict:
    estimated, actual, variance = (Decimal(m) for m in money)
    end = {"2026-10-01": "2026-10-31", "2026-11-01": "2026-11-30"}[month]
    return {
        "period_start": month,
        "period_end": end,
        "service_id": str(service),
        "service_name": name,
        "currency": currency,
        "changes": changes,
        "with_actual": with_actual,
        "estimated": estimated,
        "actual": actual,
        "variance": variance,
    }


OCT, NOV = "2026-10-01", "2026-11-01"
MAIL_OCT = row(OCT, MAIL, "Mail", "EUR", 2, 2, "400.00", "370.50", "-29.50")
PAYROLL_OCT = row(OCT, PAYROLL, "Payroll", "EUR", 2, 1, "380.00", "250.00", "-50.00")
PAYROLL_NOV = row(NOV, PAYROLL, "Payroll", "USD", 1, 1, "10.00", "12.34", "2.34")
FROM_OCT, TO_NOV = T0 - 4 * D, T0 + 27 * D  # [2026-10-01, 2026-11-01)


async def test_the_cost_of_changes_per_service_and_month_by_hand(engine: AsyncEngine) -> None:
    report = await produce(engine)
    assert report.rows == [MAIL_OCT, PAYROLL_OCT, PAYROLL_NOV]
    # Two currencies: the changes are counted, the money never added across them.
    assert report.totals == {
        "changes": 4,
        "with_actual": 3,
        "currency": None,
        "estimated": None,
        "actual": None,
        "variance": None,
    }
    assert all(isinstance(r[k], Decimal) for r in report.rows for k in ("estimated", "actual", "variance"))


async def test_the_window_and_the_service_select_changes(engine: AsyncEngine) -> None:
    october = await produce(engine, start=FROM_OCT, end=TO_NOV)
    assert october.rows == [MAIL_OCT, PAYROLL_OCT]
    # CHG2 touches both services: in each row, once in the total.
    assert october.totals == {
        "changes": 3,
        "with_actual": 2,
        "currency": "EUR",
        "estimated": Decimal("480.00"),
        "actual": Decimal("370.50"),
        "variance": Decimal("-29.50"),
    }
    assert (await produce(engine, service_id=PAYROLL)).rows == [PAYROLL_OCT, PAYROLL_NOV]
    mail = await produce(engine, service_id=MAIL)
    assert mail.rows == [MAIL_OCT]
    assert mail.totals["changes"] == 2 and mail.totals["actual"] == Decimal("370.50")
    # CHG1 restated at T0 + 5 h: a window ending before it holds nothing (its first statement is replaced).
    assert (await produce(engine, start=FROM_OCT, end=T0 + 4 * H)).rows == []


async def test_rebuilt_from_the_event_log_the_report_is_the_same(engine: AsyncEngine) -> None:
    before = await produce(engine)
    async with engine.begin() as conn:
        await store.clear_projections(conn)
    emptied = await produce(engine)
    assert emptied.rows == [] and emptied.totals["changes"] == 0
    result = await projections.rebuild(UnitOfWork(engine, tables.outbox, source="/itsm/reporting"), batch_size=3)
    assert result.events == len(all_events())
    after = await produce(engine)
    assert after.rows == before.rows == [MAIL_OCT, PAYROLL_OCT, PAYROLL_NOV]
    assert after.totals == before.totals


@pytest.fixture
async def client(url: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(ReportingSettings, url, run_worker=False)
    async with running(create_app(settings)) as client:
        yield client


def as_text(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: str(v) if isinstance(v, Decimal) else v for k, v in r.items()} for r in rows]


async def test_the_report_api_gives_money_as_strings_in_json_and_csv(client: httpx.AsyncClient, auth: Auth) -> None:
    params = {"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    r = await client.get("/api/v1/reports/change-costs", params=params, headers=auth("auditor"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rows"] == as_text([MAIL_OCT, PAYROLL_OCT])
    assert body["rows"][0]["actual"] == "370.50"  # a string: exact, never a float
    assert body["totals"]["estimated"] == "480.00" and body["totals"]["changes"] == 3
    assert body["definition"]["filters"] == ["from", "to", "service_id"]
    r = await client.get("/api/v1/reports/change-costs", params={**params, "format": "csv"}, headers=auth("auditor"))
    assert r.status_code == 200, r.text
    lines = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["service_name"], x["changes"], x["estimated"], x["actual"], x["variance"]) for x in lines] == [
        ("Mail", "2", "400.00", "370.50", "-29.50"),
        ("Payroll", "2", "380.00", "250.00", "-50.00"),
    ]
    forbidden = await client.get("/api/v1/reports/change-costs", headers=auth("requester"))
    assert forbidden.status_code == 403  # staff only, as every report
    r = await client.get(
        "/api/v1/reports/change-costs", params={"service_id": str(PAYROLL)}, headers=auth("service_level_manager")
    )
    assert r.status_code == 200, r.text
    assert [(x["currency"], x["actual"]) for x in r.json()["rows"]] == [("EUR", "250.00"), ("USD", "12.34")]
