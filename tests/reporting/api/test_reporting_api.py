"""The reporting HTTP API in process: report shapes, CSV, filters, errors, rebuild, scheduled runs."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from services.reporting.app import create_app
from services.reporting.domain.definitions import DEFINITIONS
from services.reporting.settings import ReportingSettings
from services.reporting.store import tables as store
from services.reporting.usecases import agreements
from services.reporting.usecases import projections as usecases
from services.reporting.usecases import runs as governance
from shared import clock
from shared.db import create_engine
from shared.uow import UnitOfWork
from tests.conftest import running
from tests.infra import Servers, create_service_database, row_counts
from tests.reporting.agreements import agree
from tests.reporting.dataset import MAIL, NOW, T0, all_events

pytestmark = pytest.mark.asyncio(loop_scope="session")
Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
async def database(servers: Servers) -> str:
    url = await create_service_database(servers, "reporting", label="api")
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await usecases.project(conn, all_events())
    finally:
        await engine.dispose()
    return url


@pytest.fixture
async def client(database: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    # No consumer: a queue bound to `#` would collect every other test's events from here on.
    settings = make_settings(ReportingSettings, database, availability_targets={str(MAIL): 98.0}, run_worker=False)
    async with running(create_app(settings)) as client:
        yield client


async def test_the_definitions_say_name_purpose_audience_frequency_source_filters_and_columns(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    r = await client.get("/api/v1/reports", headers=auth("requester"))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [d["name"] for d in items] == [d.name for d in DEFINITIONS]
    for d in items:
        assert d["purpose"] and d["audience"] and d["data_source"]
        assert d["frequency"] in ("daily", "weekly", "monthly")
        assert d["columns"] == list(d["column_descriptions"])
        assert set(d["filters"]) <= {"from", "to", "service_id", "group", "priority", "supplier_id", "period"}


async def test_a_report_is_served_as_csv_when_accept_asks_for_it(client: httpx.AsyncClient, auth: Auth) -> None:
    csv_accept = {**auth("auditor"), "Accept": "text/csv"}
    r = await client.get("/api/v1/reports/service-levels", headers=csv_accept)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert next(csv.reader(io.StringIO(r.text))) == list({d.name: d for d in DEFINITIONS}["service-levels"].columns)
    as_json = await client.get("/api/v1/reports/service-levels", params={"format": "json"}, headers=csv_accept)
    assert as_json.headers["content-type"].startswith("application/json")  # the query parameter wins


async def test_a_report_in_json_has_the_agreed_shape(client: httpx.AsyncClient, auth: Auth) -> None:
    params = {"from": "2026-10-01", "to": "2026-11-01T00:00:00Z", "priority": "2"}
    r = await client.get("/api/v1/reports/service-levels", params=params, headers=auth("auditor"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"report", "definition", "filters", "generated_at", "rows", "totals"}
    assert body["report"] == "service-levels"
    assert body["filters"]["from"] == "2026-10-01T00:00:00+00:00"  # a date without a zone is UTC
    assert body["filters"]["priority"] == 2
    [row] = body["rows"]
    assert list(row) == body["definition"]["columns"]
    assert (row["service_id"], row["service_name"], row["resolution_compliance_pct"]) == (str(MAIL), "Mail", 50.0)
    assert body["totals"]["incidents"] == 2


async def test_every_report_answers_in_json_and_csv(client: httpx.AsyncClient, auth: Auth) -> None:
    for d in DEFINITIONS:
        as_json = await client.get(f"/api/v1/reports/{d.name}", headers=auth("auditor"))
        assert as_json.status_code == 200, as_json.text
        as_csv = await client.get(f"/api/v1/reports/{d.name}", params={"format": "csv"}, headers=auth("auditor"))
        assert as_csv.status_code == 200, as_csv.text
        assert as_csv.headers["content-type"].startswith("text/csv")
        table = list(csv.reader(io.StringIO(as_csv.text)))
        assert table[0] == list(d.columns)
        rows = as_json.json()["rows"]
        assert len(table) - 1 == len(rows), d.name
        if rows:  # the same values, None as an empty cell
            first = rows[0]
            expected = ["" if first[c] is None else str(first[c]) for c in d.columns]
            assert [c.lower() if c in ("True", "False") else c for c in table[1]] == [
                e.lower() if e in ("True", "False") else e for e in expected
            ]


async def test_the_configured_availability_target_is_used(client: httpx.AsyncClient, auth: Auth) -> None:
    params = {"from": T0.isoformat(), "to": NOW.isoformat(), "service_id": str(MAIL)}
    r = await client.get("/api/v1/reports/availability", params=params, headers=auth("auditor"))
    [row] = r.json()["rows"]
    assert (row["target_pct"], row["downtime_minutes"]) == (98.0, 120.0)


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/api/v1/reports/nonsense", {}, 404, None),
        ("/api/v1/reports/incidents", {"from": "yesterday"}, 422, "from"),
        ("/api/v1/reports/incidents", {"to": "2026-13-01"}, 422, "to"),
        ("/api/v1/reports/incidents", {"format": "xml"}, 422, "format"),
        ("/api/v1/reports/incidents", {"priority": "9"}, 422, "priority"),
        ("/api/v1/reports/incidents", {"service_id": "mail"}, 422, "service_id"),
        ("/api/v1/reports/workload", {"period": "year"}, 422, "period"),
        ("/api/v1/reports/incidents", {"from": "2026-11-01", "to": "2026-10-01"}, 422, "from"),
        ("/api/v1/events", {"from": "soon"}, 422, "from"),
        ("/api/v1/report-runs", {"report": "nonsense"}, 422, "report"),
        ("/api/v1/report-runs/00000000-0000-0000-0000-000000000000/download", {}, 404, None),
    ],
)
async def test_bad_input_is_a_problem_document(
    client: httpx.AsyncClient, auth: Auth, path: str, params: dict[str, str], status: int, field: str | None
) -> None:
    r = await client.get(path, params=params, headers=auth("auditor"))
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == status
    if field is not None:
        assert field in [e["field"] for e in problem["errors"]]


async def test_reports_need_a_token(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/reports/incidents")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"


async def test_the_event_log_is_filtered_by_type_subject_source_and_time_and_paged(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    headers = auth("auditor")
    r = await client.get("/api/v1/events", params={"type": "itsm.incident.created.v1", "limit": 2}, headers=headers)
    body = r.json()
    assert (body["total"], len(body["items"]), body["limit"]) == (6, 2, 2)
    assert [e["type"] for e in body["items"]] == ["itsm.incident.created.v1"] * 2
    times = [e["time"] for e in body["items"]]
    assert times == sorted(times)
    nxt = (
        await client.get("/api/v1/events", params={"type": "itsm.incident.created.v1", "offset": 2}, headers=headers)
    ).json()
    assert {e["id"] for e in nxt["items"]}.isdisjoint({e["id"] for e in body["items"]})
    window = {"source": "/itsm/change", "from": T0.isoformat(), "to": (T0.replace(day=6)).isoformat()}
    found = (await client.get("/api/v1/events", params=window, headers=headers)).json()["items"]
    assert found and all(e["source"] == "/itsm/change" and "2026-10-05" in e["time"] for e in found)
    by_subject = (await client.get("/api/v1/events", params={"subject": str(MAIL)}, headers=headers)).json()
    assert [e["type"] for e in by_subject["items"]] == ["itsm.ci.created.v1"]


async def test_rebuild_is_for_admins_and_keeps_the_figures(
    client: httpx.AsyncClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One instant for both reports: the backlog's ages are figures of "now", and the wall clock
    # moving on between them (36 s is 0.01 h) changed them.
    at = clock.now()
    monkeypatch.setattr(clock, "now", lambda: at)
    forbidden = await client.post("/api/v1/projections/rebuild", headers=auth("auditor"))
    assert forbidden.status_code == 403
    before = (await client.get("/api/v1/reports/incidents", headers=auth("auditor"))).json()
    r = await client.post("/api/v1/projections/rebuild", headers=auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["events"] == len(all_events())
    after = (await client.get("/api/v1/reports/incidents", headers=auth("auditor"))).json()
    assert after["rows"] == before["rows"]


async def test_only_agreed_reports_are_scheduled_and_stored_once_per_period_even_with_two_replicas(
    servers: Servers, make_settings: Callable[..., Any], auth: Auth
) -> None:
    url = await create_service_database(servers, "reporting", label="runs")
    engine = create_engine(url)
    at = T0.replace(day=8, hour=3)  # Thursday 2026-10-08
    agreed = {d.name for d in DEFINITIONS} - {"cmdb", "hotspots", "requests"}
    try:
        async with engine.begin() as conn:
            await usecases.project(conn, all_events())

        def uow() -> UnitOfWork:
            return UnitOfWork(engine, store.outbox, source="/itsm/reporting")

        for name in sorted(agreed | {"hotspots"}):
            await agree(uow, name, at=at - timedelta(days=1))
        # hotspots: agreed, then retired; requests: only proposed (a draft is not scheduled).
        await agreements.retire(uow(), "hotspots", expected=2, reason="replaced", by="slm", now=at - timedelta(hours=1))
        await agreements.propose(
            uow(), "requests", expected=None, owner="slm", agreed_with=["desk"], distribution_list=[],
            reason="", by="slm", now=at,
        )  # fmt: skip
        made = await asyncio.gather(*(governance.run_scheduled_reports(uow, at) for _ in range(2)))
        assert sorted(made[0] + made[1]) == sorted(agreed)
        assert await governance.run_scheduled_reports(uow, at) == []  # nothing new to do
        assert await row_counts(url, store.report_run) == (len(agreed),)
    finally:
        await engine.dispose()
    async with running(create_app(make_settings(ReportingSettings, url, run_worker=False))) as client:
        for unscheduled in ("cmdb", "hotspots", "requests"):
            none = await client.get("/api/v1/report-runs", params={"report": unscheduled}, headers=auth("auditor"))
            assert none.json()["total"] == 0, unscheduled
        runs = (await client.get("/api/v1/report-runs", params={"report": "workload"}, headers=auth("auditor"))).json()
        [run] = runs["items"]
        assert (run["frequency"], run["period_start"], run["period_end"]) == (
            "daily",
            "2026-10-07T00:00:00Z",
            "2026-10-08T00:00:00Z",
        )
        assert run["agreement_version"] == 2  # version 1 the proposal, version 2 its agreement
        weekly = (
            await client.get("/api/v1/report-runs", params={"report": "incidents"}, headers=auth("auditor"))
        ).json()
        assert weekly["items"][0]["period_start"] == "2026-09-28T00:00:00Z"  # the previous ISO week
        monthly = (
            await client.get("/api/v1/report-runs", params={"report": "problems"}, headers=auth("auditor"))
        ).json()
        assert monthly["items"][0]["period_start"] == "2026-09-01T00:00:00Z"
        as_json = await client.get(run["download"], headers=auth("auditor"))
        assert as_json.status_code == 200
        body = as_json.json()
        assert body["report"] == "workload"
        assert body["filters"]["from"] == "2026-10-07T00:00:00+00:00"
        assert body["run"]["agreement_version"] == 2
        assert body["findings"] == []
        as_csv = await client.get(run["download"], params={"format": "csv"}, headers=auth("auditor"))
        assert as_csv.headers["content-type"].startswith("text/csv")
        assert as_csv.text.splitlines()[0] == ",".join(body["definition"]["columns"])
        assert len(as_csv.text.splitlines()) == len(body["rows"]) + 1
        by_accept = await client.get(run["download"], headers={**auth("auditor"), "Accept": "text/csv"})
        assert by_accept.headers["content-type"].startswith("text/csv")
        assert by_accept.text == as_csv.text
