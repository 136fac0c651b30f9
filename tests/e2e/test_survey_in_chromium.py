"""The transactional survey's round trip, as a person meets it, in headless Chromium (Debian's) with
JavaScript off: the incident and reporting services run as processes on PostgreSQL and RabbitMQ; an
incident is resolved, the incident service's own worker issues the survey, the caller answers it on
the public page through the signed link (a plain form POST), the score arrives in reporting's
satisfaction report and on its dashboard, and a second use of the link is refused (409).

Driven with Playwright's Python package on the machine's /usr/bin/chromium (no browser download).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.test_services_as_processes import started
from tests.infra import Servers, eventually

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)"),
]


async def test_a_resolved_ticket_is_surveyed_answered_in_the_browser_and_counted_in_reporting(
    servers: Servers, auth: Callable[..., dict[str, str]], token: Callable[..., str]
) -> None:
    prefix = servers.new_queue_prefix("survey")
    secret = {"INCIDENT_SURVEY_LINK_SECRET": f"e2e-{uuid.uuid4().hex}"}
    person, service = f"pat-{uuid.uuid4().hex[:6]}", str(uuid.uuid4())
    agent, staff, theirs = auth("agent", subject="ann"), auth("auditor"), auth("requester", subject=person)
    async with (
        started("reporting", servers, prefix) as reporting,
        started("incident", servers, prefix, extra_env=secret) as incident,
    ):
        body = {"title": "Cannot print", "caller": person, "impact": 3, "urgency": 3, "service_id": service}
        created = await incident.post("/api/v1/incidents", json=body, headers=agent)
        assert created.status_code == 201, created.text
        url = f"/api/v1/incidents/{created.json()['id']}/resolve"
        assert (await incident.post(url, json={"resolution_code": "fixed"}, headers=agent)).status_code == 200

        async def issued() -> dict[str, Any]:
            found = (await incident.get("/api/v1/surveys", headers=theirs)).json()
            assert found["total"] == 1 and found["items"][0]["link"], found
            return dict(found["items"][0])

        survey = await eventually(issued, within_s=30)
        link = f"{incident.base_url}{survey['link']}".replace("//survey", "/survey")

        problems: list[str] = []
        async with playwright_api.async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                context = await browser.new_context(java_script_enabled=False)
                page, stale = await context.new_page(), await context.new_page()
                page.on("pageerror", lambda e: problems.append(str(e)))
                opened = await page.goto(link)
                assert opened is not None and opened.status == 200
                assert await page.inner_text("#ticket") == created.json()["number"]
                assert (await stale.goto(link)) is not None  # the same link open in a second tab

                await page.check("input[name=score][value='4']")
                await page.fill("textarea[name=comment]", "Fixed the same morning")
                await page.click("button[type=submit]")
                await page.wait_for_selector("main[data-state='thanks']")
                assert "Thank you" in await page.inner_text("h1")

                # A second use of the link: the tab still showing the form, and the link opened again.
                await stale.check("input[name=score][value='1']")
                async with stale.expect_navigation() as refused:
                    await stale.click("button[type=submit]")
                assert (await refused.value).status == 409
                assert "already answered" in await stale.inner_text("#message")
                again = await page.goto(link)
                assert again is not None and again.status == 409
            finally:
                await browser.close()
        assert problems == []

        answered = (await incident.get(f"/api/v1/surveys/{survey['id']}", headers=agent)).json()
        assert (answered["status"], answered["score"]) == ("answered", 4)
        assert answered["comment"] == "Fixed the same morning" and answered["complaint_id"] is None

        async def counted() -> dict[str, Any]:
            report = (await reporting.get("/api/v1/reports/satisfaction", headers=staff)).json()
            rows = {(r["scope"], r["service_id"] or r["respondent"]): r for r in report["rows"]}
            assert rows[("service", service)]["answered"] == 1, report
            return rows

        rows = await eventually(counted, within_s=30)
        assert rows[("service", service)]["average_score"] == 4.0
        assert rows[("caller", person)]["surveys_issued"] == 1

        # The dashboard draws it (the dashboard is a script of its own: JavaScript on here).
        async with playwright_api.async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = await browser.new_page(viewport={"width": 1400, "height": 1000})
                await page.goto(f"{reporting.base_url}/#token={token('auditor', subject='viewer')}")
                await page.wait_for_selector("#chart-satisfaction svg .mark")
                values = await page.eval_on_selector_all(
                    "#chart-satisfaction svg .mark", "nodes => nodes.map(n => Number(n.dataset.value))"
                )
                assert values == [4]
                assert "1 of 1 surveys answered" in await page.inner_text("#satisfaction-note")
            finally:
                await browser.close()
