"""deploy/'s Prometheus alert rules and Grafana dashboard: valid for promtool (Debian's `prometheus`
package; .ci/run installs it), the alerts fire on the series their unit tests give them, and every
metric they read is one docs/operations.md lists. The real Prometheus scrape of every service
(tests/e2e/test_prometheus_scrape.py) runs the dashboard's queries against it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.dashboards import (
    ALERT_TESTS,
    ALERTS,
    PROMETHEUS_CONFIG,
    ROOT,
    alert_expressions,
    dashboard,
    dashboard_queries,
    metric_names,
)

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is absent: apt-get install prometheus (.ci/run does it)"
)


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *map(str, args)], capture_output=True, text=True, timeout=60, check=False)


@needs_promtool
def test_the_alert_rules_are_valid() -> None:
    result = promtool("check", "rules", ALERTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 7 rules found" in result.stdout


@needs_promtool
def test_the_alerts_fire_on_what_they_watch_and_not_otherwise() -> None:
    """Backlog growing, outbox stalled, dead letters, consumer down, 5xx ratio, service down."""
    result = promtool("test", "rules", ALERT_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_a_broken_rule_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "alerts.yml"
    broken.write_text(ALERTS.read_text().replace("max by (service) (itsm_outbox_pending) > 0", "max by (service (", 1))
    assert promtool("check", "rules", broken).returncode == 1


@needs_promtool
def test_the_example_scrape_configuration_is_valid() -> None:
    result = promtool("check", "config", PROMETHEUS_CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dashboard_has_a_query_on_each_panel_and_a_service_choice() -> None:
    board = dashboard()
    panels = [p for p in board["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])
    assert all(p["targets"] and all(t["expr"].strip() for t in p["targets"]) for p in panels)
    assert all(p["datasource"]["uid"] == "${datasource}" for p in panels)
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource", "job"]
    assert all('job=~"$job"' in query for query in dashboard_queries())


def test_every_metric_the_alerts_and_dashboard_read_is_documented() -> None:
    documented = (ROOT / "docs" / "operations.md").read_text()
    used = metric_names(alert_expressions()) | metric_names(dashboard_queries())
    assert {"itsm_outbox_pending", "itsm_consumer_dead_letter_queue_depth", "http_server_duration_milliseconds"} <= used
    assert sorted(name for name in used - {"up"} if f"`{name}" not in documented) == []
