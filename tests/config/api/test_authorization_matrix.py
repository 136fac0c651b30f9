"""The authorisation matrix walked against the running configuration service: every operation, with a
token of every role, on a real CI, CI type, business service, discovery run and baseline. The
expectation is written here, apart from the service's table, so that flipping a row of the table fails
the walk. No CI is anyone's own: every cell is allowed or denied."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.config.api import ROUTERS
from services.config.api.deps import POLICY
from services.config.app import create_app
from services.config.settings import ConfigSettings
from shared.auth import Role
from tests.authorization import HUMANS, NOT_REQUESTER, Expect, Matrix, expect
from tests.authorization_allowed import ownerless_matrix
from tests.conftest import running

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]

# ----------------------------------------------------------------------------- what the issue asks

WRITE = expect([Role.CONFIG_MANAGER])
CMDB = expect(NOT_REQUESTER)  # staff; not a requester (the CMDB is not the portal's), not machine tokens
SLM = expect([Role.SERVICE_LEVEL_MANAGER])
COSTS = expect([Role.SERVICE_LEVEL_MANAGER, Role.CONFIG_MANAGER, Role.CHANGE_MANAGER, Role.AUDITOR])
"""Costs and budgets are read by those who keep them, the change manager costing changes and the auditor."""
EXPECTED: dict[str, Expect] = {
    "types.list_ci_types": CMDB,
    "types.get_ci_type": CMDB,
    "types.create_ci_type": WRITE,
    "items.create_config_item": WRITE,
    "items.get_config_item": CMDB,
    "items.update_config_item": WRITE,
    "items.retire_config_item": WRITE,
    "items.list_config_items": CMDB,
    "items.ci_history": CMDB,
    "change_control.ci_changes": CMDB,
    "relationships.ci_relationships": CMDB,
    "relationships.create_relationship": WRITE,
    "relationships.delete_relationship": WRITE,
    "impact.impact": CMDB,
    "discovery.create_discovery_run": WRITE,
    "discovery.get_discovery_run": CMDB,
    "discovery.list_discovery_runs": CMDB,
    "baselines.create_baseline": WRITE,
    "baselines.get_baseline": CMDB,
    "baselines.list_baselines": CMDB,
    "baselines.compare_baseline": CMDB,
    "audit.configuration_audit": CMDB,
    "catalogue.service_catalogue": expect(HUMANS),  # the offering a requester picks a service from
    "catalogue.service_detail": CMDB,  # adds the CIs the service runs on
    "catalogue.single_points_of_failure": CMDB,  # the CMDB's view of the service's availability
    "bulk.export_cis": CMDB,
    "bulk.export_relationships": CMDB,
    "bulk.import_cis": WRITE,
    "bulk.import_relationships": WRITE,
    "capacity.create_capacity_metric": WRITE,
    "capacity.list_capacity_metrics": CMDB,
    "capacity.get_capacity_metric": CMDB,
    "capacity.put_capacity_threshold": WRITE,
    "capacity.capacity_samples": CMDB,
    "capacity.capacity_runway": CMDB,
    "capacity.create_capacity_plan": WRITE,
    "capacity.get_capacity_plan": CMDB,
    "capacity.list_capacity_plans": CMDB,
    # Continuity (6.3): the configuration manager keeps the plans, their tests and the pack; the
    # incident manager, who leads a major incident, invokes a plan and records the return and review.
    "continuity.create_continuity_plan": WRITE,
    "continuity.list_continuity_plans": CMDB,
    "continuity.get_continuity_plan": CMDB,
    "continuity.revise_continuity_plan": WRITE,
    "continuity.continuity_plan_versions": CMDB,
    "continuity.record_continuity_test": WRITE,
    "continuity.list_continuity_tests": CMDB,
    "continuity.invoke_continuity_plan": expect([Role.CONFIG_MANAGER, Role.INCIDENT_MANAGER]),
    "continuity.get_continuity_invocation": CMDB,
    "continuity.return_to_normal": expect([Role.CONFIG_MANAGER, Role.INCIDENT_MANAGER]),
    "continuity.review_invocation": expect([Role.CONFIG_MANAGER, Role.INCIDENT_MANAGER]),
    "continuity.export_continuity_pack": WRITE,
    # Customers and their agreements are service level management's (6.1, 8.3.3); staff read them.
    **{f"customers.{op}": SLM for op in ("create_customer", "update_customer", "review_customer")},
    **{f"customers.{op}": CMDB for op in ("list_customers", "get_customer")},
    **{f"agreements.{op}": SLM for op in ("create_agreement", "update_agreement", "agree_agreement")},
    **{f"agreements.{op}": SLM for op in ("retire_agreement", "create_agreement_version")},
    **{f"agreements.{op}": CMDB for op in ("list_agreements", "get_agreement")},
    "budgets.put_ci_cost": WRITE,  # a CI's cost attributes are CMDB data
    **{f"budgets.{op}": SLM for op in ("create_budget",)},
    **{f"budgets.{op}": COSTS for op in ("list_budgets", "get_budget", "budget_report")},
    **{f"costs.{op}": SLM for op in ("create_allocation_rule", "import_cost_actuals")},
    **{f"costs.{op}": COSTS for op in ("list_allocation_rules", "get_allocation_rule", "list_cost_actuals")},
}
NO_SUCH_METRIC = {"capacity.get_capacity_metric": 404, "capacity.capacity_samples": 404}
"""`{name}` is the CI type's ("server") in the walk, which names no capacity metric: an allowed
caller is answered 404, past the table."""
NO_SUCH_CONTINUITY_PLAN = {
    "continuity.get_continuity_plan": 404,
    "continuity.continuity_plan_versions": 404,
    "continuity.list_continuity_tests": 404,
}
"""`{plan_id}` is the capacity plan's in the walk, which is no continuity plan: 404, past the table."""
NO_SUCH_RULE = {"costs.get_allocation_rule": 404}
"""`{name}` ("server") names no allocation rule: 404, past the table."""

# ----------------------------------------------------------------------------- the walk


@pytest.fixture(scope="module")
async def config_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("config"))


@pytest.fixture
async def client(config_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ConfigSettings, config_db, run_worker=False))) as client:
        yield client


async def _created(client: httpx.AsyncClient, auth: Auth, path: str, body: dict[str, Any]) -> str:
    r = await client.post(path, json=body, headers=auth(Role.CONFIG_MANAGER))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def matrix(client: httpx.AsyncClient, auth: Auth) -> Matrix:
    tag = uuid.uuid4().hex[:8]
    service_id = await _created(client, auth, "/api/v1/cis", {"name": f"Mail {tag}", "type": "business_service"})
    ids = {
        "ci_id": await _created(client, auth, "/api/v1/cis", {"name": f"mx-{tag}", "type": "server"}),
        "name": "server",
        "service_id": service_id,
        "run_id": await _created(client, auth, "/api/v1/discovery/runs", {"source": f"scan-{tag}", "items": []}),
        "baseline_id": await _created(client, auth, "/api/v1/baselines", {"name": tag, "service_id": service_id}),
        "plan_id": await _created(
            client,
            auth,
            "/api/v1/capacity/plans",
            {
                "service_id": service_id,
                "requirements": "p95 < 1 s",
                "review_interval_days": 90,
                "reviewed_on": "2026-12-01",
            },
        ),
    }
    continuity_plan = {
        "kind": "continuity",
        "title": f"Mail continuity {tag}",
        "service_ids": [service_id],
        "invocation_criteria": "Mail down for an hour",
        "invocation_authority": "Head of operations",
        "procedures": ["Fail over"],
        "return_to_normal": "Fail back",
        "contacts": [{"name": "Dana", "role": "Lead"}],
    }
    continuity_id = await _created(client, auth, "/api/v1/continuity/plans", continuity_plan)
    invocation = {"major_incident_number": "INC0000001", "reason": "site lost", "invoked_at": "2026-12-01T00:00:00Z"}
    path = f"/api/v1/continuity/plans/{continuity_id}/invocations"
    ids["invocation_id"] = await _created(client, auth, path, invocation)
    slm = auth(Role.SERVICE_LEVEL_MANAGER)
    customer = {"name": f"Customer {tag}", "relationship_manager": "rita", "service_ids": [service_id]}
    r = await client.post("/api/v1/customers", json=customer, headers=slm)
    assert r.status_code == 201, r.text
    ids["customer_id"] = str(r.json()["id"])
    terms = {"kind": "sla", "title": tag, "customer_id": ids["customer_id"], "service_ids": [service_id]}
    terms |= {"targets": [{"priority": 1, "response_minutes": 15, "resolution_minutes": 60}]}
    terms |= {"availability_pct": 99.0, "calendar": "24x7", "review_date": "2027-12-01"}
    r = await client.post("/api/v1/agreements", json=terms, headers=slm)
    assert r.status_code == 201, r.text
    ids["agreement_id"] = str(r.json()["id"])
    budget = {"service_id": service_id, "period_start": "2027-01-01", "period_end": "2027-12-31", "currency": "EUR"}
    r = await client.post(
        "/api/v1/budgets", json={**budget, "lines": [{"category": "opex", "amount": "10"}]}, headers=slm
    )
    assert r.status_code == 201, r.text
    ids["budget_id"] = str(r.json()["id"])
    answers = {**NO_SUCH_METRIC, **NO_SUCH_CONTINUITY_PLAN, **NO_SUCH_RULE}
    return ownerless_matrix(client, auth, EXPECTED, ROUTERS, POLICY, ids, answers)


async def test_every_row_of_the_table_has_its_expectation() -> None:
    assert sorted(POLICY.table) == sorted(EXPECTED)


async def test_the_matrix_holds_for_every_operation_and_role(client: httpx.AsyncClient, auth: Auth) -> None:
    assert await (await matrix(client, auth)).walk() == []


async def test_flipping_any_row_of_the_table_fails_the_walk(
    client: httpx.AsyncClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    walk = await matrix(client, auth)
    assert await walk.unnoticed_flips(POLICY, monkeypatch) == []
    assert await walk.walk() == [], "every row restored"
