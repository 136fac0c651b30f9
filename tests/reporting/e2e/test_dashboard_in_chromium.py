"""The dashboard in headless Chromium (Debian's), against reporting run as a process on a real port,
on PostgreSQL, fed real events through RabbitMQ: it loads, draws the reports' figures, a filter
changes them, an arriving event updates the panels live, and the browser console stays clean.

Driven with Playwright's Python package on the machine's /usr/bin/chromium (no browser download).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from shared.events import CloudEvent, EventData, new_event
from shared.events.change import ChangeCreated, ChangeImplemented
from shared.events.complaint import ComplaintReceived
from shared.events.config import CapacityThresholdBreached, ConfigItemCreated
from shared.events.continuity import ContinuityPlanRecorded, ContinuityRetestDue, ContinuityTestRecorded
from shared.events.cost import AllocatedPart, BudgetCreated, BudgetLine, ChangeCostStated, CostActualRecorded
from shared.events.incident import (
    IncidentAssigned,
    IncidentCreated,
    IncidentLinkedToProblem,
    IncidentResolved,
    SlaResult,
)
from shared.messaging import BrokerConnection, EventPublisher
from tests.conftest import TEST_JWT_SECRET
from tests.infra import Servers, create_service_database, eventually

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)"),
]

NOW = datetime.now(UTC).replace(microsecond=0)
EMAIL, PORTAL = uuid.uuid4(), uuid.uuid4()
MAIL_GW, WEB_API, WEB_DB = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
MAIL_FAILOVER, PORTAL_DR, PORTAL_AVAILABILITY = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
DASH = "\N{EN DASH}"  # what a panel shows for no value


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Feed:
    """Publishes events onto the run's exchange as the producing services would."""

    publisher: EventPublisher
    numbers: int = 0
    sent: list[CloudEvent] = field(default_factory=list)

    async def send(self, data: EventData, *, subject: uuid.UUID, at: datetime, source: str) -> None:
        event = new_event(data, source=f"/itsm/{source}", subject=str(subject), time=at)
        await self.publisher.publish_event(event)
        self.sent.append(event)

    async def ci(self, ci_id: uuid.UUID, name: str, ci_type: str, service: uuid.UUID | None) -> None:
        data = ConfigItemCreated(
            ci_id=ci_id,
            number=f"CI{len(self.sent):07d}",
            name=name,
            type=ci_type,
            status="live",
            criticality=2,
            created_at=NOW - timedelta(days=40),
            service_id=service,
        )
        await self.send(data, subject=ci_id, at=NOW - timedelta(days=40), source="config")

    async def incident(
        self,
        *,
        ci: uuid.UUID,
        service: uuid.UUID,
        group: str,
        priority: int,
        opened: datetime,
        resolved_after: timedelta | None = None,
        sla: tuple[bool, bool] | None = None,
    ) -> tuple[uuid.UUID, str]:
        self.numbers += 1
        incident_id, number = uuid.uuid4(), f"INC{self.numbers:07d}"
        common = {"incident_id": incident_id, "number": number, "priority": priority}
        context = {"ci_id": ci, "service_id": service, "assignment_group": group}
        impact, urgency = {1: (1, 1), 2: (1, 2), 3: (2, 2), 4: (2, 3)}[priority]
        created = IncidentCreated(
            **common, title="t", impact=impact, urgency=urgency, caller="c", opened_at=opened, **context
        )
        await self.send(created, subject=incident_id, at=opened, source="incident")
        assigned_at = opened + timedelta(minutes=10)
        assigned = IncidentAssigned(
            **common, status="assigned", previous_status="new", actor="a", occurred_at=assigned_at, **context
        )
        await self.send(assigned, subject=incident_id, at=assigned_at, source="incident")
        if resolved_after is None:
            return incident_id, number
        resolved_at = opened + resolved_after
        results = []
        if sla is not None:
            results = [
                SlaResult(target="response", target_business_s=3600, elapsed_business_s=600, met=sla[0]),
                SlaResult(target="resolution", target_business_s=28800, elapsed_business_s=30000, met=sla[1]),
            ]
        resolved = IncidentResolved(
            **common,
            status="resolved",
            previous_status="in_progress",
            actor="a",
            occurred_at=resolved_at,
            resolution_code="fixed",
            resolved_at=resolved_at,
            opened_at=opened,
            first_response_at=assigned_at,
            sla=results,
            **context,
        )
        await self.send(resolved, subject=incident_id, at=resolved_at, source="incident")
        return incident_id, number


def _spawn(command: list[str], env: dict[str, str], output: Any) -> subprocess.Popen[bytes]:
    # Output to a file, not a pipe nobody drains (a full pipe would block the service).
    return subprocess.Popen(command, env=env, stdout=output, stderr=output)


@pytest.fixture
async def reporting(servers: Servers) -> AsyncIterator[str]:
    """Reporting as a uvicorn process on a free port; its base URL."""
    database_url = await create_service_database(servers, "reporting", label=f"browser{uuid.uuid4().hex[:6]}")
    port = _free_port()
    env = {
        **os.environ,
        "REPORTING_DATABASE_URL": database_url,
        "ITSM_AMQP_URL": servers.amqp_url,
        "ITSM_EVENTS_EXCHANGE": servers.exchange,
        "ITSM_QUEUE_PREFIX": servers.new_queue_prefix("browser"),
        "ITSM_JWT_SECRET": TEST_JWT_SECRET,
        "ITSM_ENVIRONMENT": "test",
        "OTEL_TRACES_EXPORTER": "none",
        "ITSM_RELAY_POLL_INTERVAL_S": "0.2",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", "services.reporting.app:create_app", "--port", str(port)]
    with tempfile.TemporaryFile() as output:
        proc = _spawn(command, env, output)
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=base, timeout=5) as client:

                async def ready() -> None:
                    if proc.poll() is not None:
                        output.seek(0)
                        raise AssertionError(output.read().decode(errors="replace")[-3000:])
                    try:
                        r = await client.get("/readyz")
                    except httpx.TransportError as exc:
                        raise AssertionError(str(exc)) from exc
                    assert r.status_code == 200, r.text

                await eventually(ready, within_s=30, interval=0.2)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
async def feed(servers: Servers) -> AsyncIterator[Feed]:
    broker = BrokerConnection(servers.amqp_url, name="dashboard-test")
    broker.start()
    await asyncio.wait_for(broker.ready.wait(), 10)
    yield Feed(EventPublisher(broker, servers.exchange))
    await broker.close()


async def load_known_data_set(feed: Feed) -> None:
    """Two services, three CIs, five incidents, two changes; the expected figures are in the test."""
    await feed.ci(EMAIL, "Email", "business_service", None)
    await feed.ci(PORTAL, "Customer portal", "business_service", None)
    await feed.ci(MAIL_GW, "mail-gw", "application_instance", EMAIL)
    await feed.ci(WEB_API, "web-api", "container_workload", PORTAL)
    await feed.ci(WEB_DB, "web-db", "database", PORTAL)
    day = timedelta(days=1)
    await feed.incident(
        ci=MAIL_GW,
        service=EMAIL,
        group="messaging",
        priority=3,
        opened=NOW - 5 * day,
        resolved_after=timedelta(hours=2),
        sla=(True, True),
    )
    await feed.incident(
        ci=WEB_API,
        service=PORTAL,
        group="web",
        priority=2,
        opened=NOW - 4 * day,
        resolved_after=timedelta(hours=10),
        sla=(True, False),
    )
    await feed.incident(ci=WEB_API, service=PORTAL, group="web", priority=2, opened=NOW - 3 * day)
    await feed.incident(ci=WEB_API, service=PORTAL, group="web", priority=4, opened=NOW - 2 * day)
    await feed.incident(ci=WEB_DB, service=PORTAL, group="dba", priority=3, opened=NOW - 1 * day)
    change_id = uuid.uuid4()
    created_at = NOW - 6 * day
    await feed.send(
        ChangeCreated(
            change_id=change_id,
            number="CHG0000001",
            title="Patch",
            type="normal",
            status="draft",
            requester="r",
            created_at=created_at,
        ),
        subject=change_id,
        at=created_at,
        source="change",
    )
    await feed.send(
        ChangeImplemented(
            change_id=change_id,
            number="CHG0000001",
            implemented_at=created_at + day,
            implemented_by="r",
            type="normal",
            created_at=created_at,
        ),
        subject=change_id,
        at=created_at + day,
        source="change",
    )
    standard_id = uuid.uuid4()
    await feed.send(
        ChangeCreated(
            change_id=standard_id,
            number="CHG0000002",
            title="Rotate certificates",
            type="standard",
            status="draft",
            requester="r",
            created_at=NOW - 2 * day,
        ),
        subject=standard_id,
        at=NOW - 2 * day,
        source="change",
    )


async def send_plans(feed: Feed) -> None:
    """Config's continuity plans: Email's failover test due in 10 days, the portal's DR test overdue
    by 2 days, the portal's availability plan tested in 200 days (not due)."""
    plans = [
        (MAIL_FAILOVER, "Mail failover", "continuity", EMAIL, 10),
        (PORTAL_DR, "Portal disaster recovery", "continuity", PORTAL, -2),
        (PORTAL_AVAILABILITY, "Portal availability", "availability", PORTAL, 200),
    ]
    recorded = NOW - timedelta(days=30)
    for plan_id, title, kind, service, due_in in plans:
        plan = ContinuityPlanRecorded(
            plan_id=plan_id,
            kind=kind,
            title=title,
            version=1,
            service_ids=[service],
            test_due_by=NOW + timedelta(days=due_in),
            recorded_at=recorded,
            recorded_by="cora",
        )
        await feed.send(plan, subject=plan_id, at=recorded, source="config")


async def continuity_rows(page: Any) -> list[list[str]]:
    """The continuity panel's rows: plan id, then its cells."""
    found: list[list[str]] = await page.eval_on_selector_all(
        "#continuity tr[data-plan]",
        "rows => rows.map(r => [r.dataset.plan, ...[...r.cells].map(c => c.textContent)])",
    )
    return found


async def outage_rows(page: Any) -> list[list[str]]:
    """The outages panel's rows: incident id, then its cells."""
    found: list[list[str]] = await page.eval_on_selector_all(
        "#outages tr[data-incident]",
        "rows => rows.map(r => [r.dataset.incident, ...[...r.cells].map(c => c.textContent)])",
    )
    return found


def minute(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


async def marks(page: Any, chart: str) -> dict[str, float]:
    """label -> value of the marks drawn in a chart (one series)."""
    found: dict[str, float] = await page.eval_on_selector_all(
        f"#{chart} svg .mark",
        "nodes => Object.fromEntries(nodes.map(n => [n.dataset.label, Number(n.dataset.value)]))",
    )
    return found


async def series(page: Any, chart: str) -> dict[str, dict[str, float]]:
    """series -> label -> value of the marks drawn in a chart."""
    found: dict[str, dict[str, float]] = await page.eval_on_selector_all(
        f"#{chart} svg .mark",
        """nodes => nodes.reduce((out, n) => {
            (out[n.dataset.series] = out[n.dataset.series] || {})[n.dataset.label] = Number(n.dataset.value);
            return out;
        }, {})""",
    )
    return found


BUDGET_START = NOW.date() - timedelta(days=10)
BUDGET_END = NOW.date() + timedelta(days=19)


async def send_costs(feed: Feed, reference: str, amount: str) -> None:
    """Email's budget for the 30 days around today (licence 1000.00 EUR), once; an actual of yesterday."""
    if not any(e.routing_key == BudgetCreated.routing_key for e in feed.sent):
        budget_id = uuid.uuid4()
        budget = BudgetCreated(
            budget_id=budget_id,
            service_id=EMAIL,
            period_start=BUDGET_START,
            period_end=BUDGET_END,
            currency="EUR",
            lines=[BudgetLine(category="licence", amount=Decimal("1000.00"))],
            total=Decimal("1000.00"),
            created_at=NOW - timedelta(days=11),
            created_by="fiona",
        )
        await feed.send(budget, subject=budget_id, at=NOW - timedelta(days=11), source="config")
    actual = CostActualRecorded(
        reference=reference,
        import_id=uuid.uuid4(),
        category="licence",
        amount=Decimal(amount),
        currency="EUR",
        incurred_on=NOW.date() - timedelta(days=1),
        parts=[AllocatedPart(service_id=EMAIL, amount=Decimal(amount))],
    )
    await feed.send(actual, subject=uuid.uuid4(), at=datetime.now(UTC), source="config")


async def assert_costs_drawn(page: Any, *, api_token: str, base: str, actual: str) -> None:
    """The panel's row for Email shows the report's exact strings, and its bars the same amounts."""
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {api_token}"}) as api:
        report = (await api.get("/api/v1/reports/costs")).json()
    (email,) = [r for r in report["rows"] if r["scope"] == "service"]
    cells = await page.locator(f'#costs tr[data-service="{EMAIL}"] td').all_inner_texts()
    variance = Decimal(actual.split()[0]) - Decimal("1000.00")
    assert cells[:5] == ["Email", f"{BUDGET_START} to {BUDGET_END}", "1000.00 EUR", actual, str(variance)]
    assert cells[5:] == [f"{email['forecast']} EUR", email["status"].replace("_", " ")]
    drawn = await series(page, "chart-costs")
    label = f"Email {BUDGET_START.isoformat()[:7]}"
    assert drawn["budget"] == {label: 1000} and drawn["actual"] == {label: float(actual.split()[0])}
    assert drawn["forecast"] == {label: float(email["forecast"])}


async def send_change_cost(feed: Feed, change_id: uuid.UUID, estimate: str, actual: str | None) -> None:
    """The change service states a change's cost on Email (each statement replaces the last)."""
    stated_at = datetime.now(UTC)
    data = ChangeCostStated(
        change_id=change_id,
        number="CHG0000099",
        service_ids=[EMAIL],
        currency="EUR",
        estimated_cost=Decimal(estimate),
        actual_cost=None if actual is None else Decimal(actual),
        cost_category="opex",
        budget_id=None,
        stated_at=stated_at,
        stated_by="carol",
    )
    await feed.send(data, subject=change_id, at=stated_at, source="change")


async def test_the_dashboard_draws_the_reports_filters_them_and_follows_events_live(
    reporting: str, feed: Feed, token: Callable[..., str]
) -> None:
    await load_known_data_set(feed)
    await send_plans(feed)
    async with httpx.AsyncClient(base_url=reporting, headers={"Authorization": f"Bearer {token('auditor')}"}) as api:

        async def all_recorded() -> None:
            total = (await api.get("/api/v1/events", params={"limit": 1})).json()["total"]
            assert total == len(feed.sent)

        await eventually(all_recorded, within_s=30, interval=0.2)

    problems: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            await page.goto(f"{reporting}/#token={token('auditor', subject='viewer')}")

            # Loads, keeps the token out of the address bar, and draws the known figures.
            await page.wait_for_selector("#chart-cis svg .mark")
            assert "token" not in page.url
            await page.wait_for_function("() => document.querySelector('#live').textContent === 'live'")
            assert await page.inner_text("#tile-backlog") == "3"
            assert await page.inner_text("#tile-sla") == "50.0%"  # resolution met 1 of 2
            assert await page.inner_text("#tile-changes") == "100.0%"
            assert await marks(page, "chart-cis") == {"web-api": 3, "mail-gw": 1, "web-db": 1}
            assert await marks(page, "chart-backlog") == {"web": 2, "dba": 1}
            sla = await series(page, "chart-sla")
            assert sla["response"] == {"Email": 100, "Customer portal": 100}
            assert sla["resolution"] == {"Email": 100, "Customer portal": 0}
            trend = await series(page, "chart-trend")
            opened = {day: n for day, n in trend["opened"].items() if n}
            assert opened == {(NOW - timedelta(days=d)).date().isoformat(): 1 for d in range(1, 6)}
            changes = await series(page, "chart-changes")
            assert changes["implemented"] == {"normal": 1, "standard": 0}
            assert changes["in progress"] == {"normal": 0, "standard": 1}
            assert "No CI is at a capacity threshold." in await page.inner_text("#capacity")

            # A capacity breach from config appears in the runway panel, live.
            sampled = datetime.now(UTC)
            breach = CapacityThresholdBreached(
                ci_id=WEB_DB,
                metric="disk_used_ratio",
                unit="ratio",
                level="warning",
                current_level="warning",
                value=0.85,
                warning=0.8,
                critical=0.9,
                sampled_at=sampled,
                runway_to_critical_s=2.5 * 86400,
            )
            await feed.send(breach, subject=WEB_DB, at=sampled, source="config")
            await page.wait_for_selector(f'#capacity tr[data-ci="{WEB_DB}"]', timeout=30_000)
            cells = await page.locator(f'#capacity tr[data-ci="{WEB_DB}"] td').all_inner_texts()
            assert cells == ["web-db", "disk_used_ratio (ratio)", "warning", "94.4%", "2.5 d", "0"]

            # Cost against budget (6.4): a budget and an actual from config, then a correction, live.
            assert "No budget" in await page.inner_text("#chart-costs")
            await send_costs(feed, "FIN-1", "123.45")
            row = f'#costs tr[data-service="{EMAIL}"]'
            await page.wait_for_selector(row, timeout=30_000)
            await assert_costs_drawn(page, api_token=token("auditor"), base=reporting, actual="123.45 EUR")
            await send_costs(feed, "FIN-1-C", "-23.45")  # finance's correction: a credit
            await page.wait_for_function(
                f"() => document.querySelector('{row} td:nth-child(4)')?.textContent === '100.00 EUR'", timeout=30_000
            )
            await assert_costs_drawn(page, api_token=token("auditor"), base=reporting, actual="100.00 EUR")

            # The cost of changes (6.4): a change's cost stated, then restated with its actual, live.
            assert "No change costed" in await page.inner_text("#change-costs")
            costed = uuid.uuid4()
            await send_change_cost(feed, costed, "200.00", None)
            change_row = f'#change-costs tr[data-service="{EMAIL}"]'
            await page.wait_for_selector(change_row, timeout=30_000)
            await send_change_cost(feed, costed, "200.00", "250.10")
            await page.wait_for_function(
                f"() => document.querySelector('{change_row} td:nth-child(5)')?.textContent === '250.10 EUR'",
                timeout=30_000,
            )
            cells = await page.locator(f"{change_row} td").all_inner_texts()
            month = datetime.now(UTC).date().isoformat()[:7]
            assert cells == ["Email", month, "1", "200.00 EUR", "250.10 EUR", "+50.10"]

            # Continuity tests due (6.3.3): the report's overdue and due plans, overdue first; the
            # plan not due yet is left out.
            async with httpx.AsyncClient(
                base_url=reporting, headers={"Authorization": f"Bearer {token('auditor')}"}
            ) as api:
                report = (await api.get("/api/v1/reports/continuity")).json()
            assert [(r["plan_id"], r["test_status"]) for r in report["rows"]] == [
                (str(PORTAL_DR), "overdue"),
                (str(MAIL_FAILOVER), "due"),
                (str(PORTAL_AVAILABILITY), "ok"),
            ]
            due = {
                str(p): (NOW + timedelta(days=d)).date().isoformat() for p, d in [(PORTAL_DR, -2), (MAIL_FAILOVER, 10)]
            }
            await page.wait_for_selector("#continuity tr[data-plan]")
            assert await continuity_rows(page) == [
                [
                    str(PORTAL_DR),
                    "Portal disaster recovery",
                    "continuity",
                    "Customer portal",
                    due[str(PORTAL_DR)],
                    "overdue",
                    DASH,
                    DASH,
                ],
                [
                    str(MAIL_FAILOVER),
                    "Mail failover",
                    "continuity",
                    "Email",
                    due[str(MAIL_FAILOVER)],
                    "due",
                    DASH,
                    DASH,
                ],
            ]
            assert (
                await page.inner_text("#continuity-note")
                == "3 plans · 1 overdue · 1 due · 0 re-tests due · 0 invocations"
            )

            # Live: the DR test is recorded (next one in a year), and a major change makes the
            # availability plan's re-test due in 20 days.
            tested = datetime.now(UTC).replace(microsecond=0)
            test = ContinuityTestRecorded(
                test_id=uuid.uuid4(),
                plan_id=PORTAL_DR,
                plan_version=1,
                type="failover",
                tested_at=tested,
                requirements_met=3,
                requirements_missed=0,
                deficiencies=0,
                reviewed=True,
                test_due_by=tested + timedelta(days=365),
                recorded_by="cora",
            )
            await feed.send(test, subject=PORTAL_DR, at=tested, source="config")
            retest = ContinuityRetestDue(
                plan_id=PORTAL_AVAILABILITY,
                title="Portal availability",
                change_number="CHG0000042",
                service_ids=[PORTAL],
                test_due_by=tested + timedelta(days=20),
                occurred_at=tested,
            )
            await feed.send(retest, subject=PORTAL_AVAILABILITY, at=tested, source="config")
            await page.wait_for_function(
                "() => document.querySelector('#continuity-note').textContent.includes('1 re-test due')"
                f" && !document.querySelector('#continuity tr[data-plan=\"{PORTAL_DR}\"]')",
                timeout=30_000,
            )
            assert await continuity_rows(page) == [
                [
                    str(MAIL_FAILOVER),
                    "Mail failover",
                    "continuity",
                    "Email",
                    due[str(MAIL_FAILOVER)],
                    "due",
                    DASH,
                    DASH,
                ],
                [
                    str(PORTAL_AVAILABILITY),
                    "Portal availability",
                    "availability",
                    "Customer portal",
                    (tested + timedelta(days=20)).date().isoformat(),
                    "due",
                    "CHG0000042",
                    DASH,
                ],
            ]

            # Outages without an investigation (6.3): P1 outages on Email over the 60 minutes with
            # no problem, longest first (the 30-minute one is under the threshold); then a problem
            # linked to the longest one takes it off, live.
            assert "No unplanned outage" in await page.inner_text("#outages")
            started = NOW - timedelta(hours=6)
            await feed.incident(
                ci=MAIL_GW,
                service=EMAIL,
                group="mail",
                priority=1,
                opened=started + timedelta(hours=2),
                resolved_after=timedelta(minutes=30),
            )
            longest = await feed.incident(
                ci=MAIL_GW, service=EMAIL, group="mail", priority=1, opened=started, resolved_after=timedelta(hours=3)
            )
            shorter = await feed.incident(
                ci=MAIL_GW,
                service=EMAIL,
                group="mail",
                priority=1,
                opened=started + timedelta(hours=1),
                resolved_after=timedelta(minutes=90),
            )
            await page.wait_for_function(
                "() => document.querySelectorAll('#outages tr[data-incident]').length === 2",
                timeout=30_000,
            )
            assert await outage_rows(page) == [
                [
                    str(longest[0]),
                    longest[1],
                    "Email",
                    "P1",
                    minute(started),
                    minute(started + timedelta(hours=3)),
                    "3.0 h",
                ],
                [
                    str(shorter[0]),
                    shorter[1],
                    "Email",
                    "P1",
                    minute(started + timedelta(hours=1)),
                    minute(started + timedelta(hours=2, minutes=30)),
                    "1.5 h",
                ],
            ]
            assert await page.inner_text("#outages-note") == "2 outages over 60 min · 0 investigated · 2 without"
            linked_at = datetime.now(UTC)
            link = IncidentLinkedToProblem(
                incident_id=longest[0],
                incident_number=longest[1],
                problem_id=uuid.uuid4(),
                problem_number="PRB0000007",
                reason="outage",
                occurred_at=linked_at,
            )
            await feed.send(link, subject=longest[0], at=linked_at, source="incident")
            await page.wait_for_function(
                "() => document.querySelector('#outages-note').textContent.includes('1 investigated')", timeout=30_000
            )
            assert [r[0] for r in await outage_rows(page)] == [str(shorter[0])]

            # An event arriving now updates the panels it concerns, without a reload.
            draws_before = int(await page.get_attribute("#panel-cis", "data-draws") or "0")
            await feed.incident(ci=WEB_DB, service=PORTAL, group="dba", priority=3, opened=datetime.now(UTC))
            await page.wait_for_function(
                "() => document.querySelector('#chart-cis svg .mark[data-label=\"web-db\"]')?.dataset.value === '2'",
                timeout=30_000,
            )
            assert await marks(page, "chart-backlog") == {"web": 2, "dba": 2}
            assert await page.inner_text("#tile-backlog") == "4"
            assert int(await page.get_attribute("#panel-cis", "data-draws") or "0") > draws_before

            # A complaint arriving now raises its entry in the improvement register, and the entry's
            # own event (published by reporting, consumed back) redraws the register's panel.
            assert "No open improvement" in await page.inner_text("#improvements")
            received = datetime.now(UTC)
            complaint = ComplaintReceived(
                complaint_id=uuid.uuid4(),
                number="CMP0000042",
                title="Nobody called back",
                status="received",
                complainant="carl",
                received_via="email",
                relationship_manager="rosa",
                received_at=received,
                acknowledge_due_at=received,
                respond_due_at=received,
                actor="ann",
                occurred_at=received,
            )
            await feed.send(complaint, subject=complaint.complaint_id, at=received, source="incident")
            await page.wait_for_selector("#improvements tr[data-improvement]", timeout=30_000)
            cells = await page.locator("#improvements tr[data-improvement] td").all_inner_texts()
            assert cells[1:5] == ["Complaint CMP0000042: Nobody called back", "complaint CMP0000042", "rosa", "raised"]
            assert await page.inner_text("#improvements-note") == "1 raised"

            # A filter re-queries the reports: only the web group's incidents remain.
            await page.select_option("select[name=group]", "web")
            await page.wait_for_function("() => document.querySelector('#tile-backlog').textContent === '2'")
            assert await marks(page, "chart-backlog") == {"web": 2}
            assert await marks(page, "chart-cis") == {"web-api": 3}
            assert "group=web" in page.url
            await page.select_option("select[name=priority]", "4")
            await page.wait_for_function("() => document.querySelector('#tile-backlog').textContent === '1'")
            assert await marks(page, "chart-cis") == {"web-api": 1}
        finally:
            await browser.close()
    assert problems == []


async def test_without_a_token_the_page_asks_for_one_and_a_bad_one_is_refused(
    reporting: str, token: Callable[..., str]
) -> None:
    problems: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            response = await page.goto(reporting)
            assert response is not None
            assert "default-src 'none'" in (await response.header_value("content-security-policy") or "")
            await page.wait_for_selector("#signin:not([hidden])")
            assert await page.is_hidden("#dashboard")

            await page.fill("input[name=token]", "not-a-jwt")
            await page.click("#token-form button")
            await page.wait_for_function(
                "() => document.querySelector('#signin-error').textContent.includes('refused')"
            )
            assert await page.evaluate("sessionStorage.getItem('itsm.dashboard.token')") is None

            await page.fill("input[name=token]", token("auditor"))
            await page.click("#token-form button")
            await page.wait_for_selector("#dashboard:not([hidden])")
            await page.wait_for_function("() => document.querySelector('#live').textContent === 'live'")
        finally:
            await browser.close()
    assert problems == []
