"""Step `SLA policies`: the incident service level targets per priority, on two calendars."""

from __future__ import annotations

from itsm.demo.client import Missing, Refused
from itsm.demo.state import Demo

# The service level targets every demo incident is measured against: calendar, response and
# resolution (business time on that calendar). Priorities 1-2 run around the clock; 3-5 on the
# service desk's hours, so an incident opened at 19:00 starts its clock the next morning.
SLA_CALENDARS = {
    "Around the clock": {
        "time_zone": "UTC",
        "hours": ("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
        "day": ("00:00", "24:00"),
    },
    "Service desk hours": {
        "time_zone": "Europe/London",
        "hours": ("mon", "tue", "wed", "thu", "fri"),
        "day": ("08:00", "18:00"),
    },
}
SLA_TARGETS = {  # priority: (calendar, response minutes, resolution business hours)
    1: ("Around the clock", 30, 4),
    2: ("Around the clock", 30, 12),
    3: ("Service desk hours", 120, 30),
    4: ("Service desk hours", 240, 50),
    5: ("Service desk hours", 480, 100),
}


async def load_sla_policies(demo: Demo) -> str:
    """A default incident SLA policy per priority (any service), on two calendars."""
    api = demo.api
    if not api.has("incident", "POST", "/api/v1/sla/policies"):
        raise Missing("incident has no POST /sla/policies")
    calendars: dict[str, str] = {}
    for name, plan in SLA_CALENDARS.items():
        start, end = plan["day"]
        try:
            created = await api.call(
                "incident",
                "POST",
                "/api/v1/sla/calendars",
                person="sam.slm",
                body={
                    "name": name,
                    "time_zone": plan["time_zone"],
                    "working_hours": {day: {"start": start, "end": end} for day in plan["hours"]},
                },
            )
            calendars[name] = created["id"]
        except Refused as exc:  # named uniquely: there from an earlier run
            if exc.status != 409 or not (exc.body or {}).get("existing_id"):
                raise
            calendars[name] = exc.body["existing_id"]
    known = 0
    for priority, (calendar, response_min, resolution_h) in SLA_TARGETS.items():
        try:
            created = await api.call(
                "incident",
                "POST",
                "/api/v1/sla/policies",
                person="sam.slm",
                body={
                    "name": f"Incidents P{priority}",
                    "ticket_kind": "incident",
                    "priority": priority,
                    "response_target_s": response_min * 60,
                    "resolution_target_s": resolution_h * 3600,
                    "calendar_id": calendars[calendar],
                },
            )
            demo.loaded.sla_policies.append(created["id"])
        except Refused as exc:  # one default policy per priority: there from an earlier run
            if exc.status != 409 or not (exc.body or {}).get("existing_id"):
                raise
            demo.loaded.sla_policies.append(exc.body["existing_id"])
            known += 1
    return f"{len(SLA_TARGETS)} incident SLA policies on {len(calendars)} calendars" + (
        f" ({known} there already)" if known else ""
    )
