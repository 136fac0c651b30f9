"""Continuity and availability (ISO/IEC 20000-1 6.3) in reporting, pure: the fact tables config's
`continuity.*` events set, what each event sets in them, the rows of the `continuity` report
(each plan's test status now: due, overdue, a re-test after a major change) and the invocations
the significant-events report lists."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from services.reporting.domain.facts import FactTable, Merge
from shared.events.continuity import (
    ContinuityInvocationReviewed,
    ContinuityInvoked,
    ContinuityPlanRecorded,
    ContinuityRetestDue,
    ContinuityReturnedToNormal,
    ContinuityTestRecorded,
)

K, F, L, MN, MX, AD = Merge.KEY, Merge.FILL, Merge.LATEST, Merge.MIN, Merge.MAX, Merge.ADD
Row = Mapping[str, Any]
Result = tuple[list[dict[str, Any]], dict[str, Any]]
Facts = list[tuple[FactTable, dict[str, Any]]]

WARN_DAYS = 30  # config: domain/continuity.py's WARN_DAYS (a test shows as due this long before)
INVOCATION_LIFECYCLE = ("invoked", "returned_to_normal", "reviewed")
NO_RETEST = ""
"""A re-test done (a LATEST column keeps a value until another replaces it: None never does)."""

PLANS = FactTable(
    "continuity_plan_facts",
    {
        "plan_id": K,
        "kind": F,
        "title": L,
        "version": L,
        "test_due_at": L,
        "retest_change_number": L,
        "last_tested_at": MX,
        "tests": AD,
        "deficiencies": AD,
        "requirements_missed": AD,
    },
)
PLAN_SERVICES = FactTable("continuity_plan_service_facts", {"plan_id": K, "service_id": K, "recorded_at": MN})
"""The services a plan covers (in any of its versions), since the first version naming each."""
INVOCATIONS = FactTable(
    "continuity_invocation_facts",
    {
        "invocation_id": K,
        "plan_id": F,
        "major_incident_number": F,
        "invoked_at": F,
        "returned_to_normal_at": F,
        "reviewed_at": F,
        "status": L,
    },
    {"status": INVOCATION_LIFECYCLE},
)
FACT_TABLES = (PLANS, PLAN_SERVICES, INVOCATIONS)


def plan_recorded(data: ContinuityPlanRecorded) -> Facts:
    plan = {
        "plan_id": data.plan_id,
        "kind": data.kind,
        "title": data.title,
        "version": str(data.version),
        "test_due_at": data.test_due_by,
    }
    covered = [
        (PLAN_SERVICES, {"plan_id": data.plan_id, "service_id": s, "recorded_at": data.recorded_at})
        for s in data.service_ids
    ]
    return [(PLANS, plan), *covered]


def retest_due(data: ContinuityRetestDue) -> Facts:
    values = {"plan_id": data.plan_id, "test_due_at": data.test_due_by, "retest_change_number": data.change_number}
    return [(PLANS, values)]


def on_test_recorded(data: ContinuityTestRecorded) -> Facts:
    values = {
        "plan_id": data.plan_id,
        "test_due_at": data.test_due_by,
        "retest_change_number": NO_RETEST,
        "last_tested_at": data.tested_at,
        "tests": 1,
        "deficiencies": data.deficiencies,
        "requirements_missed": data.requirements_missed,
    }
    return [(PLANS, values)]


def invocation(
    data: ContinuityInvoked | ContinuityReturnedToNormal | ContinuityInvocationReviewed,
) -> Facts:
    values: dict[str, Any] = {
        "invocation_id": data.invocation_id,
        "plan_id": data.plan_id,
        "major_incident_number": data.major_incident_number,
    }
    if isinstance(data, ContinuityInvoked):
        values |= {"invoked_at": data.invoked_at, "status": "invoked"}
        return [(INVOCATIONS, values)]
    if isinstance(data, ContinuityReturnedToNormal):
        values |= {
            "invoked_at": data.invoked_at,
            "returned_to_normal_at": data.returned_to_normal_at,
            "status": "returned_to_normal",
        }
    else:
        values |= {"reviewed_at": data.reviewed_at, "status": "reviewed"}
    return [(INVOCATIONS, values)]


RULES: dict[type, Any] = {
    ContinuityPlanRecorded: plan_recorded,
    ContinuityRetestDue: retest_due,
    ContinuityTestRecorded: on_test_recorded,
    ContinuityInvoked: invocation,
    ContinuityReturnedToNormal: invocation,
    ContinuityInvocationReviewed: invocation,
}
"""Event class -> what it sets in the fact tables."""

# The report's definition, as definitions.py's DEFINITIONS takes it.

DEFINITION: dict[str, Any] = {
    "name": "continuity",
    "title": "Continuity: plans, tests due and overdue, re-tests after major changes, invocations",
    "purpose": (
        "Service continuity and availability (6.3.3): each plan's next test and whether it is due or overdue, "
        "re-tests a major change to the service environment made due, test results and invocations"
    ),
    "audience": ("service continuity manager", "service owners", "top management"),
    "frequency": "monthly",
    "data_source": "continuity.* events (config's plans, tests, major-change re-tests, invocations), ci.* for names",
    "filters": ("service_id",),
    "period_applies_to": "nothing: the status of each plan is as of now",
    "columns": {
        "plan_id": "the plan",
        "title": "its title",
        "kind": "continuity or availability",
        "version": "its current version",
        "service_names": "the services it covers (names from the CMDB), comma-separated",
        "test_due_at": "when its next test is due (sooner after a major change)",
        "test_status": f"overdue (past test_due_at), due (within {WARN_DAYS} days) or ok",
        "retest_change_number": "the major change that made a re-test due, until a test is recorded",
        "last_tested_at": "its last test",
        "tests": "tests recorded",
        "deficiencies": "deficiencies the tests found",
        "requirements_missed": "requirements the tests did not meet",
        "invocations": "times it was invoked",
    },
}


def due_status(due_at: datetime | None, now: datetime) -> str | None:
    if due_at is None:
        return None
    if now > due_at:
        return "overdue"
    return "due" if now >= due_at - timedelta(days=WARN_DAYS) else "ok"


def continuity_rows(
    plans: Sequence[Row],
    services: Mapping[str, Sequence[str]],
    invocations: Mapping[str, int],
    names: Mapping[str, str],
    now: datetime,
) -> Result:
    """One row per plan, overdue first, then by due date and title."""
    rows: list[dict[str, Any]] = []
    for p in plans:
        plan_id = str(p["plan_id"])
        status = due_status(p["test_due_at"], now)
        rows.append(
            {
                "plan_id": plan_id,
                "title": p["title"],
                "kind": p["kind"],
                "version": int(p["version"]) if p["version"] else None,
                "service_names": ", ".join(sorted(names.get(s, s) for s in services.get(plan_id, ()))),
                "test_due_at": p["test_due_at"],
                "test_status": status,
                "retest_change_number": p["retest_change_number"] or None,
                "last_tested_at": p["last_tested_at"],
                "tests": p["tests"],
                "deficiencies": p["deficiencies"],
                "requirements_missed": p["requirements_missed"],
                "invocations": invocations.get(plan_id, 0),
            }
        )
    order = {"overdue": 0, "due": 1, "ok": 2, None: 3}
    rows.sort(key=lambda r: (order[r["test_status"]], r["test_due_at"] or now, r["title"] or "", r["plan_id"]))
    totals = {
        "plans": len(rows),
        "tests_due": sum(1 for r in rows if r["test_status"] == "due"),
        "tests_overdue": sum(1 for r in rows if r["test_status"] == "overdue"),
        "retests_due": sum(1 for r in rows if r["retest_change_number"]),
        "invocations": sum(r["invocations"] for r in rows),
    }
    return rows, totals


def invocation_rows(
    invocations: Iterable[Row], services: Mapping[str, Sequence[str]], names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Significant events: each continuity invocation, under the major incident it was for."""
    rows = []
    for i in invocations:
        covered = sorted(services.get(str(i["plan_id"]), ()))
        ended = i["returned_to_normal_at"]
        rows.append(
            {
                "kind": "continuity_invocation",
                "reference": i["major_incident_number"],
                "service_id": ", ".join(covered),
                "service_name": ", ".join(names.get(s, s) for s in covered) or None,
                "started_at": i["invoked_at"],
                "ended_at": ended,
                "duration_hours": None if ended is None else round((ended - i["invoked_at"]).total_seconds() / 3600, 2),
                "status": i["status"],
                "change_number": None,
                "review_status": "recorded" if i["reviewed_at"] is not None else "pending",
            }
        )
    return rows
