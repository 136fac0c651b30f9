"""Changes near continuity-tier services (ISO/IEC 20000-1 6.3.2) against the running change
service: once config's plan covering a service is known (continuity.plan_recorded.v1), a change on
that service is refused assessment (422 naming `continuity_impact`) until it states its continuity
and availability impact; a change elsewhere is assessed as before."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.change.app import create_app
from services.change.settings import ChangeSettings
from services.change.store.tables import outbox
from services.change.worker import HANDLERS
from shared.db import create_engine
from shared.events import new_event
from shared.events.continuity import ContinuityPlanRecorded
from shared.uow import UnitOfWork
from tests.conftest import running

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
async def change_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("change"))


@pytest.fixture
async def client(change_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ChangeSettings, change_db))) as client:
        yield client


async def _plan_covers(change_db: str, service: uuid.UUID, version: int = 1, plan: uuid.UUID | None = None) -> None:
    """config's event, as the change service's consumer takes it."""
    now = datetime.now(UTC)
    data = ContinuityPlanRecorded(
        plan_id=plan or uuid.uuid4(),
        kind="continuity",
        title="Payroll continuity",
        version=version,
        service_ids=[service],
        test_due_by=now,
        recorded_at=now,
        recorded_by="carol",
    )
    engine = create_engine(change_db)
    try:
        async with UnitOfWork(engine, outbox, source="/itsm/test") as uow:
            await HANDLERS[data.routing_key](new_event(data, source="/itsm/config", subject=str(data.plan_id)), uow)
            await uow.commit()
    finally:
        await engine.dispose()


async def _submitted(client: httpx.AsyncClient, auth: Auth, service: uuid.UUID) -> str:
    rita = auth("requester", subject="rita")
    body = {"title": "Upgrade the payroll database", "service_ids": [str(service)], "backout_plan": "restore"}
    r = await client.post("/api/v1/changes", json=body, headers=rita)
    assert r.status_code == 201, r.text
    url = f"/api/v1/changes/{r.json()['id']}"
    assert (await client.post(f"{url}/submit", headers=rita)).status_code == 200
    return url


async def test_a_change_on_a_continuity_tier_service_states_its_impact_before_assessment(
    client: httpx.AsyncClient, auth: Auth, change_db: str
) -> None:
    payroll, elsewhere = uuid.uuid4(), uuid.uuid4()
    await _plan_covers(change_db, payroll)
    rita, ann = auth("requester", subject="rita"), auth("change_manager", subject="ann")
    url = await _submitted(client, auth, payroll)

    refused = await client.post(f"{url}/assess", json={"risk": "low"}, headers=ann)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "continuity_impact"
    assert str(payroll) in refused.json()["detail"]
    shown = (await client.get(f"{url}/continuity-impact", headers=rita)).json()
    assert shown == {
        "continuity_tier_services": [str(payroll)],
        "required": True,
        "continuity_impact": None,
        "availability_impact": None,
        "notes": None,
    }

    unexplained = {"continuity_impact": "high", "availability_impact": "none"}
    bad = await client.put(f"{url}/continuity-impact", json=unexplained, headers=rita)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "notes"
    wrong = await client.put(
        f"{url}/continuity-impact", json={**unexplained, "continuity_impact": "huge"}, headers=rita
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "continuity_impact"
    stated = {**unexplained, "notes": "The standby database is rebuilt: RPO 15 min not met for 2 hours"}
    r = await client.put(f"{url}/continuity-impact", json=stated, headers=rita)
    assert r.status_code == 200, r.text
    assert (r.json()["continuity_impact"], r.json()["required"]) == ("high", True)
    someone = auth("requester", subject="someone-else")
    assert (await client.put(f"{url}/continuity-impact", json=stated, headers=someone)).status_code in (403, 404)

    assessed = await client.post(f"{url}/assess", json={"risk": "low"}, headers=ann)
    assert assessed.status_code == 200, assessed.text
    late = await client.put(f"{url}/continuity-impact", json=stated, headers=rita)
    assert late.status_code == 409  # settled at assessment

    other = await _submitted(client, auth, elsewhere)  # on no continuity-tier service: as before
    assert (await client.post(f"{other}/assess", json={"risk": "low"}, headers=ann)).status_code == 200


async def test_a_later_version_of_the_plan_decides_which_services_are_continuity_tier(
    client: httpx.AsyncClient, auth: Auth, change_db: str
) -> None:
    first, second, plan = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await _plan_covers(change_db, second, version=2, plan=plan)
    await _plan_covers(change_db, first, version=1, plan=plan)  # late: changes nothing
    ann = auth("change_manager", subject="ann")
    on_first = await _submitted(client, auth, first)
    assert (await client.post(f"{on_first}/assess", json={"risk": "low"}, headers=ann)).status_code == 200
    on_second = await _submitted(client, auth, second)
    assert (await client.post(f"{on_second}/assess", json={"risk": "low"}, headers=ann)).status_code == 422
