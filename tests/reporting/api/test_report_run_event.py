"""A stored report run is announced: the report-runs job writes `report.run_completed.v1` to
reporting's outbox in the transaction that stores the run, once per run (a second pass, or a
second replica, adds none), naming the run as the report-runs API shows it, who the report is
agreed with, and no address of its distribution list."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.reporting.app import create_app
from services.reporting.domain.agreements import Recipient
from services.reporting.settings import ReportingSettings
from services.reporting.store import tables as store
from services.reporting.usecases import projections
from services.reporting.usecases import runs as governance
from shared.db import create_engine
from shared.events import CloudEvent
from shared.events.report import ReportRunCompleted
from shared.uow import UnitOfWork
from tests.conftest import running
from tests.infra import Servers, create_service_database
from tests.reporting.agreements import agree
from tests.reporting.dataset import T0, all_events

pytestmark = pytest.mark.asyncio(loop_scope="session")
HOOK = "https://reports.example.test/hooks/secret-token-123"


async def announced(url: str) -> list[CloudEvent]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            query = select(store.outbox.c.payload).where(store.outbox.c.routing_key == ReportRunCompleted.routing_key)
            payloads = list(await conn.scalars(query.order_by(store.outbox.c.id)))
    finally:
        await engine.dispose()
    return [CloudEvent.model_validate_json(p) for p in payloads]


async def test_a_scheduled_run_writes_its_event_to_the_outbox_once_with_what_a_recipient_needs(
    servers: Servers, make_settings: Callable[..., Any], auth: Callable[..., dict[str, str]]
) -> None:
    url = await create_service_database(servers, "reporting", label="run_event")
    engine = create_engine(url)
    at = T0.replace(day=8, hour=3)  # Thursday 2026-10-08: the daily workload report covers 10-07
    try:
        async with engine.begin() as conn:
            await projections.project(conn, all_events())

        def uow() -> UnitOfWork:
            return UnitOfWork(engine, store.outbox, source="/itsm/reporting")

        version = await agree(
            uow,
            "workload",
            at=at - timedelta(days=1),
            recipients=[Recipient(HOOK, "webhook")],
            parties=("customer board", "dana"),
        )
        assert await announced(url) == [], "agreeing a report announces no run"
        assert await governance.run_scheduled_reports(uow, at) == ["workload"]
        assert await governance.run_scheduled_reports(uow, at) == []  # the period has its run
    finally:
        await engine.dispose()

    [event] = await announced(url)
    assert event.source == "/itsm/reporting"
    data = event.data_as(ReportRunCompleted)
    assert event.subject == str(data.run_id)
    assert (data.report, data.frequency, data.agreement_version) == ("workload", "daily", version)
    assert data.title.startswith("Workload")
    assert (data.owner, data.agreed_with, data.distribution_count) == ("slm", ["customer board", "dana"], 1)
    assert data.link == f"/api/v1/report-runs/{data.run_id}"
    assert HOOK not in json.dumps(event.data) and "secret-token" not in json.dumps(event.data)

    async with running(create_app(make_settings(ReportingSettings, url, run_worker=False))) as client:
        r = await client.get(data.link, headers=auth("auditor"))
        assert r.status_code == 200, r.text
        run = r.json()
    assert run["id"] == str(data.run_id)
    assert run["download"] == data.download
    assert (run["period_start"], run["period_end"]) == ("2026-10-07T00:00:00Z", "2026-10-08T00:00:00Z")
    assert (data.period_start.isoformat(), data.period_end.isoformat()) == (
        "2026-10-07T00:00:00+00:00",
        "2026-10-08T00:00:00+00:00",
    )
    assert data.row_count == run["row_count"]
    assert data.content_sha256 == run["content_sha256"]
    assert data.generated_at == at
    assert run["deliveries"] == {"pending": 1}
