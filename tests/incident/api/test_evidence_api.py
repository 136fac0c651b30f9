"""An incident's evidence export over HTTP: the record with its history, notes and events, as JSON
or a zip of CSV files, with checksums stable while the incident is unchanged; the auditor's
read-only token downloads it, a requester and an agent are refused."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.tables import outbox
from shared.db import create_engine
from tests.conftest import running
from tests.infra import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

URL = "/api/v1/incidents"


@pytest.fixture(scope="module")
async def incident_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("incident"))


@pytest.fixture
async def client(incident_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(IncidentSettings, incident_db))) as client:
        yield client


async def _all_published(incident_db: str, incident_id: str) -> None:
    """The relay has published every event about the incident (so that two exports see the same rows)."""
    engine = create_engine(incident_db)
    try:
        async with engine.connect() as conn:
            pending = select(func.count()).where(outbox.c.subject == incident_id, outbox.c.published_at.is_(None))
            assert await conn.scalar(pending) == 0
    finally:
        await engine.dispose()


async def _resolved(client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str) -> str:
    ann, bob = auth("agent", subject="ann"), auth("requester", subject="bob")
    body = {"title": "VPN down", "caller": "bob", "impact": 2, "urgency": 2}
    incident_id = str((await client.post(URL, json=body, headers=bob)).json()["id"])
    steps = [
        ("assign", {"assignment_group": "network", "assignee": "ann"}),
        ("start", None),
        ("notes", {"text": "ISP ticket 4711", "visibility": "internal"}),
        ("resolve", {"resolution_code": "fixed", "resolution_notes": "ISP fixed the route"}),
    ]
    for action, step in steps:
        r = await client.post(f"{URL}/{incident_id}/{action}", json=step, headers=ann)
        assert r.status_code in (200, 201), r.text
    await eventually(lambda: _all_published(incident_db, incident_id))
    return incident_id


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


async def test_an_incident_export_holds_its_history_notes_and_events_and_its_checksums_verify(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    incident_id = await _resolved(client, auth, incident_db)
    r = await client.get(f"{URL}/{incident_id}/evidence", headers=auth("auditor"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    assert "attachment" in r.headers["content-disposition"] and "evidence.json" in r.headers["content-disposition"]
    document = r.json()
    assert document["record"]["id"] == incident_id and document["record"]["status"] == "resolved"
    statuses = [(h["old"], h["new"]) for h in document["history"] if h["field"] == "status"]
    assert statuses == [("new", "assigned"), ("assigned", "in_progress"), ("in_progress", "resolved")]
    assert [n["text"] for n in document["notes"]] == ["ISP ticket 4711"]
    types = [e["type"] for e in document["events"]]
    for expected in ("itsm.incident.created.v1", "itsm.incident.assigned.v1", "itsm.incident.resolved.v1"):
        assert expected in types
    assert all(e["subject"] == incident_id and e["published_at"] for e in document["events"])

    manifest = document["manifest"]
    assert (manifest["record_type"], manifest["record_id"], manifest["serialisation"]) == (
        "incident",
        incident_id,
        "json",
    )
    for name in ("record", "history", "notes", "review", "sla_clocks", "problems", "changes", "events"):
        assert manifest["parts"][name]["sha256"] == _digest(document[name]), name
    assert manifest["parts"]["events"]["rows"] == len(document["events"])
    assert manifest["sha256"] == _digest(manifest["parts"]) == r.headers["evidence-sha256"]
    assert r.headers["evidence-exported-at"]


async def test_two_exports_of_an_unchanged_incident_are_byte_identical_and_a_change_changes_them(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    incident_id = await _resolved(client, auth, incident_db)
    auditor = auth("auditor")
    for fmt in ("json", "csv"):
        first = await client.get(f"{URL}/{incident_id}/evidence", params={"format": fmt}, headers=auditor)
        second = await client.get(f"{URL}/{incident_id}/evidence", params={"format": fmt}, headers=auditor)
        assert first.status_code == second.status_code == 200
        assert first.content == second.content, fmt
        assert first.headers["evidence-sha256"] == second.headers["evidence-sha256"]
    before = first.headers["evidence-sha256"]
    bob = auth("requester", subject="bob")
    assert (await client.post(f"{URL}/{incident_id}/close", headers=bob)).status_code == 200
    after = await client.get(f"{URL}/{incident_id}/evidence", params={"format": "csv"}, headers=auditor)
    assert after.headers["evidence-sha256"] != before
    history = list(csv.DictReader(io.StringIO(zipfile.ZipFile(io.BytesIO(after.content)).read("history.csv").decode())))
    assert ("resolved", "closed") in [(h["old"], h["new"]) for h in history if h["field"] == "status"]


async def test_the_csv_form_is_a_zip_of_csv_files_the_csv_module_reads_and_its_manifest_verifies(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    incident_id = await _resolved(client, auth, incident_db)
    r = await client.get(f"{URL}/{incident_id}/evidence?format=csv", headers=auth("auditor"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    assert sorted(archive.namelist()) == sorted(
        [
            "manifest.json",
            *(f"{p}.csv" for p in ("record", "history", "notes", "review", "sla_clocks", "problems", "changes")),
            "events.csv",
        ]
    )
    manifest = json.loads(archive.read("manifest.json"))
    for name, part in manifest["parts"].items():
        data = archive.read(f"{name}.csv")
        assert hashlib.sha256(data).hexdigest() == part["sha256"], name
        assert len(list(csv.DictReader(io.StringIO(data.decode(), newline="")))) == part["rows"], name
    [record] = csv.DictReader(io.StringIO(archive.read("record.csv").decode()))
    assert (record["id"], record["status"], record["caller"]) == (incident_id, "resolved", "bob")
    events = list(csv.DictReader(io.StringIO(archive.read("events.csv").decode())))
    assert "itsm.incident.resolved.v1" in [e["type"] for e in events]
    assert all(json.loads(e["data"]) for e in events)
    assert manifest["sha256"] == r.headers["evidence-sha256"]


async def test_a_zip_is_asked_for_by_accept_as_well(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    incident_id = await _resolved(client, auth, incident_db)
    headers = {**auth("auditor"), "Accept": "application/zip"}
    r = await client.get(f"{URL}/{incident_id}/evidence", headers=headers)
    assert r.headers["content-type"] == "application/zip"


async def test_only_the_auditor_and_admin_export(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    incident_id = await _resolved(client, auth, incident_db)
    for role in ("requester", "agent", "incident_manager", "monitoring"):
        refused = await client.get(f"{URL}/{incident_id}/evidence", headers=auth(role, subject="bob"))
        assert refused.status_code == 403, role  # bob is the incident's caller: not even their own
        assert refused.headers["content-type"].startswith("application/problem+json")
    for role in ("auditor", "admin"):
        assert (await client.get(f"{URL}/{incident_id}/evidence", headers=auth(role))).status_code == 200, role


async def test_an_unknown_format_is_a_422_problem_and_an_unknown_incident_a_404(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    r = await client.get(f"{URL}/{uuid.uuid4()}/evidence?format=xml", headers=auth("auditor"))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert "format" in r.text
    missing = await client.get(f"{URL}/{uuid.uuid4()}/evidence", headers=auth("auditor"))
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")


async def test_a_query_export_holds_each_matching_incident_and_is_refused_over_its_bound(
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    incident_db: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    category = f"evidence-{uuid.uuid4().hex[:8]}"
    ann = auth("agent", subject="ann")
    ids = []
    for title in ("first", "second"):
        r = await client.post(
            URL, json={"title": title, "caller": "bob", "impact": 3, "urgency": 3, "category": category}, headers=ann
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    for incident_id in ids:
        await eventually(lambda: _all_published(incident_db, incident_id))  # noqa: B023 (awaited at once)
    auditor = auth("auditor")
    r = await client.get("/api/v1/evidence/incidents", params={"category": category}, headers=auditor)
    assert r.status_code == 200, r.text
    document = r.json()
    assert [d["record"]["id"] for d in document["records"]] == ids[::-1]  # the list's order: newest first
    manifest = document["manifest"]
    assert manifest["query"] == {"category": category}
    assert [m["sha256"] for m in manifest["records"]] == [d["manifest"]["sha256"] for d in document["records"]]
    assert manifest["sha256"] == _digest({"query": manifest["query"], "records": manifest["records"]})
    assert all("itsm.incident.created.v1" in [e["type"] for e in d["events"]] for d in document["records"])

    zipped = await client.get(
        "/api/v1/evidence/incidents", params={"category": category, "format": "csv"}, headers=auditor
    )
    archive = zipfile.ZipFile(io.BytesIO(zipped.content))
    numbers = [d["record"]["number"] for d in document["records"]]
    for number in numbers:
        [record] = csv.DictReader(io.StringIO(archive.read(f"{number}/record.csv").decode()))
        assert record["category"] == category
    again = await client.get(
        "/api/v1/evidence/incidents", params={"category": category, "format": "csv"}, headers=auditor
    )
    assert again.content == zipped.content

    refused = await client.get("/api/v1/evidence/incidents", params={"category": category}, headers=auth("agent"))
    assert refused.status_code == 403
    monkeypatch.setattr("shared.evidence.MAX_RECORDS", 1)
    over = await client.get("/api/v1/evidence/incidents", params={"category": category}, headers=auditor)
    assert over.status_code == 422 and over.headers["content-type"].startswith("application/problem+json")
    assert over.json()["errors"][0]["field"] == "query"


async def test_a_problem_a_request_and_a_complaint_export_with_their_history_and_events(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    incident_id = await _resolved(client, auth, incident_db)
    pm = auth("problem_manager", subject="pam")
    problem = await client.post(
        "/api/v1/problems", json={"title": "VPN flaps", "incident_ids": [incident_id]}, headers=pm
    )
    assert problem.status_code == 201, problem.text
    item = await client.post(
        "/api/v1/catalogue/items",
        json={"name": f"item-{uuid.uuid4().hex[:8]}", "fulfilment_group": "workplace"},
        headers=auth("service_level_manager"),
    )
    request = await client.post(
        "/api/v1/requests", json={"catalogue_item_id": item.json()["id"]}, headers=auth("requester", subject="bob")
    )
    assert request.status_code == 201, request.text
    complaint = await client.post(
        "/api/v1/complaints", json={"title": "nobody called back", "complainant": "bob"}, headers=auth("agent")
    )
    assert complaint.status_code == 201, complaint.text
    complaint_url = f"/api/v1/complaints/{complaint.json()['id']}"
    assert (await client.post(f"{complaint_url}/acknowledge", headers=auth("agent"))).status_code == 200

    auditor = auth("auditor")
    exported = {
        "problem": (f"/api/v1/problems/{problem.json()['id']}", "itsm.problem.created.v1"),
        "request": (f"/api/v1/requests/{request.json()['id']}", "itsm.request.submitted.v1"),
        "complaint": (complaint_url, "itsm.complaint.received.v1"),
    }
    for kind, (url, first_event) in exported.items():
        await eventually(lambda: _all_published(incident_db, url.rsplit("/", 1)[1]))  # noqa: B023 (awaited at once)
        r = await client.get(f"{url}/evidence", headers=auditor)
        assert r.status_code == 200, (kind, r.text)
        document = r.json()
        assert document["manifest"]["record_type"] == kind and document["record"]["id"] == url.rsplit("/", 1)[1]
        assert document["events"][0]["type"] == first_event, kind
        assert "history" in document["manifest"]["parts"], kind
        again = await client.get(f"{url}/evidence", headers=auditor)
        assert again.content == r.content, kind
        assert (await client.get(f"{url}/evidence", headers=auth("requester", subject="bob"))).status_code == 403
    problem_doc = (await client.get(f"/api/v1/problems/{problem.json()['id']}/evidence", headers=auditor)).json()
    assert [i["incident_id"] for i in problem_doc["incidents"]] == [incident_id]
    complaint_doc = (await client.get(f"{complaint_url}/evidence", headers=auditor)).json()
    assert ("received", "acknowledged") in [
        (h["old"], h["new"]) for h in complaint_doc["history"] if h["field"] == "status"
    ]
    incident_doc = (await client.get(f"{URL}/{incident_id}/evidence", headers=auditor)).json()
    assert [p["problem_id"] for p in incident_doc["problems"]] == [problem.json()["id"]]
