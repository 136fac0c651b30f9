"""Service reviews against the running reporting service: a review cites stored report runs (an
unknown run is refused, naming the field), records attendees, feedback, requirements with the change
raised for each, and actions whose status moves along their lifecycle under If-Match."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.reporting.app import create_app
from services.reporting.settings import ReportingSettings
from services.reporting.store.runs import insert_run
from shared.db import create_engine
from tests.conftest import running

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def reporting_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("reporting"))


@pytest.fixture
async def client(reporting_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ReportingSettings, reporting_db))) as client:
        yield client


async def stored_run(reporting_db: str) -> str:
    """A stored run of the service levels report, as the scheduler would keep it."""
    run_id = uuid.uuid4()
    start = datetime(1990, 1, 1, tzinfo=UTC) + timedelta(days=uuid.uuid4().int % 10_000)
    engine = create_engine(reporting_db)
    async with engine.begin() as conn:
        row = {"run_id": run_id, "report": "service-levels", "frequency": "monthly", "period_start": start}
        row |= {"period_end": start + timedelta(days=30), "generated_at": start, "row_count": 0, "body": {}}
        assert await insert_run(conn, row)
    await engine.dispose()
    return str(run_id)


async def test_a_service_review_cites_stored_runs_and_tracks_its_requirements_and_actions(
    client: httpx.AsyncClient, reporting_db: str, auth: Callable[..., dict[str, str]]
) -> None:
    slm = auth("service_level_manager", subject="sally")
    run = await stored_run(reporting_db)
    body: dict[str, Any] = {
        "title": "Acme quarterly review",
        "customer_id": str(uuid.uuid4()),
        "held_on": "2026-12-01",
        "attendees": ["sally", "Carl (Acme)"],
        "report_run_ids": [run, str(uuid.uuid4())],
        "feedback": "Checkout incidents took too long in November.",
        "requirements": [{"text": "A 99.9% availability target for the shop"}],
        "actions": [{"text": "Propose SLA v2", "owner": "sally", "due": "2027-01-15"}],
    }
    unknown = await client.post("/api/v1/service-reviews", json=body, headers=slm)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "report_run_ids.1"
    r = await client.post("/api/v1/service-reviews", json={**body, "report_run_ids": [run]}, headers=slm)
    assert r.status_code == 201, r.text
    review = r.json()
    assert (review["report_run_ids"], review["recorded_by"], review["actions"][0]["status"]) == ([run], "sally", "open")
    url = f"/api/v1/service-reviews/{review['id']}"

    linked = await client.post(
        f"{url}/requirements/0/change", json={"change_number": "CHG0000042"}, headers={**slm, "If-Match": 'W/"1"'}
    )
    assert linked.status_code == 200 and linked.json()["requirements"][0]["change_number"] == "CHG0000042"
    stale = await client.post(f"{url}/actions/0/status", json={"status": "done"}, headers={**slm, "If-Match": 'W/"1"'})
    assert stale.status_code == 412
    done = await client.post(f"{url}/actions/0/status", json={"status": "done"}, headers={**slm, "If-Match": 'W/"2"'})
    assert done.status_code == 200 and done.json()["actions"][0]["status"] == "done"
    again = await client.post(f"{url}/actions/0/status", json={"status": "open"}, headers={**slm, "If-Match": 'W/"3"'})
    assert again.status_code == 409
    missing = await client.post(
        f"{url}/actions/3/status", json={"status": "done"}, headers={**slm, "If-Match": 'W/"3"'}
    )
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "index"

    listed = await client.get(
        "/api/v1/service-reviews", params={"customer_id": body["customer_id"]}, headers=auth("auditor")
    )
    assert [i["id"] for i in listed.json()["items"]] == [review["id"]]
    assert (await client.post("/api/v1/service-reviews", json=body, headers=auth("agent"))).status_code == 403
    assert (await client.get(url, headers=auth("requester"))).status_code == 403
    too_many = {**body, "attendees": ["x"] * 51}
    assert (await client.post("/api/v1/service-reviews", json=too_many, headers=slm)).json()["errors"][0][
        "field"
    ] == "attendees"
