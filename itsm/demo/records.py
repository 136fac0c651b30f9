"""Step `records retention`: how long the incident service keeps closed incidents and service
requests (ISO/IEC 20000-1 4.3.3), and a legal hold on the oldest closed incident, as an
administrator would set them; the disposal log stays empty until a record is past its period.
"""

from __future__ import annotations

from itsm.demo.client import Missing
from itsm.demo.state import Demo

POLICIES = {"incident": 3 * 365, "request": 2 * 365}
"""Days each record type is kept after it was closed."""


async def keep_records(demo: Demo) -> str:
    api = demo.api
    if not api.has("incident", "PUT", "/api/v1/retention-policies/incident"):
        raise Missing("incident has no retention policies")
    for record_type, days in POLICIES.items():
        body = {"retain_days": days, "counted_from": "closed_at"}
        await api.call("incident", "PUT", f"/api/v1/retention-policies/{record_type}", person="ada.admin", body=body)
    closed = sorted((i for i in demo.loaded.incidents if i["closed"] <= demo.now), key=lambda i: i["closed"])
    held = ""
    if closed:
        oldest = closed[0]
        body = {
            "record_type": "incident",
            "record_id": oldest["id"],
            "reason": f"The caller disputes how {oldest['number']} was handled: keep its record until settled.",
        }
        await api.call("incident", "POST", "/api/v1/legal-holds", person="ada.admin", body=body)
        held = f"; a legal hold on {oldest['number']}"
    kept = ", ".join(f"{t}s {d} days after closing" for t, d in POLICIES.items())
    return f"retention: {kept}{held}"
