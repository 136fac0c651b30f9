"""The authorisation matrix walked against the running reporting service: every operation, with a token
of every role, on a report with an agreement. The expectation is written here, apart from the service's
table, so that flipping a row of the table fails the walk. No reporting record is anyone's own: every
cell is allowed or denied. The dashboard page is public; its stream is not."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.reporting.api import ROUTERS
from services.reporting.api.deps import POLICY
from services.reporting.app import create_app
from services.reporting.settings import ReportingSettings
from services.reporting.store.live import FEED
from services.reporting.store.runs import insert_run
from shared.auth import Role
from shared.db import create_engine
from tests.authorization import HUMANS, ME, NOT_REQUESTER, Expect, Matrix, expect
from tests.authorization_allowed import ownerless_matrix
from tests.conftest import running
from tests.infra import Servers, create_service_database

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]

# ----------------------------------------------------------------------------- what the issue asks

STAFF = expect(NOT_REQUESTER)  # reports count everybody's records: not a requester's, not a machine's
SLM = expect([Role.SERVICE_LEVEL_MANAGER])
EXPECTED: dict[str, Expect] = {
    "event_log.list_events": STAFF,
    "reports.incident_summary": STAFF,
    "reports.list_reports": expect(HUMANS),  # the definitions hold no record
    "reports.get_report": STAFF,
    "projections.rebuild_projections": expect([]),  # admin only
    "agreements.list_agreements": STAFF,
    "agreements.get_agreement": STAFF,
    "agreements.list_agreement_versions": STAFF,
    "agreements.get_agreement_version": STAFF,
    "agreements.propose_agreement": SLM,
    "agreements.agree_agreement": SLM,
    "agreements.retire_agreement": SLM,
    "runs.list_report_runs": STAFF,
    "runs.get_report_run": STAFF,
    "runs.download_report_run": STAFF,
    "runs.list_findings": STAFF,
    "runs.add_finding": SLM,
    "distribution.get_distribution": STAFF,
    "dashboard.stream": STAFF,
    **{f"service_reviews.{op}": STAFF for op in ("list_service_reviews", "get_service_review")},
    **{
        f"service_reviews.{op}": SLM
        for op in ("record_service_review", "move_service_review_action", "link_service_review_change")
    },
    **{f"improvements.{op}": STAFF for op in ("list_improvements", "get_improvement", "get_improvement_policy")},
    **{
        f"improvements.{op}": SLM
        for op in ("raise_improvement", "update_improvement", "act_on_improvement", "set_improvement_policy")
    },
    **{f"audits.{op}": STAFF for op in ("list_audit_programmes", "get_audit_programme", "list_audits")},
    "audits.get_internal_audit": STAFF,
    **{
        f"audits.{op}": SLM
        for op in ("plan_audit_programme", "plan_audit", "move_corrective_action", "raise_finding_improvement")
    },
    # An audit's lead auditor (the auditor role) conducts it: moves it and records its findings.
    **{
        f"audits.{op}": expect([Role.SERVICE_LEVEL_MANAGER], own=[Role.AUDITOR])
        for op in ("act_on_audit", "add_audit_finding")
    },
    **{f"management_reviews.{op}": STAFF for op in ("list_management_reviews", "get_management_review")},
    **{f"management_reviews.{op}": SLM for op in ("record_management_review", "move_management_review_action")},
}
PUBLIC = {"dashboard.dashboard_page"}

# ----------------------------------------------------------------------------- the walk

REPORT = "incidents"
RUN = uuid.uuid4()
PROPOSAL = {
    "owner": "Service level manager",
    "agreed_with": ["Service desk"],
    "distribution_list": [{"recipient": "https://reports.example.org/hook", "channel": "webhook"}],
    "reason": "weekly pack",
}


@pytest.fixture(scope="module")
async def authz_db(servers: Servers) -> str:
    url = await create_service_database(servers, "reporting", label="authz_matrix")
    engine = create_engine(url)
    async with engine.begin() as conn:  # the stored run a management review cites
        start = datetime(1999, 1, 1, tzinfo=UTC)
        row = {"run_id": RUN, "report": "service-levels", "frequency": "monthly", "period_start": start}
        row |= {"period_end": start + timedelta(days=31), "generated_at": start, "row_count": 0, "body": {}}
        await insert_run(conn, row)
    await engine.dispose()
    return url


@pytest.fixture
async def client(authz_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    # One stream per subject: the walk's subject holds it already, so an allowed caller is answered
    # 429 by the route's own cap (a stream let through would never end).
    settings = make_settings(ReportingSettings, authz_db, run_worker=False, stream_max_per_subject=1)
    async with running(create_app(settings)) as client:
        held = FEED.subscribe(max_readers=200, subject=ME, max_per_subject=1)
        try:
            yield client
        finally:
            FEED.unsubscribe(held)


async def matrix(client: httpx.AsyncClient, auth: Auth) -> Matrix:
    path = f"/api/v1/reports/{REPORT}/agreement"
    if (await client.get(path, headers=auth(Role.AUDITOR))).status_code == 404:
        proposed = await client.put(path, json=PROPOSAL, headers=auth(Role.SERVICE_LEVEL_MANAGER))
        assert proposed.status_code == 200, proposed.text
    review = {"title": "Quarterly", "held_on": "2026-12-01", "attendees": ["sally"]}
    review |= {"actions": [{"text": "SLA v2", "owner": "sally", "due": "2027-01-15"}]}
    recorded = await client.post("/api/v1/service-reviews", json=review, headers=auth(Role.SERVICE_LEVEL_MANAGER))
    assert recorded.status_code == 201, recorded.text
    entry = {"title": "Faster P1s", "owner": "sally", "target_date": "2027-03-31"}
    raised = await client.post("/api/v1/improvements", json=entry, headers=auth(Role.SERVICE_LEVEL_MANAGER))
    assert raised.status_code == 201, raised.text
    ids = {"name": REPORT, "version": "1", "review_id": str(recorded.json()["id"]), "index": "0"}
    ids["improvement_id"] = str(raised.json()["id"])
    programme = {"title": "Audits", "period_start": "2027-01-01", "period_end": "2027-12-31", "owner": "sally"}
    planned = await client.post("/api/v1/audit-programmes", json=programme, headers=auth(Role.SERVICE_LEVEL_MANAGER))
    assert planned.status_code == 201, planned.text
    ids["programme_id"] = str(planned.json()["id"])
    audit = {"programme_id": ids["programme_id"], "title": "CM", "lead_auditor": "quinn", "planned_on": "2027-03-01"}
    audited = await client.post("/api/v1/audits", json=audit, headers=auth(Role.SERVICE_LEVEL_MANAGER))
    assert audited.status_code == 201, audited.text
    ids["audit_id"] = str(audited.json()["id"])
    led = await client.post(
        "/api/v1/audits", json=audit | {"lead_auditor": ME}, headers=auth(Role.SERVICE_LEVEL_MANAGER)
    )
    assert led.status_code == 201, led.text
    review = {"title": "MR", "held_on": "2027-07-01", "chair": "coo", "attendees": ["coo"]}
    review |= {"report_run_ids": [str(RUN)], "actions": [{"text": "Act", "owner": "coo", "due": "2027-09-30"}]}
    held = await client.post("/api/v1/management-reviews", json=review, headers=auth(Role.SERVICE_LEVEL_MANAGER))
    assert held.status_code == 201, held.text
    ids["management_review_id"] = str(held.json()["id"])
    walk = ownerless_matrix(client, auth, EXPECTED, ROUTERS, POLICY, ids, answers={"dashboard.stream": 429})
    walk.records = {**walk.records, "audit_id": {"own": str(led.json()["id"]), "foreign": ids["audit_id"]}}
    return walk


async def test_every_row_of_the_table_has_its_expectation() -> None:
    assert sorted(POLICY.table) == sorted(EXPECTED)
    assert POLICY.public == PUBLIC


async def test_the_matrix_holds_for_every_operation_and_role(client: httpx.AsyncClient, auth: Auth) -> None:
    assert await (await matrix(client, auth)).walk() == []


async def test_flipping_any_row_of_the_table_fails_the_walk(
    client: httpx.AsyncClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    walk = await matrix(client, auth)
    assert await walk.unnoticed_flips(POLICY, monkeypatch) == []
    assert await walk.walk() == [], "every row restored"


async def test_the_dashboard_page_takes_no_token_and_its_stream_does(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert (await client.get("/web/app.js")).status_code == 200
    assert (await client.get("/api/v1/stream")).status_code == 401
