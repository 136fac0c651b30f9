"""Budgeting and accounting (6.4) through the configuration service's API, on PostgreSQL and on
SQLite: three allocation rules (fixed percent, CI count, usage) split finance's shared costs,
each CSV row is accepted or refused with its column and reason, and the budget report compares
budget, actual and forecast. Every figure below is worked out by hand in its comment."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.config.app import create_app
from services.config.settings import ConfigSettings
from services.config.store.tables import capacity_sample, outbox
from shared.db import create_engine
from shared.migrations import upgrade
from tests.conftest import running
from tests.prometheus import free_port

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]


@pytest.fixture(params=["postgresql", "sqlite"])
async def backend(
    request: pytest.FixtureRequest,
    service_database: Callable[[str], Any],
    make_settings: Callable[..., Any],
    tmp_path: Path,
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/config.db"
        await asyncio.to_thread(upgrade, "config", url)
    else:
        url = await service_database("config")
    nobody = f"http://127.0.0.1:{free_port()}"  # no Prometheus: the samples are written below
    settings = make_settings(ConfigSettings, url, prometheus_url=nobody)
    async with running(create_app(settings)) as client:
        yield client, url


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    r = await client.post(path, json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r


async def _ci(client: httpx.AsyncClient, headers: dict[str, str], ci_type: str, service: str | None = None) -> str:
    body = {"name": f"b-{uuid.uuid4().hex[:8]}", "type": ci_type, **({"service_id": service} if service else {})}
    return str((await _post(client, "/api/v1/cis", body, headers)).json()["id"])


def _csv(rows: list[list[str]]) -> str:
    header = "reference,service_id,allocation_rule,category,amount,currency,incurred_on,description"
    return "\n".join([header, *(",".join(r) for r in rows)]) + "\n"


async def test_allocation_and_budget_against_actual_and_forecast(
    backend: tuple[httpx.AsyncClient, str], auth: Auth
) -> None:
    client, url = backend
    cmdb, slm = auth("config_manager"), auth("service_level_manager", subject="finance-lead")
    s1, s2, s3 = [await _ci(client, cmdb, "business_service") for _ in range(3)]
    s1_cis = [await _ci(client, cmdb, "server", s1) for _ in range(3)]
    s2_ci = await _ci(client, cmdb, "server", s2)
    retired = await _ci(client, cmdb, "server", s2)
    r = await client.post(f"/api/v1/cis/{retired}/retire", headers={**cmdb, "If-Match": 'W/"1"'})
    assert r.status_code == 200, r.text

    # a usage metric: the latest sample of each CI counts (ci 1: 2.0; ci 2: 9.0 then 1.0; S2's: 1.0)
    metric = f"m_{uuid.uuid4().hex[:10]}"
    body = {"name": metric, "unit": "Gbit", "promql": "x", "warning": 1, "critical": 2}
    metric_id = uuid.UUID((await _post(client, "/api/v1/capacity/metrics", body, cmdb)).json()["id"])
    t1, t2 = datetime(2027, 1, 1, 10, tzinfo=UTC), datetime(2027, 1, 1, 11, tzinfo=UTC)
    samples = [(s1_cis[0], t2, 2.0), (s1_cis[1], t1, 9.0), (s1_cis[1], t2, 1.0), (s2_ci, t2, 1.0)]
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            capacity_sample.insert(),
            [{"metric_id": metric_id, "ci_id": uuid.UUID(c), "at": at, "value": v} for c, at, v in samples],
        )

    tag = uuid.uuid4().hex[:6]
    rules = {
        "platform": {"basis": "fixed_percent", "service_ids": [s1, s3], "percents": {s1: "62.5", s3: "37.5"}},
        "hosting": {"basis": "ci_count", "service_ids": [s1, s2, s3]},
        "network": {"basis": "usage", "service_ids": [s1, s2], "metric": metric},
    }
    for name, rule in rules.items():
        r = await _post(client, "/api/v1/allocation-rules", {"name": f"{name}-{tag}", **rule}, slm)
        assert r.json()["version"] == 1
    again = await _post(client, "/api/v1/allocation-rules", {"name": f"platform-{tag}", **rules["platform"]}, slm)
    assert again.json()["version"] == 2  # the same name: its next version
    bad_rule = {"name": f"x-{tag}", "basis": "fixed_percent", "service_ids": [s1, s3], "percents": {s1: "60", s3: "30"}}
    r = await client.post("/api/v1/allocation-rules", json=bad_rule, headers=slm)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "percents"

    q1 = {"period_start": "2027-01-01", "period_end": "2027-03-31"}  # 90 days
    lines = [
        {"category": "licence", "amount": "9000.00"},
        {"category": "shared", "amount": "1000.00"},
        {"category": "personnel", "amount": "30000.00"},
    ]
    budget = (
        await _post(client, "/api/v1/budgets", {"service_id": s1, **q1, "currency": "EUR", "lines": lines}, slm)
    ).json()
    assert budget["total"] == "40000.00"
    twice = await client.post(
        "/api/v1/budgets", json={"service_id": s1, **q1, "currency": "EUR", "lines": lines}, headers=slm
    )
    assert twice.status_code == 409
    q2_usd = {"service_id": s2, "period_start": "2027-04-01", "period_end": "2027-06-30", "currency": "USD"}
    await _post(client, "/api/v1/budgets", {**q2_usd, "lines": [{"category": "opex", "amount": "500"}]}, slm)

    ref = f"{tag}-INV"
    csv_body = _csv(
        [
            [f"{ref}1", s1, "", "licence", "2000.00", "EUR", "2027-01-05", "seats"],
            [f"{ref}2", "", f"platform-{tag}", "shared", "100.00", "EUR", "2027-01-10", ""],
            [f"{ref}3", "", f"hosting-{tag}", "shared", "10.00", "EUR", "2027-01-11", ""],
            [f"{ref}4", "", f"network-{tag}", "shared", "0.10", "EUR", "2027-01-12", ""],
            [f"{ref}1", s1, "", "licence", "1.00", "EUR", "2027-01-05", "twice"],
            [f"{ref}5", s1, "", "personnel", "12.345", "EUR", "2027-01-15", ""],
            [f"{ref}6", s1, "", "personnel", "10000.00", "USD", "2027-01-15", ""],
            [f"{ref}7", "", f"hosting-{tag}", "shared", "5.00", "EUR", "2027-04-05", ""],
            [f"{ref}8", s1, "", "personnel", "10000.00", "EUR", "2027-01-20", ""],
            [f"{ref}9", "", "nope", "shared", "1.00", "EUR", "2027-01-20", ""],
            [f"{ref}10", s1, "", "personnel", "5.00", "EUR", "2027-04-01", "next quarter"],
        ]
    )
    r = await client.post("/api/v1/cost-actuals", content=csv_body, headers={**slm, "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    imported = r.json()
    assert (imported["rows"], imported["accepted"], imported["refused"]) == (11, 6, 5)
    by_line = {row["row"]: row for row in imported["results"]}
    parts = {line: {(p["service_id"], p["amount"]) for p in by_line[line]["parts"]} for line in (3, 4, 5)}
    # platform v2 (the latest), 62.5 / 37.5 of 100.00
    assert parts[3] == {(s1, "62.50"), (s3, "37.50")}
    # hosting by CI count 3 : 1 : 0 (S2's retired CI not counted) of 10.00
    assert parts[4] == {(s1, "7.50"), (s2, "2.50"), (s3, "0.00")}
    # network by usage 3.0 : 1.0 of 10 cents: 7.5 and 2.5, rounded down 7 and 2; the cent left
    # goes to the first of the equal remainders, S1
    assert parts[5] == {(s1, "0.08"), (s2, "0.02")}
    refused = {line: (by_line[line]["field"], by_line[line]["result"]) for line in (6, 7, 8, 9, 11)}
    assert refused == {
        6: ("reference", "refused"),  # INV1 is on line 2 already
        7: ("amount", "refused"),  # three decimal places
        8: ("currency", "refused"),  # S1's budget that day is in EUR
        9: ("currency", "refused"),  # a part falls to S2, whose Q2 budget is in USD
        11: ("allocation_rule", "refused"),
    }
    assert "USD" in by_line[9]["reason"]

    # 30 January: 30 of 90 days gone, each forecast three times its actual.
    # S1 in Q1: licence 2,000.00; shared 62.50 + 7.50 + 0.08 = 70.08; personnel 10,000.00
    r = await client.get(f"/api/v1/budgets/{budget['id']}/report", params={"as_of": "2027-01-30"}, headers=slm)
    assert r.status_code == 200, r.text
    report = r.json()
    got = {line["category"]: line for line in report["lines"]}
    assert [line["category"] for line in report["lines"]] == ["licence", "shared", "personnel"]
    assert (got["licence"]["actual"], got["licence"]["forecast"], got["licence"]["remaining"]) == (
        "2000.00",
        "6000.00",
        "7000.00",
    )
    assert (got["shared"]["actual"], got["shared"]["forecast"], got["shared"]["status"]) == (
        "70.08",
        "210.24",
        "within",
    )
    assert (got["personnel"]["forecast"], got["personnel"]["forecast_variance"]) == ("30000.00", "0.00")
    assert (report["budget"], report["actual"], report["forecast"]) == ("40000.00", "12070.08", "36210.24")
    # 10 January: only what was incurred by then (licence 2,000.00, shared 62.50), times 9
    early = (
        await client.get(f"/api/v1/budgets/{budget['id']}/report", params={"as_of": "2027-01-10"}, headers=slm)
    ).json()
    early_lines = {line["category"]: line for line in early["lines"]}
    assert (early_lines["licence"]["forecast"], early_lines["licence"]["status"]) == ("18000.00", "at_risk")
    assert (early_lines["shared"]["actual"], early_lines["personnel"]["actual"]) == ("62.50", "0.00")

    s3_actuals = await client.get("/api/v1/cost-actuals", params={"service_id": s3}, headers=slm)
    assert sorted(a["amount"] for a in s3_actuals.json()["items"]) == ["0.00", "37.50"]
    assert {a["allocation_version"] for a in s3_actuals.json()["items"]} == {1, 2}

    # what was published: the budget, each accepted row with its parts, the import's summary
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(outbox.c.routing_key, outbox.c.payload).where(
                    outbox.c.subject.in_([f"{ref}3", budget["id"], imported["import_id"]])
                )
            )
        ).all()
    await engine.dispose()
    published = {key: json.loads(payload)["data"] for key, payload in rows}
    assert published["budget.created.v1"]["total"] == "40000.00"
    hosting = published["cost.actual_recorded.v1"]
    assert sum(Decimal(p["amount"]) for p in hosting["parts"]) == Decimal("10.00")
    assert (published["cost.actuals_imported.v1"]["accepted"], published["cost.actuals_imported.v1"]["refused"]) == (
        6,
        5,
    )


async def test_costs_are_refused_to_those_without_a_part_in_them(
    backend: tuple[httpx.AsyncClient, str], auth: Auth
) -> None:
    client, _ = backend
    budget = {
        "service_id": str(uuid.uuid4()),
        "period_start": "2027-01-01",
        "period_end": "2027-01-31",
        "currency": "EUR",
        "lines": [{"category": "opex", "amount": "1"}],
    }
    for role in ("agent", "config_manager", "requester"):
        r = await client.post("/api/v1/budgets", json=budget, headers=auth(role))
        assert r.status_code == 403, role
    assert (await client.get("/api/v1/cost-actuals", headers=auth("agent"))).status_code == 403
    slm = auth("service_level_manager")
    r = await client.post("/api/v1/budgets", json=budget, headers=slm)  # refused before: now the rule
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "service_id"
    r = await client.post("/api/v1/budgets", json={**budget, "period_end": "2026-12-31"}, headers=slm)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "period_end"
    r = await client.post(
        "/api/v1/budgets", json={**budget, "lines": [{"category": "opex", "amount": "1.001"}]}, headers=slm
    )
    assert r.status_code == 422
    r = await client.post(
        "/api/v1/cost-actuals", content="reference,colour\nA,red\n", headers={**slm, "Content-Type": "text/csv"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "columns"
    csv_header = "reference,service_id,category,amount,currency,incurred_on\n"
    too_many = csv_header + "".join(f"R{n},{uuid.uuid4()},opex,1,EUR,2027-01-01\n" for n in range(5001))
    r = await client.post("/api/v1/cost-actuals", content=too_many, headers={**slm, "Content-Type": "text/csv"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"  # at most 5,000 rows
    r = await client.post(
        "/api/v1/cost-actuals", content=csv_header, headers={**slm, "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
    service = await _ci(client, auth("config_manager"), "business_service")
    usage = {"name": "by-use", "basis": "usage", "service_ids": [service], "metric": "no_such_metric"}
    r = await client.post("/api/v1/allocation-rules", json=usage, headers=slm)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "metric"
    r = await client.post("/api/v1/allocation-rules", json={**usage, "service_ids": [str(uuid.uuid4())]}, headers=slm)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "service_ids"


async def test_a_cis_cost_attributes_are_a_new_version_of_it(
    backend: tuple[httpx.AsyncClient, str], auth: Auth
) -> None:
    client, _ = backend
    cmdb = auth("config_manager")
    ci = await _ci(client, cmdb, "application")
    cost = {
        "category": "licence",
        "currency": "EUR",
        "purchase_cost": "1200",
        "annual_run_cost": "300.50",
        "licence_count": 25,
        "cost_centre": "CC-100",
    }
    without = await client.put(f"/api/v1/cis/{ci}/cost", json=cost, headers=cmdb)
    assert without.status_code == 428
    r = await client.put(f"/api/v1/cis/{ci}/cost", json=cost, headers={**cmdb, "If-Match": 'W/"1"'})
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["purchase_cost"], r.headers["etag"]) == (2, "1200.00", 'W/"2"')
    item = (await client.get(f"/api/v1/cis/{ci}", headers=cmdb)).json()
    assert item["attributes"]["cost"]["annual_run_cost"] == "300.50"
    history = (await client.get(f"/api/v1/cis/{ci}/history", headers=cmdb)).json()
    assert any("attributes.cost" in entry.get("changes", {}) for entry in history["items"]), history
    bad = await client.put(
        f"/api/v1/cis/{ci}/cost", json={**cost, "licence_count": -1}, headers={**cmdb, "If-Match": 'W/"2"'}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("licence_count")
