"""The authorisation matrix walked against the running change service: every route, with a token of
every role, on the caller's own change and on another requester's. The expectation is written here,
apart from the service's table, so that flipping a row of the table (as
`test_flipping_any_row_of_the_table_fails_the_walk` does) fails the walk."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from services.change.api import ROUTERS, pipeline
from services.change.api.deps import POLICY
from services.change.app import create_app
from services.change.settings import ChangeSettings
from shared.auth import Role
from shared.authorization import operation_of
from tests.authorization import HUMANS, ME, NOT_REQUESTER, OTHER, RECORDS_CONTROL, Expect, Matrix, expect, routes_of
from tests.conftest import running
from tests.infra import Servers, create_service_database

pytestmark = pytest.mark.asyncio(loop_scope="session")

# ----------------------------------------------------------------------------- what the issue asks

R, CM, CAB, PIPELINE = Role.REQUESTER, Role.CHANGE_MANAGER, Role.CAB_MEMBER, Role.PIPELINE
READ_OWN = expect(NOT_REQUESTER, own=[R])
"""A change: every person's role reads it, a requester only their own."""
STAFF_READ = expect(NOT_REQUESTER)
"""Nobody's records (schedule, windows, releases, deployments): not a requester, not a machine."""
RAISE = expect([CM], own=[R])
MANAGE = expect([CM])
DEPLOY = expect([CM, PIPELINE])
EXPECTED: dict[str, Expect] = {
    "changes.create_change": RAISE,
    "changes.get_change": READ_OWN,
    "changes.list_changes": READ_OWN,
    "changes.submit": RAISE,
    "changes.start": MANAGE,
    "changes.complete": MANAGE,
    "changes.fail": MANAGE,
    "changes.review": MANAGE,
    "changes.close": MANAGE,
    "changes.cancel": RAISE,
    "cab.assess": MANAGE,
    "cab.approve": expect([CM, CAB]),
    "cab.reject": expect([CM, CAB]),
    "design.put_design": RAISE,
    "design.get_design": READ_OWN,
    "design.go_live": MANAGE,
    "schedule.schedule": MANAGE,
    "schedule.change_conflicts": READ_OWN,
    "schedule.change_schedule": STAFF_READ,
    "schedule.create_blackout": MANAGE,
    "schedule.list_blackouts": STAFF_READ,
    "maintenance.create_maintenance_window": MANAGE,
    "maintenance.list_maintenance_windows": STAFF_READ,
    "maintenance.get_maintenance_window": STAFF_READ,
    "maintenance.replace_maintenance_window": MANAGE,
    "maintenance.delete_maintenance_window": MANAGE,
    "templates.create_template": MANAGE,
    "templates.list_templates": expect(HUMANS),  # the standard changes a requester may raise
    "templates.get_template": expect(HUMANS),
    "templates.change_from_template": RAISE,
    "templates.update_template": MANAGE,
    "templates.delete_template": MANAGE,
    "releases.create_release": MANAGE,
    "releases.get_release": STAFF_READ,
    "releases.list_releases": STAFF_READ,
    "releases.build_release": MANAGE,
    "releases.accept_release": MANAGE,
    "releases.reject_release": MANAGE,
    "releases.deploy_release": MANAGE,
    "releases.fail_release": MANAGE,
    "releases.close_release": MANAGE,
    "releases.cancel_release": MANAGE,
    # The pipeline records deployments and asks the gate; it reads nothing else.
    "deployments.record_deployment": DEPLOY,
    "deployments.list_deployments": STAFF_READ,
    "deployments.get_deployment": STAFF_READ,
    "deployments.verify_deployment": DEPLOY,
    "deployments.roll_back_deployment": DEPLOY,
    "pipeline.pipeline_event": DEPLOY,  # with a token; GitHub's signed webhook takes none
    "gate.deployment_gate": expect([*NOT_REQUESTER, PIPELINE]),
    # The evidence export: the auditor's read-only token (and admin), not even a requester's own.
    "evidence.change_evidence": expect([Role.AUDITOR]),
    # 6.3.2: whoever raises a change states its continuity and availability impact.
    "continuity.put_continuity_impact": RAISE,
    "continuity.get_continuity_impact": READ_OWN,
    # 6.4: whoever raises a change costs it.
    "costs.put_change_cost": RAISE,
    "costs.get_change_cost": READ_OWN,
    # Records control: the same rows in every service that mounts it.
    **RECORDS_CONTROL,
}

# ----------------------------------------------------------------------------- the walk

RAISES = {"changes.create_change", "templates.change_from_template"}
"""Whoever may raise a change is its requester: the table's `own` there means exactly that."""


@dataclass
class Records:
    change: dict[str, dict[str, Any]]  # "own" / "foreign" -> the change (emergency: the list's filter)
    template_id: str


def matrix(client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], records: Records) -> Matrix:
    def judge(op: str, rule: str, which: str, r: httpx.Response) -> str | None:
        body = r.json()
        if op in RAISES:
            made = (r.status_code, body.get("requester"))
            return None if made == (201, ME) else f"expected 201 raised by {ME}, got {made}"
        listed = r.status_code == 200 and records.change[which]["id"] in [c["id"] for c in body["items"]]
        if rule == "own" and which == "foreign":
            return "another requester's change is listed" if listed else None
        return None if listed else "the change is not listed"

    routes = routes_of(ROUTERS, POLICY)
    # Public for GitHub's signed webhook; a notification with a token runs the table's row.
    routes |= {operation_of(r): r for r in pipeline.router.routes if isinstance(r, APIRoute)}
    return Matrix(
        client,
        auth,
        EXPECTED,
        routes,
        records={
            "change_id": {w: records.change[w]["id"] for w in ("own", "foreign")},
            "template_id": {"own": records.template_id, "foreign": records.template_id},
        },
        bodies={
            "changes.create_change": lambda which: {"title": "Raised in the walk"},
            "cab.assess": lambda which: {"risk": "low"},
        },
        params={"changes.list_changes": lambda which: {"type": "emergency", "limit": 200}},
        special=judge,
        special_ops=frozenset({*RAISES, "changes.list_changes"}),
    )


@pytest.fixture(scope="module")
async def authz_db(servers: Servers) -> str:
    return await create_service_database(servers, "change", label="authz_matrix")


@pytest.fixture
async def client(authz_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ChangeSettings, authz_db, run_worker=False))) as client:
        yield client


async def _records(client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]) -> Records:
    changes = {}
    for which, who in (("own", ME), ("foreign", OTHER)):
        body = {"title": f"{who}'s emergency", "type": "emergency", "justification": "outage"}
        r = await client.post("/api/v1/changes", json=body, headers=auth("requester", subject=who))
        assert r.status_code == 201, r.text
        changes[which] = r.json()
    template = {"name": "Rotate certificates", "implementation_plan": "rotate", "backout_plan": "restore"}
    r = await client.post("/api/v1/templates", json=template, headers=auth("change_manager", subject="mike"))
    assert r.status_code == 201, r.text
    # In use from now on, so the walk's deletes cannot take it away from the walk's raises (409).
    used = await client.post(f"/api/v1/templates/{r.json()['id']}/changes", headers=auth("requester", subject="rita"))
    assert used.status_code == 201, used.text
    return Records(changes, r.json()["id"])


async def test_every_row_of_the_table_has_its_expectation() -> None:
    assert sorted(POLICY.table) == sorted(EXPECTED)


async def test_the_matrix_holds_for_every_operation_role_and_record(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    assert await matrix(client, auth, await _records(client, auth)).walk() == []


async def test_flipping_any_row_of_the_table_fails_the_walk(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each row of the service's table in turn flipped (allow <-> deny, own -> allow) in the running
    app: the walk of that row no longer matches what the issue asks."""
    walk = matrix(client, auth, await _records(client, auth))
    assert sorted(POLICY.table) == sorted(EXPECTED)
    assert await walk.unnoticed_flips(POLICY, monkeypatch) == []
    assert await walk.walk() == [], "every row restored"
