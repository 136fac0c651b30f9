"""Step `changes`: changes planned per working day, taken through their lifecycles, each
implemented or failed one recorded as a production deployment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from itsm.demo.client import Missing
from itsm.demo.dataset import AGENTS, CAB, CHANGE_MANAGER, MARKER
from itsm.demo.releases import record_deployment
from itsm.demo.state import Demo


def plan_changes(demo: Demo) -> list[dict[str, Any]]:
    rng = demo.rng_for("changes")
    plans: list[dict[str, Any]] = []
    ci_names = list(demo.loaded.cis)
    for offset in range(demo.days):
        day = (demo.start + timedelta(days=offset)).date()
        if day.weekday() >= 5:
            continue
        for _ in range(rng.choice([0, 1, 1, 2])):
            kind = rng.choices(["standard", "normal", "emergency"], [6, 3, 1])[0]
            ci = rng.choice(ci_names)
            created = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=rng.uniform(8, 17))
            lead = timedelta(hours=rng.uniform(1, 6)) if kind == "emergency" else timedelta(days=rng.uniform(1, 6))
            start = created + lead
            plans.append(
                {
                    "type": kind,
                    "ci": ci,
                    "title": rng.choice(["Patch", "Upgrade", "Reconfigure", "Scale out", "Rotate certificates on"])
                    + f" {ci}",
                    "created": created,
                    "start": start,
                    "end": start + timedelta(hours=rng.uniform(1, 3)),
                    "risk": "low" if kind == "standard" else rng.choice(["low", "medium", "medium", "high"]),
                    "fails": rng.random() < (0.25 if kind == "emergency" else 0.08),
                    "requester": rng.choice(AGENTS[demo.loaded.cis[ci]["group"]]),
                }
            )
    return plans


async def load_changes(demo: Demo) -> str:
    api = demo.api
    if not api.has("change", "POST", "/api/v1/changes"):
        raise Missing("change has no POST /changes")
    plans = plan_changes(demo)
    outcome = {"implemented": 0, "failed": 0, "open": 0}

    async def one(p: dict[str, Any]) -> None:
        ci = demo.loaded.cis[p["ci"]]
        change = await api.call(
            "change",
            "POST",
            "/api/v1/changes",
            person=p["requester"],
            at=p["created"],
            body={"title": p["title"], "type": p["type"]},
            optional={
                "description": f"{p['title']} ({MARKER}).",
                "justification": "Service restoration" if p["type"] == "emergency" else "Keep the platform current",
                "category": "software",
                "planned_start": p["start"].isoformat(),
                "planned_end": p["end"].isoformat(),
                "affected_ci_ids": [ci["id"]],
                "service_ids": [ci["service_id"]],
            },
        )
        url = f"/api/v1/changes/{change['id']}"
        t: datetime = p["created"]
        steps: list[tuple[datetime, str, dict[str, Any] | None, str]] = []

        def later(minutes: float) -> datetime:
            nonlocal t
            t = t + timedelta(minutes=minutes)
            return t

        steps.append((later(10), "submit", None, p["requester"]))
        # Made without a template, a standard change is assessed and approved like any other.
        steps.append((later(60), "assess", {"risk": p["risk"]}, CHANGE_MANAGER))
        if p["type"] != "emergency" and p["risk"] == "high":
            steps.append((later(120), "approve", {"comment": "CAB: go"}, CAB[0]))
            steps.append((later(5), "approve", {"comment": "CAB: go"}, CAB[1]))
        else:
            # Whoever set the risk is not the only approver: a second approver decides.
            steps.append((later(30), "approve", {"comment": "ok"}, CAB[0]))
        steps.append((min(later(20), p["start"] - timedelta(minutes=1)), "schedule", None, CHANGE_MANAGER))
        t = max(t, p["start"])
        steps.append((p["start"], "start", None, p["requester"]))
        if p["fails"]:
            backed_out = {"notes": "Smoke tests failed; backed out to the previous version"}
            steps.append((p["end"], "fail", backed_out, p["requester"]))
        else:
            steps.append((p["end"], "complete", None, p["requester"]))
        steps.append((p["end"] + timedelta(days=1), "review", {"outcome": "Reviewed; no follow-up"}, CHANGE_MANAGER))
        steps.append((p["end"] + timedelta(days=1, minutes=10), "close", None, CHANGE_MANAGER))
        # The review of an emergency or failed change records its lessons (where the service asks for them).
        lessons = (
            {"lessons": "Smoke tests caught it; add the check to the staging run", "objectives_met": False}
            if p["fails"]
            else {"lessons": "Emergency path worked; fold the fix into the next standard release"}
            if p["type"] == "emergency"
            else None
        )
        last = p["created"]
        last_action = "create"
        for at, action, body, person in steps:
            at = max(at, last + timedelta(seconds=1))
            if at > demo.now:
                break
            optional = lessons if action == "review" else None
            await api.call(
                "change", "POST", f"{url}/{action}", person=person, at=at, body=body or {}, optional=optional
            )
            last = at
            last_action = action
            if action == "complete":
                outcome["implemented"] += 1
                await record_deployment(demo, change, ci, at, succeeded=True)
            elif action == "fail":
                outcome["failed"] += 1
                await record_deployment(demo, change, ci, at, succeeded=False)
        if last < p["end"]:
            outcome["open"] += 1
        demo.loaded.changes.append({**p, "id": change["id"], "number": change["number"], "last_action": last_action})

    notes = await demo.each(plans, one)
    summary = (
        f"{len(demo.loaded.changes)} changes ({outcome['implemented']} implemented, {outcome['failed']} failed, "
        f"{outcome['open']} in progress)"
    )
    return summary + (f"; {len(notes)} refused, e.g. {notes[0]}" if notes else "")
