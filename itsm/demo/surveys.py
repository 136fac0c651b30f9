"""Step `customer surveys`: the incident service's worker issues a satisfaction survey to the
callers of the incidents the demo resolved (sampled, one per person within the throttle); each
caller answers theirs on the public page its signed link opens, as a browser would post the form.
Most are satisfied; a few low scores open complaints by policy.
"""

from __future__ import annotations

import asyncio
from typing import Any

from itsm.demo.client import Missing, Refused
from itsm.demo.state import Demo

SCORES = (5, 5, 5, 4, 4, 4, 4, 3, 3, 2, 1)
WAIT_S = 30.0
"""How long to wait for the worker to issue the surveys of the resolved incidents."""


async def _issued(demo: Demo, callers: set[str]) -> list[dict[str, Any]]:
    """The open surveys of the demo's callers, once the worker has issued them (or the wait ends)."""
    loop = asyncio.get_running_loop()
    deadline, found = loop.time() + WAIT_S, []
    while True:
        page = await demo.api.call(
            "incident", "GET", "/api/v1/surveys", person="sam.slm", params={"status": "issued", "limit": 200}
        )
        found = [s for s in page["items"] if s["respondent"] in callers]
        if len({s["respondent"] for s in found}) == len(callers) or loop.time() >= deadline:
            return found
        await asyncio.sleep(0.5)


async def answer_surveys(demo: Demo) -> str:
    api = demo.api
    if not api.has("incident", "GET", "/api/v1/surveys"):
        raise Missing("incident has no surveys")
    callers = {i["caller"] for i in demo.loaded.incidents if i["resolved"] <= demo.now}
    surveys = await _issued(demo, callers)
    if not surveys:
        raise Missing("no survey was issued (is the incident service's worker running?)")
    rng = demo.rng_for("surveys")
    complaints = 0
    for survey in sorted(surveys, key=lambda s: s["number"]):
        # The respondent alone is shown the link (in a real run: sent to them).
        mine = await api.call("incident", "GET", f"/api/v1/surveys/{survey['id']}", person=survey["respondent"])
        if not mine.get("link"):
            continue
        score = rng.choice(SCORES)
        comment = "" if score > 2 else "It took too long and nobody told me why."
        r = await api.client.post(f"{api.urls['incident']}{mine['link']}", data={"score": score, "comment": comment})
        if r.status_code != 200:
            raise Refused("POST", "/survey/...", r.status_code, r.text[:200])
        done = await api.call("incident", "GET", f"/api/v1/surveys/{survey['id']}", person="sam.slm")
        complaints += done["complaint_id"] is not None
    return f"{len(surveys)} surveys answered on their public page ({complaints} low scores opened complaints)"
