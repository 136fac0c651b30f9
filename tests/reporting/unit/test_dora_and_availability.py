"""The reports computed in Python: DORA metrics per service (deployments, lead time, failure rate,
time to restore), downtime as a union of outages clipped to the window, availability against its
target; and the shared arithmetic (percentages, means, medians, folding groups)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.reporting.domain.figures import (
    Window,
    availability_report,
    dora_report,
    downtime,
    fold,
    fold_all,
    in_hours,
    mean_in,
    median_of,
    pct,
    text_of,
)

T0 = datetime(2026, 10, 1, tzinfo=UTC)
H, D = timedelta(hours=1), timedelta(days=1)
WINDOW = Window(T0, T0 + 10 * D)
SHOP, PAY = "svc-shop", "svc-pay"
NAMES = {SHOP: "Shop", PAY: "Payments"}


def test_a_window_measures_its_length_in_hours_and_days() -> None:
    assert (WINDOW.hours, WINDOW.days) == (240.0, 10.0)
    assert Window(T0, T0 + 90 * timedelta(minutes=1)).hours == 1.5


def test_percentages_means_and_medians_round_to_two_decimals_and_are_none_without_data() -> None:
    assert (pct(1, 3), pct(2, 3), pct(0, 5), pct(3, 0)) == (33.33, 66.67, 0.0, None)
    assert in_hours(timedelta(minutes=90)) == 1.5
    assert (mean_in(5400.0, 2, 3600), mean_in(100.0, 3, 60), mean_in(10.0, 0, 60)) == (0.75, 0.56, None)
    assert (median_of([3.0, 1.0, 2.0]), median_of([1.0, 2.0]), median_of([1.004]), median_of([])) == (
        2.0,
        1.5,
        1.0,
        None,
    )
    assert (text_of(None), text_of(""), text_of(7)) == ("", "", "7")


def test_folding_adds_the_sums_and_keeps_the_extremes_a_missing_one_ignored() -> None:
    groups = [
        {"k": "a", "n": 1, "lo": 5, "hi": None},
        {"k": "a", "n": 2, "lo": None, "hi": 3},
        {"k": "a", "n": 4, "lo": 2, "hi": 9},
        {"k": "b", "n": 7, "lo": None, "hi": None},
        {"k": "b", "n": 1, "lo": None, "hi": None},
    ]
    folded = fold(groups, lambda g: (g["k"],), ("n",), least=("lo",), greatest=("hi",))
    assert folded == {("a",): {"n": 7, "lo": 2, "hi": 9}, ("b",): {"n": 8, "lo": None, "hi": None}}
    assert fold_all(groups, ("n",), least=("lo",), greatest=("hi",)) == {"n": 15, "lo": 2, "hi": 9}
    assert fold_all([], ("n", "m"), least=("lo",), greatest=("hi",)) == {"n": 0, "m": 0, "lo": None, "hi": None}


def deploy(service: str | None = SHOP, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "service_id": service,
        "environment": "production",
        "result": "succeeded",
        "finished_at": T0 + D,
        "change_id": None,
    }
    values.update(overrides)
    return values


def change(
    change_id: str, created: datetime, implemented: datetime | None, failed: datetime | None = None
) -> dict[str, Any]:
    return {"change_id": change_id, "created_at": created, "implemented_at": implemented, "failed_at": failed}


def outage(service: str, opened: datetime, resolved: datetime | None) -> dict[str, Any]:
    return {"service_id": service, "opened_at": opened, "resolved_at": resolved}


def dora(
    deployments: list[dict[str, Any]] = [],  # noqa: B006
    changes: list[dict[str, Any]] = [],  # noqa: B006
    services: dict[str, set[str]] | None = None,
    causing: set[str] | None = None,
    outages: list[dict[str, Any]] = [],  # noqa: B006
    window: Window = WINDOW,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    return dora_report(window, deployments, changes, services or {}, causing or set(), outages, NAMES)


def test_only_finished_production_deployments_in_the_window_count() -> None:
    counted = [deploy(), deploy(environment="prod", result="failed"), deploy(result="rolled_back", finished_at=T0)]
    ignored = [
        deploy(service=None),
        deploy(environment="staging"),
        deploy(result="in_progress"),
        deploy(finished_at=None),
        deploy(finished_at=T0 - timedelta(seconds=1)),
        deploy(finished_at=T0 + 10 * D),  # the window's end is not in it
    ]
    rows, totals = dora(counted + ignored)
    assert [(r["service_id"], r["deployments"]) for r in rows] == [(SHOP, 3)]
    assert totals["deployments"] == 3


def test_frequency_counts_succeeded_deployments_per_day_and_failures_count_rollbacks_and_incidents() -> None:
    deployments = [
        deploy(),
        deploy(),
        deploy(change_id="c-bad"),  # succeeded, but its change caused an incident
        deploy(result="failed"),
        deploy(result="rolled_back"),
        deploy(PAY),
        deploy(PAY, change_id="c-good"),
        deploy(PAY, result="failed"),
    ]
    rows, totals = dora(deployments, causing={"c-bad"})
    pay, shop = rows  # by service id
    assert (shop["service_id"], shop["service_name"], shop["deployments"]) == (SHOP, "Shop", 5)
    assert shop["deployment_frequency_per_day"] == 0.3  # 3 succeeded over 10 days
    assert shop["change_failure_rate_pct"] == 60.0  # failed, rolled back, and the one that caused an incident
    assert (pay["deployments"], pay["deployment_frequency_per_day"], pay["change_failure_rate_pct"]) == (3, 0.2, 33.33)
    assert (totals["deployments"], totals["deployment_frequency_per_day"], totals["change_failure_rate_pct"]) == (
        8,
        0.5,
        50.0,
    )


def test_lead_time_is_the_median_from_recorded_to_implemented_of_changes_implemented_in_the_window() -> None:
    changes = [
        change("c1", T0, T0 + 2 * H),
        change("c2", T0, T0 + 4 * H),
        change("c3", T0, T0 + 9 * H),
        change("c4", T0 - D, T0 - H),  # implemented before the window
        change("c5", T0, T0 + 10 * D),  # implemented at its end: not in it
        change("c6", T0, T0 + 3 * H, failed=T0 + 5 * H),  # failed: not a delivered change
        change("c7", T0, None),
        {"change_id": "c8", "created_at": None, "implemented_at": T0 + H, "failed_at": None},
    ]
    services = {c: {SHOP} for c in ("c1", "c2", "c4", "c5", "c6", "c7", "c8")} | {"c3": {SHOP, PAY}}
    rows, totals = dora(changes=changes, services=services)
    assert [
        (r["service_id"], r["lead_time_hours"], r["deployments"], r["deployment_frequency_per_day"]) for r in rows
    ] == [
        (PAY, 9.0, 0, 0.0),
        (SHOP, 4.0, 0, 0.0),
    ]
    assert totals["lead_time_hours"] == 6.5  # the median of 2, 4, 9 and 9 (c3 counts for each of its services)
    assert (rows[0]["change_failure_rate_pct"], totals["change_failure_rate_pct"]) == (None, None)


def test_a_change_naming_no_service_counts_for_none() -> None:
    rows, totals = dora(changes=[change("c1", T0, T0 + H)])
    assert rows == []
    assert totals["lead_time_hours"] is None


def test_time_to_restore_is_the_median_of_outages_resolved_in_the_window() -> None:
    outages = [
        outage(SHOP, T0, T0 + H),
        outage(SHOP, T0 + D, T0 + D + 3 * H),
        outage(SHOP, T0 - D, T0 - H),  # resolved before the window
        outage(SHOP, T0 + 9 * D, T0 + 10 * D),  # resolved at its end
        outage(SHOP, T0 + 9 * D, None),  # still open
        outage(PAY, T0 - 2 * H, T0 + 2 * H),  # opened before, resolved in it: counts, from its opening
    ]
    rows, totals = dora(outages=outages)
    assert [(r["service_id"], r["restores"], r["time_to_restore_hours"]) for r in rows] == [
        (PAY, 1, 4.0),
        (SHOP, 2, 2.0),
    ]
    assert totals["time_to_restore_hours"] == 3.0


def test_the_dora_totals_name_the_window_and_an_empty_window_has_no_frequency() -> None:
    _, totals = dora()
    assert totals == {
        "window_start": T0.isoformat(),
        "window_end": (T0 + 10 * D).isoformat(),
        "deployments": 0,
        "deployment_frequency_per_day": 0.0,
        "lead_time_hours": None,
        "change_failure_rate_pct": None,
        "time_to_restore_hours": None,
    }
    rows, totals = dora([deploy(finished_at=T0)], window=Window(T0, T0))
    assert rows == []
    assert totals["deployment_frequency_per_day"] is None


def test_a_service_the_cmdb_does_not_name_has_an_empty_name() -> None:
    rows, _ = dora([deploy("svc-unknown")])
    assert rows[0]["service_name"] == ""


def test_downtime_is_the_union_of_the_outages_clipped_to_the_window() -> None:
    window = Window(T0, T0 + D)
    assert downtime([], window) == timedelta(0)
    assert downtime([(T0 + H, T0 + 2 * H)], window) == H
    assert downtime([(T0 + H, T0 + 3 * H), (T0 + 2 * H, T0 + 4 * H)], window) == 3 * H  # overlapping
    assert downtime([(T0 + H, T0 + 5 * H), (T0 + 2 * H, T0 + 3 * H)], window) == 4 * H  # one inside the other
    assert downtime([(T0 + 2 * H, T0 + 3 * H), (T0 + H, T0 + 2 * H)], window) == 2 * H  # touching, any order
    assert downtime([(T0 + H, T0 + 2 * H), (T0 + 4 * H, T0 + 5 * H)], window) == 2 * H  # apart
    assert downtime([(T0 - H, T0 + H)], window) == H  # began before the window
    assert downtime([(T0 + 23 * H, T0 + 25 * H)], window) == H  # ends after it
    assert downtime([(T0 + 23 * H, None)], window) == H  # still open: to the window's end
    assert downtime([(T0 - 2 * H, T0), (T0 + D, T0 + D + H)], window) == timedelta(0)  # outside, touching
    assert downtime([(T0 - H, None)], window) == D


ONE_DAY = Window(T0, T0 + D)


def availability(outages: list[dict[str, Any]], services: list[str], window: Window = ONE_DAY) -> Any:
    targets = {SHOP: 99.0, PAY: 95.0}
    return availability_report(window, outages, services, NAMES, lambda s: targets.get(s, 99.9))


def test_availability_is_the_share_of_the_window_without_downtime_against_the_target() -> None:
    rows, totals = availability(
        [outage(SHOP, T0 + H, T0 + 2 * H), outage(PAY, T0 + H, T0 + 2 * H), outage(PAY, T0 - D, T0 - H)],
        [SHOP, PAY],
    )
    assert rows == [
        {
            "service_id": PAY,
            "service_name": "Payments",
            "window_hours": 24.0,
            "outages": 1,
            "downtime_minutes": 60.0,
            "availability_pct": 95.833,
            "target_pct": 95.0,
            "target_met": True,
        },
        {
            "service_id": SHOP,
            "service_name": "Shop",
            "window_hours": 24.0,
            "outages": 1,
            "downtime_minutes": 60.0,
            "availability_pct": 95.833,
            "target_pct": 99.0,
            "target_met": False,
        },
    ]
    assert totals == {
        "window_start": T0.isoformat(),
        "window_end": (T0 + D).isoformat(),
        "services": 2,
        "services_meeting_target": 1,
        "outages": 2,
        "downtime_minutes": 120.0,
    }


def test_a_service_with_outages_but_not_asked_for_is_listed_and_one_without_is_fully_available() -> None:
    rows, _ = availability([outage("svc-x", T0, None)], [SHOP])
    assert [(r["service_id"], r["service_name"], r["availability_pct"], r["target_met"]) for r in rows] == [
        (SHOP, "Shop", 100.0, True),
        ("svc-x", "", 0.0, False),
    ]


@pytest.mark.parametrize(
    ("opened", "resolved", "counted"),
    [
        (T0 + D, None, False),  # opens at the window's end
        (T0 - H, T0, False),  # resolved at its start
        (T0 - H, T0 + timedelta(seconds=1), True),
        (T0 + D - timedelta(seconds=1), None, True),
    ],
)
def test_an_outage_counts_when_it_overlaps_the_window(
    opened: datetime, resolved: datetime | None, counted: bool
) -> None:
    rows, _ = availability([outage(SHOP, opened, resolved)], [SHOP])
    assert rows[0]["outages"] == int(counted)


def test_availability_exactly_at_the_target_meets_it_and_an_empty_window_has_none() -> None:
    window = Window(T0, T0 + 100 * H)
    rows, _ = availability([outage(SHOP, T0, T0 + H)], [SHOP], window)
    assert (rows[0]["availability_pct"], rows[0]["target_met"]) == (99.0, True)
    rows, _ = availability([], [SHOP], Window(T0, T0))
    assert (rows[0]["availability_pct"], rows[0]["target_met"], rows[0]["window_hours"]) == (None, False, 0.0)


def test_changes_and_outages_at_the_windows_start_count_and_a_skipped_one_does_not_stop_the_rest() -> None:
    changes = [
        change("c0", T0, None),  # not implemented
        change("c9", T0 - D, T0 - H),  # implemented before the window
        change("c1", T0 - 2 * H, T0),  # implemented as the window opens
        change("c2", T0, T0 + 4 * H),
    ]
    outages = [outage(SHOP, T0 - 2 * H, T0), outage(SHOP, T0, T0 + 4 * H)]
    rows, _ = dora(changes=changes, services={c: {SHOP} for c in ("c0", "c9", "c1", "c2")}, outages=outages)
    assert (rows[0]["lead_time_hours"], rows[0]["restores"], rows[0]["time_to_restore_hours"]) == (3.0, 2, 3.0)


def test_the_deployment_frequency_keeps_three_decimals() -> None:
    rows, totals = dora([deploy()], window=Window(T0, T0 + 3 * D))
    assert rows[0]["deployment_frequency_per_day"] == totals["deployment_frequency_per_day"] == 0.333


def test_downtime_never_counts_an_outage_wholly_outside_the_window_and_adds_every_separate_one() -> None:
    window = Window(T0, T0 + D)
    assert downtime([(T0 - 3 * H, T0 - 2 * H), (T0 + H, T0 + 2 * H)], window) == H
    assert downtime([(T0 + D + H, T0 + D + 2 * H), (T0 + H, T0 + 2 * H)], window) == H
    apart = [(T0 + H, T0 + 2 * H), (T0 + 4 * H, T0 + 5 * H), (T0 + 7 * H, T0 + 9 * H)]
    assert downtime(apart, window) == 4 * H


def test_window_hours_and_downtime_minutes_keep_two_decimals() -> None:
    window = Window(T0, T0 + H + timedelta(seconds=20))  # 1.0056 hours
    outages = [outage(SHOP, T0, T0 + timedelta(seconds=7)), outage(PAY, T0, T0 + timedelta(seconds=7))]
    rows, totals = availability(outages, [SHOP, PAY], window)
    assert [(r["window_hours"], r["downtime_minutes"]) for r in rows] == [(1.01, 0.12), (1.01, 0.12)]
    assert totals["downtime_minutes"] == 0.24
