"""The hot spots report from incident facts, against hand-counted answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.reporting.domain.figures import hotspots_report

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DB, WEB, VPN, EMAIL, PORTAL = "ci-db", "ci-web", "ci-vpn", "svc-email", "svc-portal"
NAMES = {DB: "orders-db", WEB: "portal-web", VPN: "vpn", EMAIL: "Email", PORTAL: "Customer portal"}


def incident(
    ci: str | None, hours: int, *, status: str = "closed", service: str = PORTAL, **more: Any
) -> dict[str, Any]:
    return {
        "ci_id": ci,
        "service_id": service,
        "opened_at": T0 + timedelta(hours=hours),
        "status": status,
        "major": False,
        "problem_id": None,
        "problem_link_reason": None,
    } | more


def test_cis_are_ranked_by_incidents_with_open_major_and_problem_links_counted() -> None:
    incidents = [
        incident(DB, 1, problem_id="p1", problem_link_reason="recurrence"),
        incident(DB, 5, status="in_progress", problem_id="p1", problem_link_reason="recurrence"),
        incident(DB, 9, status="new", major=True, service=EMAIL),
        incident(WEB, 2),
        incident(WEB, 3, problem_id="p2", problem_link_reason="manual"),
        incident(VPN, 4, status="resolved"),
        incident(None, 6),
    ]
    rows, totals = hotspots_report(incidents, NAMES)
    assert [(r["ci_name"], r["incidents"]) for r in rows] == [("orders-db", 3), ("portal-web", 2), ("vpn", 1)]
    db = rows[0]
    assert (db["open"], db["major"], db["problems"], db["recurring"]) == (2, 1, 1, 2)
    assert (db["service_id"], db["service_name"]) == (EMAIL, "Email")  # the service of its latest incident
    assert db["last_opened_at"] == (T0 + timedelta(hours=9)).isoformat()
    assert rows[1]["problems"] == 1 and rows[1]["recurring"] == 0
    assert rows[2]["open"] == 0  # resolved counts as no longer open
    assert totals == {"cis": 3, "incidents_on_cis": 6, "incidents_without_ci": 1, "cis_with_recurrence": 1}


def test_only_the_top_rows_are_kept_and_ties_go_by_name() -> None:
    incidents = [incident(f"ci-{n}", n) for n in range(60)]
    names = {f"ci-{n}": f"host-{n:02d}" for n in range(60)}
    rows, totals = hotspots_report(incidents, names)
    assert len(rows) == 50 and totals["cis"] == 60
    assert [r["ci_name"] for r in rows[:3]] == ["host-00", "host-01", "host-02"]
