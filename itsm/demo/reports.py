"""Step `report agreements`: the standard report pack agreed with its parties, so that the
reporting service schedules its runs.
"""

from __future__ import annotations

from datetime import timedelta

from itsm.demo.client import Missing
from itsm.demo.state import Demo

# Who each report of the standard pack is agreed with (ISO/IEC 20000-1 6.2); a report the
# reporting service offers that is not listed here is agreed with the service owners.
REPORT_PARTIES = {
    "service-levels": ["Customer board", "Service owners"],
    "incidents": ["Service desk manager", "Service owners"],
    "requests": ["Service desk manager", "Service owners"],
    "problems": ["Problem manager", "Service owners"],
    "changes": ["Change manager", "CAB"],
    "dora": ["Engineering leads", "Change manager"],
    "availability": ["Customer board", "Availability manager"],
    "cmdb": ["Configuration manager", "Auditors"],
    "suppliers": ["Supplier manager", "Service owners"],
    "workload": ["Team leads", "Service desk manager"],
    "hotspots": ["Problem manager", "Configuration manager"],
    "significant-events": ["Customer board", "Top management", "Service owners"],
    "satisfaction": ["Customer board", "Service owners"],
    "costs": ["Finance", "Service owners", "Top management"],
}


async def agree_reports(demo: Demo) -> str:
    """Agree the standard report pack, so that the reporting service schedules its runs: a draft
    per report, then agreed with the parties above (dated at the start of the demo period)."""
    api = demo.api
    if not api.has("reporting", "PUT", "/api/v1/reports/{name}/agreement"):
        raise Missing("reporting has no report agreements")
    reports = (await api.call("reporting", "GET", "/api/v1/reports", person="sam.slm"))["items"]
    standing = await api.call("reporting", "GET", "/api/v1/report-agreements", person="sam.slm")
    agreed_already = {a["report"] for a in standing["items"] if a["scheduled"]}
    at = demo.start - timedelta(days=1)
    for report in reports:
        name = report["name"]
        if name in agreed_already:
            continue
        draft = await api.call(
            "reporting",
            "PUT",
            f"/api/v1/reports/{name}/agreement",
            person="sam.slm",
            at=at,
            body={
                "owner": "Service level manager",
                "agreed_with": REPORT_PARTIES.get(name, ["Service owners"]),
                "distribution_list": [],
                "reason": "standard report pack",
            },
        )
        await api.call(
            "reporting",
            "POST",
            f"/api/v1/reports/{name}/agreement/agree",
            person="sam.slm",
            at=at + timedelta(hours=2),
            body={"reason": "agreed at the service review"},
            headers={"If-Match": f'W/"{draft["version"]}"'},
        )
        demo.loaded.agreed_reports.append(name)
    known = len(agreed_already)
    return f"{len(demo.loaded.agreed_reports)} reports agreed and scheduled" + (
        f" ({known} agreed already)" if known else ""
    )
