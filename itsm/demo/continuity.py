"""Step `continuity plans`: a continuity plan for each gold service of the catalogue, with RTO/RPO,
procedures and a contact list, and a fail-over test recorded a few weeks ago with one deficiency
(ISO/IEC 20000-1 6.3); the `continuity` report and `itsm continuity-pack` then have something to show.
"""

from __future__ import annotations

from datetime import timedelta

from itsm.demo.client import Missing
from itsm.demo.dataset import SERVICES
from itsm.demo.state import Demo

PLANS = "/api/v1/continuity/plans"


async def load_continuity_plans(demo: Demo) -> str:
    api = demo.api
    if not api.has("config", "POST", PLANS):
        raise Missing("config has no continuity plans")
    tested = 0
    plans = 0
    for plan in SERVICES:
        service_id = demo.loaded.services.get(plan.name)
        if service_id is None or plan.tier != "gold":
            continue
        body = {
            "kind": "continuity",
            "title": f"{plan.name} continuity plan",
            "service_ids": [service_id],
            "invocation_criteria": f"{plan.name} unavailable for more than 1 hour in business hours,"
            " or the primary site lost",
            "invocation_authority": "Head of IT operations (deputy: the duty incident manager)",
            "recovery_targets": [{"service_id": service_id, "rto_minutes": 240, "rpo_minutes": 15}],
            "targets_while_invoked": [{"service_id": service_id, "availability_percent": 95.0}],
            "procedures": [
                "Declare a major incident and call the contacts below",
                "Fail the databases over to the standby site",
                "Point DNS at the standby site and check the service end to end",
            ],
            "return_to_normal": "Fail back in the next maintenance window once the primary site is verified",
            "contacts": [
                {"name": "Dana Ops", "role": "Duty incident manager", "phone": "+44 20 7946 0001"},
                {"name": "Sam Network", "role": "Network on call", "phone": "+44 20 7946 0002"},
            ],
        }
        created = await api.call("config", "POST", PLANS, person="carl.config", body=body)
        plans += 1
        test = {
            "type": "failover",
            "tested_at": (demo.now - timedelta(days=20 + 7 * plans)).isoformat(),
            "scope": "Database and DNS fail-over to the standby site",
            "results": [
                {"requirement": "RTO 240 min", "result": "back in 95 min", "met": True},
                {"requirement": "RPO 15 min", "result": "22 min of mail queued lost", "met": False},
            ],
            "deficiencies": ["Log shipping lagged behind under load"],
            "actions": ["Ship logs every 5 minutes; test again within a quarter"],
            "review": {"held_on": demo.now.date().isoformat(), "held_by": "Dana Ops", "notes": "RPO missed once"},
        }
        await api.call("config", "POST", f"{PLANS}/{created['id']}/tests", person="carl.config", body=test)
        tested += 1
    return f"{plans} continuity plans, {tested} fail-over tests recorded"
