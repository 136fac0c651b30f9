"""Stored runs of agreed reports: their agreement version and content hash, delivery to webhook
recipients (a real HTTP receiver on a local port) with retries across job passes, once even with
two replicas, findings and actions on a run, and runs that cannot be changed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting import worker
from services.reporting.app import create_app
from services.reporting.domain.agreements import Recipient
from services.reporting.settings import ReportingSettings
from services.reporting.store import tables as store
from services.reporting.usecases import agreements as governance
from services.reporting.usecases import projections as usecases
from shared.db import create_engine
from shared.periodic import JobContext
from shared.uow import UnitOfWork
from tests.conftest import running
from tests.infra import Servers, create_service_database, row_counts
from tests.reporting.agreements import agree
from tests.reporting.dataset import T0, all_events
from tests.reporting.receiver import Receiver, receiver

pytestmark = pytest.mark.asyncio(loop_scope="session")
Auth = Callable[..., dict[str, str]]

AT = T0.replace(day=8, hour=3)  # Thursday 2026-10-08 03:00: workload covers 10-07, incidents the week before


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Suite:
    engine: AsyncEngine
    url: str
    settings: ReportingSettings

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.engine, store.outbox, source="/itsm/reporting")

    async def job(self, now: datetime) -> None:
        """One pass of the worker's report-runs job, as the periodic runner makes it."""
        await worker.schedule_report_runs(JobContext(self.unit_of_work, self.engine, self.settings, now))


@pytest.fixture
async def suite(servers: Servers, make_settings: Callable[..., Any]) -> AsyncIterator[Suite]:
    url = await create_service_database(servers, "reporting", label="distribution")
    engine = create_engine(url)
    async with engine.begin() as conn:
        await usecases.project(conn, all_events())
    settings = make_settings(
        ReportingSettings,
        url,
        run_worker=False,
        report_delivery_retry_s=60,
        report_delivery_retry_max_s=3600,
        report_delivery_max_attempts=2,
        report_delivery_timeout_s=5,
    )
    try:
        yield Suite(engine, url, settings)
    finally:
        await engine.dispose()


def hooks(r: Receiver, *paths: str) -> list[Recipient]:
    return [Recipient(r.url(p), "webhook") for p in paths]


async def test_agreed_runs_are_delivered_once_retried_after_a_failure_and_never_resent(
    suite: Suite, auth: Auth
) -> None:
    down = f"http://127.0.0.1:{free_port()}/nobody-listens"
    with receiver({"/flaky": [503, 200], "/broken": [500]}) as r:
        await agree(suite.unit_of_work, "workload", at=AT - timedelta(days=1), recipients=hooks(r, "/ok", "/flaky"))
        await agree(
            suite.unit_of_work,
            "incidents",
            at=AT - timedelta(days=1),
            recipients=[*hooks(r, "/ok", "/broken"), Recipient(down, "webhook")],
        )
        # Two replicas run the job at the same moment: each run is stored once, each delivery made once.
        await asyncio.gather(suite.job(AT), suite.job(AT))
        assert await row_counts(suite.url, store.report_run) == (2,)
        ok = r.at("/ok")
        assert sorted(m.json()["run"]["report"] for m in ok) == ["incidents", "workload"]
        assert (len(r.at("/flaky")), len(r.at("/broken"))) == (1, 1)

        # What a receiver gets: the run's record and the report as produced, its hash checkable.
        workload = next(m for m in ok if m.json()["run"]["report"] == "workload")
        payload = workload.json()
        assert payload["run"]["agreement_version"] == 2
        assert (payload["run"]["period_start"], payload["report"]["filters"]["from"]) == (
            "2026-10-07T00:00:00+00:00",
            "2026-10-07T00:00:00+00:00",
        )
        canonical = json.dumps(payload["report"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        assert payload["run"]["content_sha256"] == digest == workload.headers["X-ITSM-Content-SHA256"]
        assert workload.headers["Content-Type"] == "application/json"

        async with running(create_app(suite.settings)) as client:
            runs = (await client.get("/api/v1/report-runs", headers=auth("auditor"))).json()["items"]
            by_report = {run["report"]: run for run in runs}
            assert by_report["workload"]["content_sha256"] == digest
            assert by_report["workload"]["deliveries"] == {"delivered": 1, "failed": 1}
            assert by_report["incidents"]["deliveries"] == {"delivered": 1, "failed": 2}
            log = await deliveries(client, auth, by_report["workload"]["id"])
            assert log[r.url("/ok")]["status"] == "delivered"
            flaky = log[r.url("/flaky")]
            assert (flaky["status"], flaky["attempts"], flaky["delivered_at"]) == ("failed", 1, None)
            assert flaky["last_error"].startswith("HTTP 503")
            assert datetime.fromisoformat(flaky["next_attempt_at"]) == AT + timedelta(seconds=60)
            refused = (await deliveries(client, auth, by_report["incidents"]["id"]))[down]
            assert (refused["status"], refused["attempts"]) == ("failed", 1)
            assert "ConnectError" in refused["last_error"]

            await suite.job(AT + timedelta(seconds=30))  # nothing due yet
            assert (len(r.at("/ok")), len(r.at("/flaky")), len(r.at("/broken"))) == (2, 1, 1)

            await suite.job(AT + timedelta(seconds=61))  # the retries are due
            assert (len(r.at("/ok")), len(r.at("/flaky")), len(r.at("/broken"))) == (2, 2, 2)
            first, second = r.at("/flaky")
            assert first.body == second.body  # the same run, byte for byte
            assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
            log = await deliveries(client, auth, by_report["workload"]["id"])
            flaky = log[r.url("/flaky")]
            assert (flaky["status"], flaky["attempts"], flaky["next_attempt_at"]) == ("delivered", 2, None)
            assert datetime.fromisoformat(flaky["delivered_at"]) == AT + timedelta(seconds=61)
            broken = (await deliveries(client, auth, by_report["incidents"]["id"]))[r.url("/broken")]
            # Two attempts allowed (settings): it stays failed, with no next attempt.
            assert (broken["status"], broken["attempts"], broken["next_attempt_at"]) == ("failed", 2, None)

            # Later passes deliver nothing again: delivered ones are never resent, given-up ones not retried.
            await suite.job(AT + timedelta(hours=1))
            await asyncio.gather(suite.job(AT + timedelta(hours=2)), suite.job(AT + timedelta(hours=2)))
            assert (len(r.at("/ok")), len(r.at("/flaky")), len(r.at("/broken"))) == (2, 2, 2)
    assert await row_counts(suite.url, store.report_run) == (2,)


async def deliveries(client: httpx.AsyncClient, auth: Auth, run_id: str) -> dict[str, dict[str, Any]]:
    r = await client.get(f"/api/v1/report-runs/{run_id}/distribution", headers=auth("auditor"))
    assert r.status_code == 200, r.text
    return {d["recipient"]: d for d in r.json()["items"]}


async def test_findings_and_actions_are_appended_to_a_run_and_come_with_its_download(suite: Suite, auth: Auth) -> None:
    november = AT.replace(month=11, day=3)  # the monthly run covers October, the data set's month
    await agree(suite.unit_of_work, "service-levels", at=november - timedelta(days=1))
    await suite.job(november)
    async with running(create_app(suite.settings)) as client:
        [run] = (await client.get("/api/v1/report-runs", headers=auth("auditor"))).json()["items"]
        assert (run["report"], run["deliveries"]) == ("service-levels", {})  # no recipients agreed
        path = f"/api/v1/report-runs/{run['id']}/findings"
        finding = {
            "text": "Mail priority 2 resolution at 50%: one breach on INC0000002",
            "actions": [
                {
                    "action": "Add a second on-call engineer for Mail",
                    "owner": "Mail service owner",
                    "due": "2026-11-15",
                    "communicated_to": ["Customer board", "Service desk"],
                }
            ],
        }
        assert (await client.post(path, json=finding, headers=auth("auditor"))).status_code == 403
        added = await client.post(path, json=finding, headers=auth("service_level_manager", subject="sam"))
        assert added.status_code == 201, added.text
        assert (added.json()["recorded_by"], added.json()["actions"]) == ("sam", finding["actions"])
        # Each action decided enters the improvement register, owned and due as decided.
        params = {"source": "report_finding", "q": added.json()["id"]}
        [entry] = (await client.get("/api/v1/improvements", params=params, headers=auth("auditor"))).json()["items"]
        assert (entry["source_ref"], entry["title"], entry["owner"], entry["target_date"]) == (
            f"{added.json()['id']}/1",
            "Add a second on-call engineer for Mail",
            "Mail service owner",
            "2026-11-15",
        )
        second = {"text": "Nothing else to act on", "actions": []}
        assert (await client.post(path, json=second, headers=auth("admin"))).status_code == 201

        listed = (await client.get(path, headers=auth("agent"))).json()["items"]
        assert [f["text"] for f in listed] == [finding["text"], second["text"]]
        download = (await client.get(run["download"], headers=auth("auditor"))).json()
        assert [f["text"] for f in download["findings"]] == [finding["text"], second["text"]]
        assert download["findings"][0]["actions"][0]["communicated_to"] == ["Customer board", "Service desk"]
        # The findings come with the run; the content hash is the report's as produced.
        report = {k: v for k, v in download.items() if k not in ("run", "findings")}
        canonical = json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        assert download["run"]["content_sha256"] == hashlib.sha256(canonical).hexdigest() == run["content_sha256"]
        assert download["run"]["agreement_version"] == 2
        assert download["run"]["period_start"] == download["filters"]["from"] == "2026-10-01T00:00:00+00:00"
        assert len(download["rows"]) == 4

        bad = dict(finding, actions=[dict(finding["actions"][0], communicated_to=[])])  # type: ignore[arg-type]
        r = await client.post(path, json=bad, headers=auth("service_level_manager"))
        assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "actions.0.communicated_to")
        r = await client.post(path, json={"text": "x", "actions": [dict(finding["actions"][0], due="soon")]},  # type: ignore[arg-type]
                              headers=auth("service_level_manager"))  # fmt: skip
        assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "actions.0.due")
        r = await client.post(path, json={"text": ""}, headers=auth("service_level_manager"))
        assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "text")
        missing = "/api/v1/report-runs/00000000-0000-0000-0000-000000000000/findings"
        r = await client.post(missing, json=second, headers=auth("service_level_manager"))
        assert (r.status_code, r.headers["content-type"]) == (404, "application/problem+json")
        assert (await client.get(missing, headers=auth("auditor"))).status_code == 404
        assert len((await client.get(path, headers=auth("auditor"))).json()["items"]) == 2

    # Runs and findings are records: SQL cannot change or remove them either.
    for statement in (
        "UPDATE report_run SET row_count = 0",
        "DELETE FROM report_run",
        "UPDATE report_finding SET text = 'nothing to see'",
        "DELETE FROM report_finding",
    ):
        with pytest.raises(DBAPIError, match="never updated or deleted"):
            async with suite.engine.begin() as conn:
                await conn.execute(sa.text(statement))
    async with suite.engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT count(*) FROM report_finding"))).scalar_one() == 2


async def test_a_report_without_an_agreement_in_force_is_not_run(suite: Suite) -> None:
    with receiver() as r:
        await agree(suite.unit_of_work, "workload", at=AT - timedelta(days=1), recipients=hooks(r, "/ok"))
        await governance.retire(
            suite.unit_of_work(), "workload", expected=2, reason="not wanted", by="slm", now=AT - timedelta(hours=1)
        )
        await suite.job(AT)
        assert r.received == []
    assert await row_counts(suite.url, store.report_run) == (0,)
