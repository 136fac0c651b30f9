"""Continuity in reporting, pure: what config's continuity.* events set in the fact tables, the
continuity report's rows (overdue first, a re-test shown until a test ends it) and the invocation
rows of the significant-events report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from services.reporting.domain import continuity
from services.reporting.domain.continuity import INVOCATIONS, PLAN_SERVICES, PLANS, continuity_rows, due_status
from shared.events.continuity import (
    ContinuityInvocationReviewed,
    ContinuityInvoked,
    ContinuityPlanRecorded,
    ContinuityRetestDue,
    ContinuityReturnedToNormal,
    ContinuityTestRecorded,
)

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
D = timedelta(days=1)
PLAN, SVC, SVC2, INV = uuid4(), uuid4(), uuid4(), uuid4()


def test_each_event_sets_its_facts() -> None:
    recorded = ContinuityPlanRecorded(
        plan_id=PLAN,
        kind="continuity",
        title="Mail",
        version=3,
        service_ids=[SVC, SVC2],
        change_number="CHG0000001",
        test_due_by=NOW + D,
        recorded_at=NOW,
        recorded_by="carol",
    )
    assert continuity.plan_recorded(recorded) == [
        (PLANS, {"plan_id": PLAN, "kind": "continuity", "title": "Mail", "version": "3", "test_due_at": NOW + D}),
        (PLAN_SERVICES, {"plan_id": PLAN, "service_id": SVC, "recorded_at": NOW}),
        (PLAN_SERVICES, {"plan_id": PLAN, "service_id": SVC2, "recorded_at": NOW}),
    ]
    retest = ContinuityRetestDue(
        plan_id=PLAN, title="Mail", change_number="CHG0000002", service_ids=[SVC], test_due_by=NOW, occurred_at=NOW
    )
    assert continuity.retest_due(retest) == [
        (PLANS, {"plan_id": PLAN, "test_due_at": NOW, "retest_change_number": "CHG0000002"})
    ]
    tested = ContinuityTestRecorded(
        test_id=uuid4(),
        plan_id=PLAN,
        plan_version=3,
        type="tabletop",
        tested_at=NOW - D,
        requirements_met=1,
        requirements_missed=2,
        deficiencies=3,
        reviewed=False,
        test_due_by=NOW + 364 * D,
        recorded_by="carol",
    )
    [(table, values)] = continuity.on_test_recorded(tested)
    assert table is PLANS and values == {
        "plan_id": PLAN,
        "test_due_at": NOW + 364 * D,
        "retest_change_number": "",  # a re-test done: "" replaces the change number (None would not)
        "last_tested_at": NOW - D,
        "tests": 1,
        "deficiencies": 3,
        "requirements_missed": 2,
    }
    ids = {"invocation_id": INV, "plan_id": PLAN, "major_incident_number": "INC0000001"}
    invoked = ContinuityInvoked(
        **ids, title="Mail", service_ids=[SVC], reason="site lost", invoked_at=NOW - D, invoked_by="ivan"
    )
    back = ContinuityReturnedToNormal(**ids, invoked_at=NOW - D, returned_to_normal_at=NOW, recorded_by="ivan")
    reviewed = ContinuityInvocationReviewed(**ids, reviewed_at=NOW + D, reviewed_by="ivan")
    assert continuity.invocation(invoked) == [(INVOCATIONS, {**ids, "invoked_at": NOW - D, "status": "invoked"})]
    assert continuity.invocation(back) == [
        (INVOCATIONS, {**ids, "invoked_at": NOW - D, "returned_to_normal_at": NOW, "status": "returned_to_normal"})
    ]
    assert continuity.invocation(reviewed) == [(INVOCATIONS, {**ids, "reviewed_at": NOW + D, "status": "reviewed"})]
    assert continuity.RULES[ContinuityInvoked] is continuity.invocation


def test_due_within_thirty_days_overdue_after() -> None:
    assert due_status(None, NOW) is None
    assert due_status(NOW, NOW) == "due"
    assert due_status(NOW - timedelta(seconds=1), NOW) == "overdue"
    assert due_status(NOW + 30 * D, NOW) == "due"
    assert due_status(NOW + 30 * D + timedelta(seconds=1), NOW) == "ok"


def _plan(title: str, due: datetime | None, **values: object) -> dict[str, object]:
    base = {"plan_id": uuid4(), "title": title, "kind": "continuity", "version": "2", "test_due_at": due}
    counts = {"tests": 0, "deficiencies": 0, "requirements_missed": 0}
    return base | {"retest_change_number": None, "last_tested_at": None} | counts | values


def test_rows_overdue_first_then_due_then_ok_and_the_totals() -> None:
    ok, due = _plan("B ok", NOW + 60 * D), _plan("C due", NOW + D, retest_change_number="CHG0000002")
    overdue, done = _plan("D overdue", NOW - D), _plan("A retest done", NOW + 90 * D, retest_change_number="")
    plans = [ok, due, overdue, done]
    services = {str(due["plan_id"]): [str(SVC2), str(SVC)]}
    names = {str(SVC): "Mail", str(SVC2): "Calendar"}
    rows, totals = continuity_rows(plans, services, {str(overdue["plan_id"]): 2}, names, NOW)
    assert [r["title"] for r in rows] == ["D overdue", "C due", "B ok", "A retest done"]
    assert [r["test_status"] for r in rows] == ["overdue", "due", "ok", "ok"]
    assert rows[1]["service_names"] == "Calendar, Mail" and rows[0]["service_names"] == ""
    assert [r["retest_change_number"] for r in rows] == [None, "CHG0000002", None, None]
    assert rows[0]["version"] == 2 and rows[0]["invocations"] == 2
    assert totals == {"plans": 4, "tests_due": 1, "tests_overdue": 1, "retests_due": 1, "invocations": 2}


def test_an_invocation_is_a_significant_event_under_its_major_incident() -> None:
    invocation = {
        "plan_id": PLAN,
        "major_incident_number": "INC0000042",
        "invoked_at": NOW - 3 * timedelta(hours=1),
        "returned_to_normal_at": NOW - timedelta(minutes=40),
        "reviewed_at": None,
        "status": "returned_to_normal",
    }
    [row] = continuity.invocation_rows([invocation], {str(PLAN): [str(SVC)]}, {str(SVC): "Mail"})
    assert row == {
        "kind": "continuity_invocation",
        "reference": "INC0000042",
        "service_id": str(SVC),
        "service_name": "Mail",
        "started_at": NOW - 3 * timedelta(hours=1),
        "ended_at": NOW - timedelta(minutes=40),
        "duration_hours": 2.33,
        "status": "returned_to_normal",
        "change_number": None,
        "review_status": "pending",
    }
    [open_one] = continuity.invocation_rows([invocation | {"returned_to_normal_at": None, "reviewed_at": NOW}], {}, {})
    assert (open_one["duration_hours"], open_one["service_name"], open_one["review_status"]) == (None, None, "recorded")
