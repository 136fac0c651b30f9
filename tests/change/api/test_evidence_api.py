"""A change's evidence export over HTTP: the change with its votes and the events of each step, as
JSON or a zip of CSV files; stable while the change is unchanged; the auditor only (and admin)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.change.app import create_app
from services.change.settings import ChangeSettings
from tests.conftest import running

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def change_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("change"))


@pytest.fixture
async def client(change_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ChangeSettings, change_db))) as client:
        yield client


async def test_a_change_export_holds_its_votes_and_events_and_only_the_auditor_gets_it(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    start = datetime.now(UTC) + timedelta(hours=1)
    body = {
        "title": "Upgrade the load balancers",
        "justification": "end of support",
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=2)).isoformat(),
    }
    rita = auth("requester", subject="rita")
    change = (await client.post("/api/v1/changes", json=body, headers=rita)).json()
    assert (await client.post(f"/api/v1/changes/{change['id']}/submit", headers=rita)).status_code == 200
    url = f"/api/v1/changes/{change['id']}/evidence"

    document = (await client.get(url, headers=auth("auditor"))).json()
    assert document["record"]["number"] == change["number"] and document["record"]["requester"] == "rita"
    types = [e["type"] for e in document["events"]]
    assert types[:2] == ["itsm.change.created.v1", "itsm.change.submitted.v1"]
    assert document["manifest"]["record_type"] == "change"
    assert {"votes", "affected_cis", "review", "events"} <= set(document["manifest"]["parts"])

    zipped = await client.get(url, params={"format": "csv"}, headers=auth("admin"))
    archive = zipfile.ZipFile(io.BytesIO(zipped.content))
    [record] = csv.DictReader(io.StringIO(archive.read("record.csv").decode()))
    assert record["status"] == "submitted"
    assert [e["type"] for e in csv.DictReader(io.StringIO(archive.read("events.csv").decode()))][:2] == types[:2]

    for role in ("requester", "change_manager", "cab_member", "pipeline"):
        refused = await client.get(url, headers=auth(role, subject="rita"))
        assert refused.status_code == 403, role  # rita raised it: not even her own
    bad = await client.get(url, params={"format": "pdf"}, headers=auth("auditor"))
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
