"""Internal audits and management reviews against the running reporting service: an audit is planned
in its programme's period, walks its lifecycle (a refused action is a 409 naming the allowed ones;
it closes only when every corrective action is settled), a nonconformity needs a corrective action
and raises one improvement register entry; a management review cites stored report runs (an
unknown one is refused, naming the field) and keeps the figures each showed, the audits it went
through and the register as it stood."""

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
from services.reporting.store.tables import outbox
from shared.db import create_engine
from shared.events.improvement import AuditClosed
from tests.conftest import running
from tests.infra import outbox_events

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def reporting_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("reporting"))


@pytest.fixture
async def client(reporting_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ReportingSettings, reporting_db))) as client:
        yield client


async def stored_run(reporting_db: str, totals: dict[str, Any]) -> str:
    """A stored run of the service levels report, as the scheduler would keep it."""
    run_id = uuid.uuid4()
    start = datetime(1990, 1, 1, tzinfo=UTC) + timedelta(days=uuid.uuid4().int % 10_000)
    engine = create_engine(reporting_db)
    async with engine.begin() as conn:
        row = {"run_id": run_id, "report": "service-levels", "frequency": "monthly", "period_start": start}
        row |= {"period_end": start + timedelta(days=30), "generated_at": start, "row_count": 1}
        row |= {"body": {"rows": [], "totals": totals}, "content_sha256": "ab" * 32}
        assert await insert_run(conn, row)
    await engine.dispose()
    return str(run_id)


def at(version: int, headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "If-Match": f'W/"{version}"'}


async def test_an_audit_records_findings_whose_corrective_actions_settle_before_it_closes(
    client: httpx.AsyncClient, reporting_db: str, auth: Callable[..., dict[str, str]]
) -> None:
    slm, viewer = auth("service_level_manager", subject="sally"), auth("auditor")
    programme_body = {
        "title": "Audits 2027",
        "period_start": "2027-01-01",
        "period_end": "2027-12-31",
        "owner": "sally",
    }
    assert (await client.post("/api/v1/audit-programmes", json=programme_body, headers=viewer)).status_code == 403
    programme = (await client.post("/api/v1/audit-programmes", json=programme_body, headers=slm)).json()
    audit_body = {
        "programme_id": programme["id"],
        "title": "Change management",
        "lead_auditor": "quinn",
        "auditees": ["mike"],
        "planned_on": "2027-03-10",
    }
    outside = await client.post("/api/v1/audits", json={**audit_body, "planned_on": "2028-01-05"}, headers=slm)
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "planned_on"
    unknown = await client.post("/api/v1/audits", json={**audit_body, "programme_id": str(uuid.uuid4())}, headers=slm)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "programme_id"
    r = await client.post("/api/v1/audits", json=audit_body, headers=slm)
    assert r.status_code == 201, r.text
    audit = r.json()
    url = r.headers["Location"]
    assert audit["number"].startswith("AUD") and audit["allowed_actions"] == ["cancel", "start"]

    early = await client.post(
        f"{url}/findings", json={"kind": "observation", "clause": "9.2", "text": "x"}, headers=at(1, slm)
    )
    assert early.status_code == 409 and early.json()["allowed_actions"] == ["cancel", "start"]
    assert (await client.post(f"{url}/actions", json={"action": "start"}, headers=at(1, slm))).status_code == 200
    nonconformity = {"kind": "minor_nonconformity", "clause": "9.2", "text": "Two emergency changes had no CAB record"}
    bare = await client.post(f"{url}/findings", json=nonconformity, headers=at(2, slm))
    assert bare.status_code == 422 and bare.json()["errors"][0]["field"] == "corrective_action"
    action = {"text": "Record ECAB decisions in the change", "owner": "mike", "due": "2027-04-30"}
    found = await client.post(
        f"{url}/findings", json={**nonconformity, "corrective_action": action}, headers=at(2, slm)
    )
    assert found.status_code == 200, found.text

    raised = await client.post(f"{url}/findings/0/improvement", headers=at(3, slm))
    assert raised.status_code == 200, raised.text
    number = raised.json()["findings"][0]["improvement_number"]
    entries = (await client.get("/api/v1/improvements", params={"q": number}, headers=viewer)).json()["items"]
    assert [(e["source"], e["source_ref"], e["owner"], e["kind"]) for e in entries] == [
        ("audit_finding", f"{audit['number']}/1", "mike", "nonconformity")
    ]
    twice = await client.post(f"{url}/findings/0/improvement", headers=at(4, slm))
    assert twice.status_code == 409 and number in twice.json()["detail"]

    unreported = await client.post(f"{url}/actions", json={"action": "report"}, headers=at(4, slm))
    assert unreported.status_code == 422 and unreported.json()["errors"][0]["field"] == "summary"
    report = {"action": "report", "summary": "One minor nonconformity"}
    assert (await client.post(f"{url}/actions", json=report, headers=at(4, slm))).status_code == 200
    still_open = await client.post(f"{url}/actions", json={"action": "close"}, headers=at(5, slm))
    assert still_open.status_code == 409 and "still open" in still_open.json()["detail"]
    done = await client.post(f"{url}/findings/0/corrective-action/status", json={"status": "done"}, headers=at(5, slm))
    assert done.status_code == 200
    closed = await client.post(f"{url}/actions", json={"action": "close"}, headers=at(6, slm))
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    written = await outbox_events(reporting_db, outbox, audit["id"])
    types = [e.type.removeprefix("itsm.") for e in written]
    assert types == ["audit.planned.v1", *["audit.updated.v1"] * 5, "audit.closed.v1"]
    last = written[-1].data_as(AuditClosed)
    assert (last.previous_status, last.findings[0].action_status) == ("reported", "done")
    assert last.findings[0].improvement_number == number and last.actor == "sally"
    listed = await client.get("/api/v1/audits", params={"programme_id": programme["id"]}, headers=viewer)
    assert [a["status"] for a in listed.json()["items"]] == ["closed"]


async def test_a_management_review_cites_stored_runs_with_the_figures_they_showed(
    client: httpx.AsyncClient, reporting_db: str, auth: Callable[..., dict[str, str]]
) -> None:
    slm = auth("service_level_manager", subject="sally")
    run = await stored_run(reporting_db, {"resolution_met_pct": 97.5, "breaches": 4})
    entry = {"title": "Cut breaches", "owner": "sally", "target_date": "2027-06-30"}
    assert (await client.post("/api/v1/improvements", json=entry, headers=slm)).status_code == 201
    body: dict[str, Any] = {
        "title": "Management review H1",
        "held_on": "2027-07-02",
        "chair": "Chief operating officer",
        "attendees": ["coo", "sally"],
        "report_run_ids": [run, str(uuid.uuid4())],
        "decisions": ["Fund a second on-call rota"],
        "actions": [{"text": "Staff the rota", "owner": "coo", "due": "2027-09-30"}],
    }
    unknown = await client.post("/api/v1/management-reviews", json=body, headers=slm)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "report_run_ids.1"
    no_audit = await client.post(
        "/api/v1/management-reviews",
        json={**body, "report_run_ids": [run], "audit_ids": [str(uuid.uuid4())]},
        headers=slm,
    )
    assert no_audit.status_code == 422 and no_audit.json()["errors"][0]["field"] == "audit_ids.0"
    none = await client.post("/api/v1/management-reviews", json={**body, "report_run_ids": []}, headers=slm)
    assert none.status_code == 422 and none.json()["errors"][0]["field"] == "report_run_ids"
    r = await client.post("/api/v1/management-reviews", json={**body, "report_run_ids": [run]}, headers=slm)
    assert r.status_code == 201, r.text
    review = r.json()
    [cited] = review["inputs"]
    assert (cited["run_id"], cited["report"], cited["totals"]) == (
        run,
        "service-levels",
        {"resolution_met_pct": 97.5, "breaches": 4},
    )
    assert cited["content_sha256"] == "ab" * 32
    raised = await client.get("/api/v1/improvements", params={"status": "raised", "limit": 1}, headers=slm)
    assert review["improvements_by_status"]["raised"] == raised.json()["total"] >= 1
    url = r.headers["Location"]
    moved = await client.post(f"{url}/actions/0/status", json={"status": "done"}, headers=at(1, slm))
    assert moved.status_code == 200 and moved.json()["actions"][0]["status"] == "done"
    back = await client.post(f"{url}/actions/0/status", json={"status": "open"}, headers=at(2, slm))
    assert back.status_code == 409
    assert (await client.get(url, headers=auth("agent"))).json()["inputs"] == review["inputs"]
