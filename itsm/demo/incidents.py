"""Step `incidents`: a few weeks of incidents planned per service and CI, taken through their
lifecycles (assign, start, hold, resolve, close; a major incident's review).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from itsm.demo.client import Missing
from itsm.demo.dataset import AGENTS, FLAKY_CIS, MARKER, SERVICES
from itsm.demo.state import Demo

INCIDENT_TITLES = {
    "application_instance": ["{ci} returns errors", "{ci} is slow", "Users cannot log in to {ci}"],
    "container_workload": ["{ci} pods restarting", "{ci} latency above 2 s", "{ci} 5xx errors spike"],
    "database": ["{ci} connection pool exhausted", "{ci} replication lag", "{ci} disk nearly full"],
    "virtual_machine": ["{ci} high CPU", "{ci} unreachable"],
    "network_device": ["{ci} dropping sessions", "{ci} interface flapping", "Cannot connect through {ci}"],
}

# Impact x urgency -> how long the work takes (hours), roughly, per resulting priority.
RESOLVE_HOURS = {1: (1, 5), 2: (3, 20), 3: (6, 60), 4: (12, 110), 5: (24, 200)}
PRIORITY = {(1, 1): 1, (1, 2): 2, (2, 1): 2, (1, 3): 3, (2, 2): 3, (3, 1): 3, (2, 3): 4, (3, 2): 4, (3, 3): 5}


def _working_day_factor(day: date) -> float:
    return 0.35 if day.weekday() >= 5 else 1.0


def plan_incidents(demo: Demo) -> list[dict[str, Any]]:
    """Each incident with its planned lifecycle (times); the same for the same seed and period."""
    rng = demo.rng_for("incidents")
    plans: list[dict[str, Any]] = []
    ci_names = list(demo.loaded.cis)
    for offset in range(demo.days):
        day = (demo.start + timedelta(days=offset)).date()
        for plan in SERVICES:
            expected = plan.incident_rate * _working_day_factor(day)
            count = sum(1 for _ in range(6) if rng.random() < expected / 6)
            mine = [n for n in ci_names if demo.loaded.cis[n]["service"] == plan.name]
            for _ in range(count):
                weights = [4.0 if n in FLAKY_CIS else 1.0 for n in mine]
                if not mine:
                    continue
                ci = rng.choices(mine, weights)[0]
                impact, urgency = rng.choices(
                    [(1, 1), (1, 2), (2, 1), (2, 2), (2, 3), (3, 2), (3, 3)], [1, 2, 2, 6, 5, 4, 3]
                )[0]
                priority = PRIORITY[(impact, urgency)]
                opened = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                    hours=rng.uniform(7, 19), minutes=rng.uniform(0, 59)
                )
                low, high = RESOLVE_HOURS[priority]
                assigned = opened + timedelta(minutes=rng.uniform(2, 25 if priority <= 2 else 90))
                started = assigned + timedelta(minutes=rng.uniform(3, 40))
                resolved = started + timedelta(hours=rng.uniform(low, high) * rng.choice([0.6, 1.0, 1.0, 1.6]))
                group = demo.loaded.cis[ci]["group"] if rng.random() < 0.85 else "service-desk"
                ci_type = demo.loaded.cis[ci]["type"]
                title = rng.choice(INCIDENT_TITLES.get(ci_type, ["{ci} problem"])).format(ci=ci)
                plans.append(
                    {
                        "ci": ci,
                        "title": title,
                        "impact": impact,
                        "urgency": urgency,
                        "priority": priority,
                        "group": group,
                        "assignee": rng.choice(AGENTS[group]),
                        "opened": opened,
                        "assigned": assigned,
                        "started": started,
                        "hold": rng.random() < 0.15,
                        "resolved": resolved,
                        "closed": resolved + timedelta(hours=rng.uniform(6, 72)),
                        "caller": rng.choice(["alex", "blake", "casey", "drew", "erin", "frankie"]) + "@example.com",
                    }
                )
    return plans


async def load_incidents(demo: Demo) -> str:
    api = demo.api
    if not api.has("incident", "POST", "/api/v1/incidents"):
        raise Missing("incident has no POST /incidents")
    plans = plan_incidents(demo)
    done = {"resolved": 0, "open": 0}

    async def one(p: dict[str, Any]) -> None:
        ci = demo.loaded.cis[p["ci"]]
        desk = rng_person(demo, "service-desk")
        incident = await api.call(
            "incident",
            "POST",
            "/api/v1/incidents",
            person=desk,
            at=p["opened"],
            body={"title": p["title"], "caller": p["caller"], "impact": p["impact"], "urgency": p["urgency"]},
            optional={
                "ci_id": ci["id"],
                "service_id": ci["service_id"],
                "category": "software" if ci["type"] != "network_device" else "network",
                "description": f"Reported by {p['caller']} ({MARKER}).",
                "channel": "phone" if p["priority"] <= 2 else "portal",
            },
        )
        url = f"/api/v1/incidents/{incident['id']}"
        steps: list[tuple[datetime, str, dict[str, Any] | None, str]] = [
            (p["assigned"], "assign", {"assignment_group": p["group"], "assignee": p["assignee"]}, desk),
            (p["started"], "start", None, p["assignee"]),
        ]
        if p["hold"]:
            hold_at = p["started"] + (p["resolved"] - p["started"]) / 3
            steps.append((hold_at, "hold", {"reason": "awaiting_caller"}, p["assignee"]))
            steps.append((hold_at + (p["resolved"] - p["started"]) / 4, "resume", None, p["assignee"]))
        resolution = {"resolution_code": "fixed", "resolution_notes": "Restored."}
        steps.append((p["resolved"], "resolve", resolution, p["assignee"]))
        steps.append((p["closed"], "close", None, desk))
        if p["priority"] == 1 and api.has("incident", "POST", f"{url}/major"):
            steps.insert(1, (p["opened"] + timedelta(minutes=1), "major", {"manager": "mia.major"}, desk))
            # A major incident closes only once its post-incident review is recorded.
            review = {
                "summary": f"{p['title']}: service degraded until restored.",
                "root_cause": "A faulty configuration pushed to the CI.",
                "lessons": "Validate configuration before it is pushed.",
                "actions": ["Add a configuration check to the pipeline"],
            }
            steps.append((p["resolved"] + timedelta(hours=1), "review", review, "mia.major"))
        for at, action, body, person in sorted(steps, key=lambda s: s[0]):
            if at > demo.now:
                break
            method = "PUT" if action == "review" else "POST"
            await api.call("incident", method, f"{url}/{action}", person=person, at=at, body=body or {})
        demo.loaded.incidents.append({**p, "id": incident["id"], "number": incident["number"]})
        done["resolved" if p["resolved"] <= demo.now else "open"] += 1

    notes = await demo.each(plans, one)
    summary = f"{len(demo.loaded.incidents)} incidents over {demo.days} days ({done['open']} still open)"
    return summary + (f"; {len(notes)} refused, e.g. {notes[0]}" if notes else "")


def rng_person(demo: Demo, group: str) -> str:
    return demo.rng.choice(AGENTS[group])
