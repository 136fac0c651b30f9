"""Continuity and availability plans (ISO/IEC 20000-1 6.3) against the running configuration
service: a plan changes only under an approved change (refused naming `change_number` otherwise),
a major change to the service environment makes a re-test due, tests and invocations are recorded
with their events, and the pack's content lists the covered services' CIs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.config.app import create_app
from services.config.settings import ConfigSettings
from services.config.store.tables import continuity_plan_version, outbox
from services.config.worker import HANDLERS
from shared.db import create_engine
from shared.events import CloudEvent, EventData, new_event
from shared.events.change import ChangeApproved, ChangeImplemented
from shared.uow import UnitOfWork
from tests.conftest import running
from tests.infra import row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
async def config_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("config"))


@pytest.fixture(scope="module")
async def client(config_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ConfigSettings, config_db))) as client:
        yield client


@pytest.fixture
def manager(auth: Auth) -> dict[str, str]:
    return auth("config_manager", subject="continuity-lead")


async def _ci(client: httpx.AsyncClient, manager: dict[str, str], ci_type: str, **fields: Any) -> dict[str, Any]:
    body = {"name": f"{ci_type}-{uuid.uuid4().hex[:8]}", "type": ci_type, **fields}
    r = await client.post("/api/v1/cis", json=body, headers=manager)
    assert r.status_code == 201, r.text
    return dict(r.json())


def plan_body(service_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "continuity",
        "title": f"Payroll continuity {uuid.uuid4().hex[:6]}",
        "service_ids": [service_id],
        "invocation_criteria": "Payroll unavailable for more than 2 hours on a pay day",
        "invocation_authority": "Head of IT operations",
        "recovery_targets": [{"service_id": service_id, "rto_minutes": 240, "rpo_minutes": 15}],
        "targets_while_invoked": [{"service_id": service_id, "availability_percent": 95.0}],
        "procedures": ["Fail over the database to the standby site", "Point DNS at the standby"],
        "return_to_normal": "Fail back during the next maintenance window once the primary site is verified",
        "contacts": [{"name": "Dana Ops", "role": "Incident lead", "phone": "+44 20 7946 0000"}],
        "test_interval_days": 365,
        **changes,
    }


async def outbox_events(config_db: str, routing_key: str) -> list[CloudEvent]:
    """Every event of one type the service wrote to its outbox."""
    engine = create_engine(config_db)
    try:
        async with engine.connect() as conn:
            payloads = (await conn.scalars(select(outbox.c.payload).order_by(outbox.c.id))).all()
    finally:
        await engine.dispose()
    events = [CloudEvent.model_validate_json(p) for p in payloads]
    return [e for e in events if e.type == f"itsm.{routing_key}"]


async def _consume(config_db: str, data: EventData, subject: str) -> None:
    engine = create_engine(config_db)
    try:
        async with UnitOfWork(engine, outbox, source="/itsm/test") as uow:
            await HANDLERS[data.routing_key](new_event(data, source="/itsm/change", subject=subject), uow)
            await uow.commit()
    finally:
        await engine.dispose()


async def _approve(config_db: str, affected: list[str]) -> tuple[uuid.UUID, str]:
    """An approved change in its window, as the change service's event records it in config."""
    change_id, number, now = uuid.uuid4(), f"CHG{uuid.uuid4().int % 10_000_000:07d}", datetime.now(UTC)
    window = {"change_id": change_id, "number": number, "type": "normal", "affected_ci_ids": affected}
    window |= {"planned_start": now - timedelta(hours=1), "planned_end": now + timedelta(hours=1), "approved_at": now}
    await _consume(config_db, ChangeApproved.model_validate(window), str(change_id))
    return change_id, number


async def test_a_plan_changes_only_under_an_approved_change(
    client: httpx.AsyncClient, manager: dict[str, str], config_db: str
) -> None:
    service = await _ci(client, manager, "business_service")
    created = await client.post("/api/v1/continuity/plans", json=plan_body(service["id"]), headers=manager)
    assert created.status_code == 201, created.text
    plan = created.json()
    assert (plan["version"], plan["test_status"], plan["contacts"][0]["name"]) == (1, "ok", "Dana Ops")
    url = f"/api/v1/continuity/plans/{plan['id']}"
    revised = plan_body(service["id"], title=plan["title"], procedures=["Fail over", "Tell the customers"])
    before = await row_counts(config_db, continuity_plan_version)

    unnamed = await client.put(url, json=revised, headers=manager)  # no change at all: the schema refuses
    assert unnamed.status_code == 422 and unnamed.json()["errors"][0]["field"] == "change_number"
    unknown = await client.put(url, json={**revised, "change_number": "CHG0999999"}, headers=manager)
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["errors"][0]["field"] == "change_number"
    assert "not known" in unknown.json()["detail"]
    _, elsewhere = await _approve(config_db, [str(uuid.uuid4())])  # approved, but for another CI
    other = await client.put(url, json={**revised, "change_number": elsewhere}, headers=manager)
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "change_number"
    assert "names neither the plan nor a service" in other.json()["detail"]
    assert await row_counts(config_db, continuity_plan_version) == before
    assert (await client.get(url, headers=manager)).json()["procedures"] == plan_body("x")["procedures"]

    _, number = await _approve(config_db, [service["id"]])
    stale = await client.put(url, json={**revised, "change_number": number}, headers={**manager, "If-Match": 'W/"7"'})
    assert stale.status_code == 412
    allowed = await client.put(url, json={**revised, "change_number": number}, headers=manager)
    assert allowed.status_code == 200, allowed.text
    assert (allowed.json()["version"], allowed.json()["procedures"][1]) == (2, "Tell the customers")
    versions = (await client.get(f"{url}/versions", headers=manager)).json()["items"]
    assert [(v["version"], v["change_number"]) for v in versions] == [(2, number), (1, None)]
    assert versions[1]["snapshot"]["procedures"] == plan_body("x")["procedures"]
    recorded = [e for e in await outbox_events(config_db, "continuity.plan_recorded.v1") if e.subject == plan["id"]]
    assert sorted((e.data["version"], e.data["change_number"]) for e in recorded) == [(1, None), (2, number)]


async def test_a_major_change_makes_a_retest_due_and_a_test_clears_it(
    client: httpx.AsyncClient, manager: dict[str, str], config_db: str
) -> None:
    service = await _ci(client, manager, "business_service")
    server = await _ci(client, manager, "server", service_id=service["id"])
    plan = (await client.post("/api/v1/continuity/plans", json=plan_body(service["id"]), headers=manager)).json()
    untouched = (await client.post("/api/v1/continuity/plans", json=plan_body(service["id"]), headers=manager)).json()
    url = f"/api/v1/continuity/plans/{plan['id']}"

    change_id, number, now = uuid.uuid4(), f"CHG{uuid.uuid4().int % 10_000_000:07d}", datetime.now(UTC)
    implemented = {"change_id": change_id, "number": number, "implemented_at": now, "implemented_by": "mike"}
    ordinary = ChangeImplemented.model_validate({**implemented, "affected_ci_ids": [server["id"]]})
    await _consume(config_db, ordinary, str(change_id))
    assert (await client.get(url, headers=manager)).json()["retest_change_number"] is None

    number = f"CHG{uuid.uuid4().int % 10_000_000:07d}"
    major = {**implemented, "change_id": uuid.uuid4(), "number": number, "affected_ci_ids": [server["id"]]}
    await _consume(config_db, ChangeImplemented.model_validate({**major, "major_environment_change": True}), number)
    after = (await client.get(url, headers=manager)).json()
    assert after["retest_change_number"] == number
    due_by = datetime.fromisoformat(after["test_due_by"])
    assert due_by < datetime.fromisoformat(plan["test_due_by"]) and after["test_status"] == "due"
    assert abs(due_by - (now + timedelta(days=30))) < timedelta(seconds=1)
    retests = [e.data for e in await outbox_events(config_db, "continuity.retest_due.v1")]
    retests = [r for r in retests if r["change_number"] == number]
    assert sorted(r["plan_id"] for r in retests) == sorted([plan["id"], untouched["id"]])

    test = {
        "type": "failover",
        "tested_at": (now + timedelta(seconds=1)).isoformat(),
        "scope": "Database fail-over to the standby site",
        "results": [{"requirement": "RTO 240 min", "result": "back in 95 min", "met": True}],
        "deficiencies": ["DNS TTL too long"],
        "actions": ["Lower the TTL to 60 s"],
        "review": {"held_on": now.date().isoformat(), "held_by": "Dana Ops", "notes": "Good run"},
    }
    future = await client.post(f"{url}/tests", json={**test, "tested_at": "2999-01-01T00:00:00Z"}, headers=manager)
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "tested_at"
    r = await client.post(f"{url}/tests", json={**test, "tested_at": now.isoformat()}, headers=manager)
    assert r.status_code == 201, r.text
    cleared = (await client.get(url, headers=manager)).json()
    assert (cleared["retest_change_number"], cleared["test_status"]) == (None, "ok")
    assert datetime.fromisoformat(cleared["test_due_by"]) == now + timedelta(days=365)
    tests = (await client.get(f"{url}/tests", headers=manager)).json()
    assert tests["total"] == 1 and tests["items"][0]["deficiencies"] == ["DNS TTL too long"]


async def test_an_invocation_is_returned_to_normal_then_reviewed(
    client: httpx.AsyncClient, manager: dict[str, str], auth: Auth, config_db: str
) -> None:
    service = await _ci(client, manager, "business_service")
    plan = (await client.post("/api/v1/continuity/plans", json=plan_body(service["id"]), headers=manager)).json()
    lead = auth("incident_manager", subject="im")
    now = datetime.now(UTC)
    body = {"major_incident_number": "INC0000042", "reason": "Primary site lost", "invoked_at": now.isoformat()}
    bad = await client.post(
        f"/api/v1/continuity/plans/{plan['id']}/invocations", json={**body, "major_incident_number": "42"}, headers=lead
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "major_incident_number"
    r = await client.post(f"/api/v1/continuity/plans/{plan['id']}/invocations", json=body, headers=lead)
    assert r.status_code == 201, r.text
    url = r.headers["Location"]
    early_review = {"held_on": now.date().isoformat(), "held_by": "im", "notes": "Lessons"}
    refused = await client.post(f"{url}/review", json=early_review, headers=lead)
    assert refused.status_code == 409 and refused.json()["allowed_actions"] == ["return"]
    backwards = {"returned_to_normal_at": (now - timedelta(hours=1)).isoformat()}
    assert (await client.post(f"{url}/return", json=backwards, headers=lead)).status_code == 422
    back = {"returned_to_normal_at": now.isoformat(), "timeline": [{"at": now.isoformat(), "note": "Failed back"}]}
    returned = await client.post(f"{url}/return", json=back, headers=lead)
    assert returned.status_code == 200, returned.text
    assert (returned.json()["status"], returned.json()["version"]) == ("returned_to_normal", 2)
    reviewed = await client.post(f"{url}/review", json=early_review, headers=lead)
    assert reviewed.json()["status"] == "reviewed" and reviewed.json()["review"]["notes"] == "Lessons"
    invoked = [e.data for e in await outbox_events(config_db, "continuity.invoked.v1")]
    invoked = [i for i in invoked if i["plan_id"] == plan["id"]]
    assert [i["major_incident_number"] for i in invoked] == ["INC0000042"]
    assert await outbox_events(config_db, "continuity.returned_to_normal.v1")
    assert (await client.post(f"{url}/return", json=back, headers=auth("agent"))).status_code == 403


async def test_the_pack_holds_the_covered_services_cis_and_is_recorded(
    client: httpx.AsyncClient, manager: dict[str, str], config_db: str
) -> None:
    service = await _ci(client, manager, "business_service")
    db = await _ci(client, manager, "database", service_id=service["id"])
    app = await _ci(client, manager, "server", service_id=service["id"])
    link = {"source_id": app["id"], "type": "depends_on", "target_id": db["id"]}
    assert (await client.post("/api/v1/relationships", json=link, headers=manager)).status_code == 201
    uses = {"source_id": service["id"], "type": "runs_on", "target_id": app["id"]}
    assert (await client.post("/api/v1/relationships", json=uses, headers=manager)).status_code == 201
    await client.post("/api/v1/continuity/plans", json=plan_body(service["id"]), headers=manager)
    r = await client.post("/api/v1/continuity/pack-exports", headers=manager)
    assert r.status_code == 201, r.text
    pack = r.json()
    mine = next(s for s in pack["services"] if s["id"] == service["id"])
    assert sorted(c["number"] for c in mine["cis"]) == sorted([db["number"], app["number"]])
    assert {**link} in [dict(x) for x in pack["relationships"]]
    # The availability plan's single points of failure: the only server, then the only database.
    spofs = [(s["number"], s["cut_off"], s["types_lost"]) for s in mine["single_points_of_failure"]]
    assert spofs == [(app["number"], 2, ["database", "server"]), (db["number"], 1, ["database"])]
    exports = [e.data for e in await outbox_events(config_db, "continuity.pack_exported.v1")]
    assert pack["export_id"] in [e["export_id"] for e in exports]


async def test_bad_plans_are_refused_naming_the_field(client: httpx.AsyncClient, manager: dict[str, str]) -> None:
    service = await _ci(client, manager, "business_service")
    server = await _ci(client, manager, "server")
    cases = {
        "service_ids": plan_body(server["id"]),  # not a business service
        "recovery_targets": plan_body(
            service["id"], recovery_targets=[{"service_id": server["id"], "rto_minutes": 1, "rpo_minutes": 1}]
        ),
        "procedures": plan_body(service["id"], procedures=["x" * 4001]),
        "contacts": plan_body(service["id"], contacts=[]),
    }
    for field, body in cases.items():
        r = await client.post("/api/v1/continuity/plans", json=body, headers=manager)
        assert r.status_code == 422, (field, r.text)
        assert r.json()["errors"][0]["field"].split(".")[0].split("[")[0] == field, r.json()
