"""Step `problems`: a problem on each hot spot CI with its incidents, the hottest one published
as a known error with its workaround.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from itsm.demo.client import Missing, Refused
from itsm.demo.dataset import FLAKY_CIS, MARKER
from itsm.demo.state import Demo


async def load_problems(demo: Demo) -> str:
    """A problem on each hot spot CI with its incidents; the hottest one investigated and published
    as a known error with its workaround (which the incident service then offers on new incidents).
    The incident service may have opened a problem there already from recurring incidents (its
    analysis runs on incident events): that one is taken up rather than a second opened."""
    api = demo.api
    if not api.has("incident", "POST", "/api/v1/problems"):
        raise Missing("incident has no POST /problems")
    notes: list[str] = []
    found = 0
    hot_spots = sorted(
        FLAKY_CIS, key=lambda n: -sum(1 for i in demo.loaded.incidents if i["ci"] == n)
    )  # the one with most incidents first: it becomes the known error
    for name in hot_spots:
        ci = demo.loaded.cis.get(name)
        if ci is None:
            continue
        mine = sorted((i for i in demo.loaded.incidents if i["ci"] == name), key=lambda i: i["opened"])
        at = min(demo.now, mine[min(2, len(mine) - 1)]["opened"] + timedelta(hours=2) if mine else demo.now)
        try:
            problem = await _open_problem(demo, name, ci, mine, at)
        except (Refused, Missing) as exc:
            notes.append(str(exc))
            continue
        if problem.get("origin") == "recurrence":
            found += 1
        demo.loaded.problems.append(problem["id"])
        base = f"/api/v1/problems/{problem['id']}"
        try:
            if "investigate" in problem.get("allowed_actions", ["investigate"]):
                problem = await api.call(
                    "incident",
                    "POST",
                    f"{base}/investigate",
                    person="paula.problem",
                    at=at,
                    body={},
                    optional={"owner": "paula.problem"},
                )
            if len(demo.loaded.problems) == 1 and "publish_known_error" in problem.get(
                "allowed_actions", ["publish_known_error"]
            ):
                published = await api.call(
                    "incident",
                    "POST",
                    f"{base}/known-error",
                    person="paula.problem",
                    at=min(demo.now, at + timedelta(hours=20)),
                    body={
                        "root_cause": f"Resource limits on {name} too low for the peak load",
                        "workaround": f"Restart {name} and scale it out by one instance until the fix is released",
                    },
                )
                if published.get("known_error_id"):
                    demo.loaded.known_errors.append(published["known_error_id"])
        except (Refused, Missing) as exc:
            notes.append(str(exc))
    summary = f"{len(demo.loaded.problems)} problems"
    if found:
        summary += f" ({found} opened by the incident service's own analysis)"
    summary += f", {len(demo.loaded.known_errors)} known error(s) with a workaround"
    return summary + (f"; {len(notes)} refused, e.g. {notes[0]}" if notes else "")


async def _open_problem(
    demo: Demo, name: str, ci: dict[str, Any], incidents: list[dict[str, Any]], at: datetime
) -> dict[str, Any]:
    api = demo.api
    with contextlib.suppress(Refused, Missing):
        existing = await api.call(
            "incident", "GET", "/api/v1/problems", person="paula.problem", params={"ci_id": ci["id"], "limit": 50}
        )
        open_ones = [p for p in (existing or {}).get("items", []) if p.get("status") in ("new", "under_investigation")]
        if open_ones:
            return dict(open_ones[0])
    created: dict[str, Any] = await api.call(
        "incident",
        "POST",
        "/api/v1/problems",
        person="paula.problem",
        at=at,
        body={"title": f"Recurring incidents on {name}"},
        optional={
            "description": f"{len(incidents)} incidents on {name} in a few weeks ({MARKER}).",
            "ci_id": ci["id"],
            "service_id": ci["service_id"],
            "category": "software" if ci["type"] != "network_device" else "network",
            "impact": 2,
            "urgency": 2,
            "owner": "paula.problem",
            "incident_ids": [i["id"] for i in incidents[:20]],
        },
    )
    return created
