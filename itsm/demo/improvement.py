"""Step `improvement and audits` (ISO/IEC 20000-1 4.5): the improvement register as the demo's events
left it (reporting raises an entry for each failed change, complaint and low score by itself), an
improvement raised from the service levels report with the figure before, an internal audit of
change management whose nonconformity raises its own register entry, and a management review that
cites the stored report runs, when the scheduler has stored some.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

from itsm.demo.client import Missing
from itsm.demo.dataset import CHANGE_MANAGER
from itsm.demo.state import Demo

WAIT_S = 15.0
"""How long to wait for reporting to raise the entries of the demo's failed changes."""
SLM = "sam.slm"


async def _register(demo: Demo, failed_changes: int) -> Counter[str]:
    """The register's entries by source, once the failed changes' entries are in (or the wait ends)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while True:
        page = await demo.api.call("reporting", "GET", "/api/v1/improvements", person=SLM, params={"limit": 200})
        sources = Counter(e["source"] for e in page["items"])
        if sources["failed_change"] >= failed_changes or loop.time() >= deadline:
            return sources
        await asyncio.sleep(0.5)


async def _from_report(demo: Demo) -> dict[str, Any]:
    api = demo.api
    report = await api.call("reporting", "GET", "/api/v1/reports/service-levels", person=SLM)
    before = (report.get("totals") or {}).get("resolution_compliance_pct")
    body: dict[str, Any] = {
        "kind": "improvement",
        "title": "Raise resolution compliance above 95%",
        "description": "Priority 2 incidents wait too long for the network team.",
        "source": "report_finding",
        "source_ref": f"service-levels {demo.now:%Y-%m}",
        "owner": SLM,
        "target_date": (demo.now + timedelta(days=60)).date().isoformat(),
        "measure": "resolution compliance (%)",
    }
    if before is not None:
        body["before"] = before
    entry = await api.call("reporting", "POST", "/api/v1/improvements", person=SLM, body=body)
    accepted = await api.call(
        "reporting",
        "POST",
        f"/api/v1/improvements/{entry['id']}/actions",
        person=SLM,
        body={"action": "accept"},
        headers={"If-Match": f'W/"{entry["version"]}"'},
    )
    return dict(accepted)


async def _audit(demo: Demo) -> dict[str, Any]:
    api = demo.api
    year = demo.now.year
    programme = await api.call(
        "reporting",
        "POST",
        "/api/v1/audit-programmes",
        person=SLM,
        body={
            "title": f"Internal audit programme {year}",
            "period_start": f"{year}-01-01",
            "period_end": f"{year}-12-31",
            "scope": "Every process of the service management system, once a year",
            "criteria": "ISO/IEC 20000-1, the change and incident policies",
            "owner": SLM,
        },
    )
    audit = await api.call(
        "reporting",
        "POST",
        "/api/v1/audits",
        person=SLM,
        body={
            "programme_id": programme["id"],
            "title": "Change management",
            "scope": "Emergency changes of the last quarter",
            "lead_auditor": "quinn.audit",
            "auditees": [CHANGE_MANAGER],
            "planned_on": demo.now.date().isoformat(),
        },
    )
    path = f"/api/v1/audits/{audit['id']}"

    async def step(suffix: str, body: dict[str, Any] | None, version: int) -> dict[str, Any]:
        headers = {"If-Match": f'W/"{version}"'}
        return dict(await api.call("reporting", "POST", path + suffix, person=SLM, body=body, headers=headers))

    audit = await step("/actions", {"action": "start"}, audit["version"])
    finding = {
        "kind": "minor_nonconformity",
        "clause": "9.2",
        "text": "Two emergency changes have no record of the emergency CAB's decision.",
        "corrective_action": {
            "text": "Record the ECAB decision on the change before implementation",
            "owner": CHANGE_MANAGER,
            "due": (demo.now + timedelta(days=30)).date().isoformat(),
        },
    }
    audit = await step("/findings", finding, audit["version"])
    audit = await step("/findings/0/improvement", None, audit["version"])
    return await step("/actions", {"action": "report", "summary": "One minor nonconformity"}, audit["version"])


async def _management_review(demo: Demo, audit_id: str) -> dict[str, Any] | None:
    api = demo.api
    runs = await api.call("reporting", "GET", "/api/v1/report-runs", person=SLM, params={"limit": 5})
    if not runs["items"]:
        return None
    body = {
        "title": f"Management review {demo.now:%B %Y}",
        "held_on": demo.now.date().isoformat(),
        "chair": "Chief operating officer",
        "attendees": ["Chief operating officer", SLM, CHANGE_MANAGER],
        "report_run_ids": [r["id"] for r in runs["items"]],
        "audit_ids": [audit_id],
        "conclusions": "Service levels hold; emergency changes need their CAB record.",
        "decisions": ["Fund the network team's on-call rota"],
        "actions": [
            {
                "text": "Staff the rota",
                "owner": "Chief operating officer",
                "due": (demo.now + timedelta(days=45)).date().isoformat(),
            }
        ],
    }
    return dict(await api.call("reporting", "POST", "/api/v1/management-reviews", person=SLM, body=body))


async def load_improvement(demo: Demo) -> str:
    api = demo.api
    if not api.has("reporting", "POST", "/api/v1/improvements"):
        raise Missing("reporting has no improvement register")
    failed = sum(1 for c in demo.loaded.changes if c.get("fails") and c["end"] <= demo.now)
    sources = await _register(demo, failed)
    entry = await _from_report(demo)
    audit = await _audit(demo)
    review = await _management_review(demo, audit["id"])
    from_events = ", ".join(f"{n} {source}" for source, n in sorted(sources.items())) or "none yet"
    said = f"register entries from events: {from_events}; {entry['number']} raised from the service levels report"
    said += f"; audit {audit['number']} reported, its finding raised {audit['findings'][0]['improvement_number']}"
    if review is None:
        return said + "; no stored report run yet for a management review"
    return said + f"; a management review cites {len(review['inputs'])} report runs"
