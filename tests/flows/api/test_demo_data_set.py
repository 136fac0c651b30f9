"""`itsm demo` against the four producing services (in process, real PostgreSQL and RabbitMQ): the
data set goes in through their APIs, recorded at the times it happened, and what a route does not
offer is skipped with a note rather than failing the run."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from itsm.demo import Api, run_demo
from itsm.demo.dataset import SERVICES, SUPPLIERS
from itsm.demo.incidents import plan_incidents
from services.change.app import create_app as change_app
from services.change.settings import ChangeSettings
from services.config.app import create_app as config_app
from services.config.settings import ConfigSettings
from services.incident.app import create_app as incident_app
from services.incident.settings import IncidentSettings
from services.reporting.app import create_app as reporting_app
from services.reporting.settings import ReportingSettings
from services.supplier.app import create_app as supplier_app
from services.supplier.settings import SupplierSettings
from tests.conftest import TEST_JWT_SECRET
from tests.infra import Servers, create_service_database, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

APPS = {
    "incident": (incident_app, IncidentSettings),
    "change": (change_app, ChangeSettings),
    "config": (config_app, ConfigSettings),
    "supplier": (supplier_app, SupplierSettings),
    "reporting": (reporting_app, ReportingSettings),
}


async def costs_agree(client: httpx.AsyncClient, budgets: list[dict[str, Any]], headers: dict[str, str]) -> None:
    """Reporting's costs report, projected from config's events, says what config's own budget
    report says of each budget: budget, actual and forecast, in total and per category (6.4)."""
    for budget in budgets:
        theirs = await client.get(f"http://config/api/v1/budgets/{budget['id']}/report", headers=headers)
        config = theirs.json()
        params = {"service_id": budget["service_id"]}
        ours = (await client.get("http://reporting/api/v1/reports/costs", params=params, headers=headers)).json()
        rows = [r for r in ours["rows"] if r["period_start"] == budget["period_start"]]
        assert [(r["budget"], r["actual"], r["forecast"]) for r in rows if r["scope"] == "service"] == [
            (config["budget"], config["actual"], config["forecast"])
        ]
        figures = ("budget", "actual", "forecast", "status")
        lines = {r["category"]: tuple(r[k] for k in figures) for r in rows if r["scope"] == "category"}
        assert lines == {line["category"]: tuple(line[k] for k in figures) for line in config["lines"]}


async def test_the_demo_loads_its_data_set_through_the_apis_and_backdates_it(
    servers: Servers, make_settings: Callable[..., Any], auth: Callable[..., dict[str, str]]
) -> None:
    said: list[str] = []
    now = datetime.now(UTC)
    prefix = servers.new_queue_prefix("demo")  # databases and queues of its own: it counts what it finds
    async with AsyncExitStack() as stack:
        mounts: dict[str, httpx.AsyncBaseTransport] = {}
        for name, (factory, settings_cls) in APPS.items():
            database = await create_service_database(servers, name, label="demo")
            app = factory(make_settings(settings_cls, database, queue_prefix=prefix))
            manager = await stack.enter_async_context(LifespanManager(app, startup_timeout=30, shutdown_timeout=30))
            mounts[f"http://{name}"] = httpx.ASGITransport(app=manager.app)
        urls = {name: f"http://{name}" for name in APPS}
        api = await stack.enter_async_context(Api(urls=urls, secret=TEST_JWT_SECRET, mounts=mounts))
        demo = await run_demo(api, days=8, seed=1, say=said.append, now=now, wait_s=0)

        done = {line.split("✓[/]", 1)[1].split(":")[0].strip() for line in said if "✓" in line}
        assert {
            "suppliers",
            "service catalogue and CIs",
            "contracts",
            "SLA policies",
            "incidents",
            "problems",
            "changes",
            "releases and deployments",
            "continuity plans",
            "budgets",
            "report agreements",
            "customer surveys",
            "records retention",
            "improvement and audits",
        } <= done, said
        assert not [line for line in said if "refused" in line], said  # every body matches the real schemas
        assert len(demo.loaded.suppliers) == len(SUPPLIERS)
        assert len(demo.loaded.services) == len(SERVICES)

        planned = plan_incidents(demo)  # the same seed and day plan the same incidents
        incidents = await api.client.get(
            "http://incident/api/v1/incidents", params={"limit": 200}, headers=auth("auditor")
        )
        items = incidents.json()["items"]
        assert incidents.json()["total"] == len(planned) == len(demo.loaded.incidents) > 0
        opened = sorted(datetime.fromisoformat(i["opened_at"]) for i in items)
        assert opened == sorted(p["opened"] for p in planned)  # recorded when they happened, not now
        assert opened[0] < now - timedelta(days=1)
        resolved = [i for i in items if i["resolved_at"]]
        assert resolved and all(datetime.fromisoformat(i["resolved_at"]) <= now for i in resolved)
        # Measured against the demo's SLA policies: response and resolution clocks, stopped at the
        # recorded (backdated) resolution, met or missed by business time.
        policies = (await api.client.get("http://incident/api/v1/sla/policies", headers=auth("auditor"))).json()
        assert sorted(p["priority"] for p in policies) == [1, 2, 3, 4, 5]
        assert len(demo.loaded.sla_policies) == 5
        clocks = (
            await api.client.get(f"http://incident/api/v1/incidents/{resolved[0]['id']}/sla", headers=auth("auditor"))
        ).json()
        assert {c["target"] for c in clocks} == {"response", "resolution"}
        resolution = next(c for c in clocks if c["target"] == "resolution")
        stopped = datetime.fromisoformat(resolution["stopped_at"])
        assert stopped == datetime.fromisoformat(resolved[0]["resolved_at"])
        history = await api.client.get(
            f"http://incident/api/v1/incidents/{resolved[0]['id']}/history", headers=auth("auditor")
        )
        assert {h["actor"] for h in history.json()} - {"demo"}  # the people of the data set, by name

        changes = (
            await api.client.get("http://change/api/v1/changes", params={"limit": 200}, headers=auth("auditor"))
        ).json()
        assert changes["total"] == len(demo.loaded.changes)
        assert {c["status"] for c in changes["items"]} & {"closed", "implemented", "reviewed", "failed"}

        # A budget per service for this quarter, with its report against the imported actuals (6.4).
        budgets = (
            await api.client.get("http://config/api/v1/budgets", params={"limit": 200}, headers=auth("auditor"))
        ).json()
        assert budgets["total"] == len(SERVICES)
        report = await api.client.get(
            f"http://config/api/v1/budgets/{budgets['items'][0]['id']}/report", headers=auth("auditor")
        )
        assert report.status_code == 200 and report.json()["budget"] == budgets["items"][0]["total"]
        await eventually(lambda: costs_agree(api.client, budgets["items"], auth("auditor")), within_s=30)
        imported = next(line for line in said if "actuals accepted" in line)
        accepted, rows = imported.split(" actuals accepted")[0].rsplit(", ", 1)[1].split(" of ")
        assert accepted == rows  # every row of the demo's finance file accepted

        # Contracts in force with the suppliers that run the demo CIs, covering them, with targets.
        contracts = (
            await api.client.get(
                "http://supplier/api/v1/contracts", params={"status": "active", "limit": 200}, headers=auth("auditor")
            )
        ).json()
        suppliers_of_cis = {ci["supplier_id"] for ci in demo.loaded.cis.values() if ci["supplier_id"]}
        assert contracts["total"] == len(suppliers_of_cis) > 0
        covered = {ci_id for c in contracts["items"] for ci_id in c["ci_ids"]}
        assert covered == {ci["id"] for ci in demo.loaded.cis.values() if ci["supplier_id"]}
        assert all(c["targets"] and c["service_ids"] for c in contracts["items"])
        portal_db = demo.loaded.cis["portal-db"]["id"]
        by_ci = await api.client.get(
            "http://supplier/api/v1/contracts", params={"ci_id": portal_db}, headers=auth("auditor")
        )
        assert by_ci.json()["total"] == 1
        # The access register: two suppliers' staff hold granted access to a CI they support.
        grants = (
            await api.client.get(
                "http://supplier/api/v1/access-grants", params={"status": "granted"}, headers=auth("auditor")
            )
        ).json()
        assert grants["total"] == min(2, len(suppliers_of_cis))
        assert all(g["ci_id"] in covered and g["next_review_on"] for g in grants["items"])

        # Problems on the hot spots, one published as a known error with its workaround.
        problems = (
            await api.client.get("http://incident/api/v1/problems", params={"limit": 200}, headers=auth("auditor"))
        ).json()
        assert problems["total"] >= 2
        assert {p["status"] for p in problems["items"]} >= {"known_error", "under_investigation"}
        known_errors = (
            await api.client.get(
                "http://incident/api/v1/known-errors", params={"status": "active"}, headers=auth("auditor")
            )
        ).json()
        assert known_errors["total"] == 1
        assert known_errors["items"][0]["workaround"].startswith("Restart")

        # A release per service, deployed; production deployments per service for the DORA figures.
        releases = (
            await api.client.get("http://change/api/v1/releases", params={"limit": 200}, headers=auth("auditor"))
        ).json()
        assert releases["total"] == len(SERVICES)
        assert {r["status"] for r in releases["items"]} == {"closed"}
        implemented = {c["id"] for c in demo.loaded.changes if c["last_action"] != "fail" and not c["fails"]}
        implemented &= {c["id"] for c in changes["items"] if c["status"] in ("implemented", "reviewed", "closed")}
        assert {i for r in releases["items"] for i in r["change_ids"]} == implemented != set()
        deployments = (
            await api.client.get(
                "http://change/api/v1/deployments",
                params={"environment": "production", "limit": 200},
                headers=auth("auditor"),
            )
        ).json()
        assert deployments["total"] == len(demo.loaded.deployments) > len(SERVICES)
        assert {d["service_id"] for d in deployments["items"]} == set(demo.loaded.services.values())
        from_changes = [d for d in deployments["items"] if d["change_id"]]
        assert from_changes and {d["result"] for d in from_changes} <= {"succeeded", "failed"}
        templates = (await api.client.get("http://change/api/v1/templates", headers=auth("auditor"))).json()
        assert len(templates) == len(SERVICES)

        # The standard report pack agreed, so the reporting service schedules every report.
        agreements = (
            await api.client.get("http://reporting/api/v1/report-agreements", headers=auth("auditor"))
        ).json()["items"]
        assert agreements and all(a["scheduled"] and a["status"] == "agreed" for a in agreements)
        assert sorted(demo.loaded.agreed_reports) == sorted(a["report"] for a in agreements)

        # Records control: closed incidents and requests kept for years, the oldest closed incident held.
        policies = (await api.client.get("http://incident/api/v1/retention-policies", headers=auth("auditor"))).json()
        assert {p["record_type"]: p["counted_from"] for p in policies} == {
            "incident": "closed_at",
            "request": "closed_at",
        }
        holds = (await api.client.get("http://incident/api/v1/legal-holds", headers=auth("auditor"))).json()["items"]
        assert [h["record_type"] for h in holds] == ["incident"] and holds[0]["active"]
        # The improvement register: an entry from the service levels report and one an audit finding raised.
        register = (await api.client.get("http://reporting/api/v1/improvements", headers=auth("auditor"))).json()
        assert {"report_finding", "audit_finding"} <= {e["source"] for e in register["items"]}
        audits = (await api.client.get("http://reporting/api/v1/audits", headers=auth("auditor"))).json()["items"]
        assert [(a["status"], a["findings"][0]["improvement_number"] is not None) for a in audits] == [
            ("reported", True)
        ]

        # Loading twice is refused politely: the demo recognises its own catalogue.
        again: list[str] = []
        await run_demo(api, days=3, seed=1, say=again.append, now=now, wait_s=0)
        assert any("loaded already" in line for line in again)
