"""Agreement to clock (ISO/IEC 20000-1 6.1): an SLA agreed for a customer in config, under an
approved change, sets the targets the incident service applies to that customer's new incidents
(through `agreement.agreed.v1`); a new version agreed changes them; the customer's compliance shows
in reporting's customer service levels report.

Config, incident and reporting run as three apps over the run's real RabbitMQ and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.config.app import create_app as create_config_app
from services.config.domain.items import ChangeWindow
from services.config.settings import ConfigSettings
from services.config.store.change_control import upsert_change_window
from services.incident.app import create_app as create_incident_app
from services.incident.settings import IncidentSettings
from services.reporting.app import create_app as create_reporting_app
from services.reporting.settings import ReportingSettings
from shared.db import create_engine
from tests.conftest import running
from tests.infra import Servers, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

ALWAYS = {d: {"start": "00:00", "end": "24:00"} for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
Apps = tuple[httpx.AsyncClient, httpx.AsyncClient, httpx.AsyncClient, str]


@pytest.fixture
async def apps(
    service_database: Callable[[str], Any], make_settings: Callable[..., Any], servers: Servers
) -> AsyncIterator[Apps]:
    # An exchange and queues of its own: its services run on databases of their own, and what they
    # publish must not wait in the run's queues for the next test's consumers.
    own = {
        "events_exchange": servers.new_exchange("agreements"),
        "queue_prefix": servers.new_queue_prefix("agreements"),
    }
    config_db = await service_database("config")
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                running(create(make_settings(settings, await service_database(name), **own)))
            )
            for name, create, settings in (
                ("config", create_config_app, ConfigSettings),
                ("incident", create_incident_app, IncidentSettings),
                ("reporting", create_reporting_app, ReportingSettings),
            )
        ]
        for client in clients:

            async def ready(c: httpx.AsyncClient = client) -> None:
                assert (await c.get("/readyz")).status_code == 200

            await eventually(ready)
        yield clients[0], clients[1], clients[2], str(config_db)


async def _approved_change(config_db: str, service_id: str) -> str:
    """The change as config learns it from the change service's `change.approved.v1`."""
    number, now = f"CHG{uuid.uuid4().int % 10_000_000:07d}", datetime.now(UTC)
    window = ChangeWindow(
        uuid.uuid4(),
        number,
        "approved",
        now - timedelta(hours=1),
        now + timedelta(hours=1),
        frozenset({uuid.UUID(service_id)}),
    )
    engine = create_engine(config_db)
    async with engine.begin() as conn:
        await upsert_change_window(conn, window, now)
    await engine.dispose()
    return number


def _ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    answer: dict[str, Any] = r.json()
    return answer


async def test_an_sla_agreed_for_a_customer_sets_the_targets_of_their_incidents_and_reporting_shows_compliance(
    apps: Apps, auth: Callable[..., dict[str, str]]
) -> None:
    config, incident, reporting, config_db = apps
    slm, agent = auth("service_level_manager", subject="slm"), auth("agent", subject="ann")
    calendar = f"acme-{uuid.uuid4().hex[:8]}"
    body = {"name": calendar, "time_zone": "UTC", "working_hours": ALWAYS}
    _ok(await incident.post("/api/v1/sla/calendars", json=body, headers=auth("service_level_manager")), 201)
    service = _ok(
        await config.post(
            "/api/v1/cis", json={"name": f"shop-{calendar}", "type": "business_service"}, headers=auth("config_manager")
        ),
        201,
    )
    customer_body = {"name": f"Acme {calendar}", "relationship_manager": "rita", "service_ids": [service["id"]]}
    customer = _ok(await config.post("/api/v1/customers", json=customer_body, headers=slm), 201)
    terms = {
        "kind": "sla",
        "title": "Acme web shop",
        "customer_id": customer["id"],
        "service_ids": [service["id"]],
        "targets": [{"priority": 3, "response_minutes": 7, "resolution_minutes": 50}],
        "availability_pct": 99.5,
        "calendar": calendar,
        "review_date": (date.today() + timedelta(days=365)).isoformat(),
    }
    draft = _ok(await config.post("/api/v1/agreements", json=terms, headers=slm), 201)
    change = await _approved_change(config_db, service["id"])
    agreed = await config.post(
        f"/api/v1/agreements/{draft['id']}/agree", json={"change_number": change}, headers={**slm, "If-Match": 'W/"1"'}
    )
    v1 = _ok(agreed)

    async def policy_version(version: int) -> dict[str, Any]:
        policies = _ok(await incident.get("/api/v1/sla/policies", headers=agent))
        found = [p for p in policies if p["agreement_number"] == v1["number"]]
        assert [p["version"] for p in found] == [version]
        return found[0]

    policy = await eventually(lambda: policy_version(1))
    assert (policy["customer_id"], policy["service_id"], policy["priority"]) == (customer["id"], service["id"], 3)

    async def opened(customer_id: str | None) -> tuple[dict[str, Any], dict[str, int]]:
        new = {"title": "Checkout fails", "caller": "carl", "impact": 2, "urgency": 2, "service_id": service["id"]}
        created = _ok(
            await incident.post("/api/v1/incidents", json={**new, "customer_id": customer_id}, headers=agent), 201
        )
        assert created["priority"] == 3 and created["customer_id"] == customer_id
        clocks = _ok(await incident.get(f"/api/v1/incidents/{created['id']}/sla", headers=agent))
        return created, {c["target"]: c["target_business_s"] for c in clocks}

    theirs, targets = await opened(customer["id"])
    assert targets == {"response": 7 * 60, "resolution": 50 * 60}
    _, others = await opened(None)  # another party's incident on the same service: not the customer's targets
    assert others != targets

    # A new version, agreed under the change, changes the targets of the customer's next incident.
    v2 = _ok(await config.post(f"/api/v1/agreements/{v1['id']}/versions", headers=slm), 201)
    longer = {"targets": [{"priority": 3, "response_minutes": 20, "resolution_minutes": 120}]}
    v2 = _ok(await config.patch(f"/api/v1/agreements/{v2['id']}", json=longer, headers={**slm, "If-Match": 'W/"1"'}))
    tag = {"If-Match": f'W/"{v2["version"]}"'}
    _ok(
        await config.post(
            f"/api/v1/agreements/{v2['id']}/agree", json={"change_number": change}, headers={**slm, **tag}
        )
    )
    await eventually(lambda: policy_version(2))
    _, targets2 = await opened(customer["id"])
    assert targets2 == {"response": 20 * 60, "resolution": 120 * 60}

    # The first incident is worked and resolved within its targets: reporting counts it for the customer.
    url = f"/api/v1/incidents/{theirs['id']}"
    _ok(await incident.post(f"{url}/assign", json={"assignment_group": "web", "assignee": "ann"}, headers=agent))
    _ok(await incident.post(f"{url}/start", headers=agent))
    _ok(await incident.post(f"{url}/resolve", json={"resolution_code": "fixed"}, headers=agent))

    async def compliance() -> dict[str, Any]:
        report = _ok(await reporting.get("/api/v1/reports/customer-service-levels", headers=agent))
        rows = [r for r in report["rows"] if r["customer_id"] == customer["id"]]
        assert [(r["incidents"], r["resolution_measured"]) for r in rows] == [(2, 1)]
        return rows[0]

    row = await eventually(compliance)
    assert row["customer_name"] == customer["name"]
    assert (row["agreement_number"], row["document_version"], row["availability_target_pct"]) == (v1["number"], 2, 99.5)
    assert (row["response_met"], row["resolution_met"], row["resolution_met_pct"]) == (1, 1, 100.0)
