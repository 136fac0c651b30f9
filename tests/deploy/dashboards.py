"""What the deploy/ monitoring files hold, read the same way by their tests: the dashboard's queries
and the metric names that the queries and the alert rules use."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
ALERT_TESTS = ROOT / "deploy" / "prometheus" / "alerts-test.yml"
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "itsm-dashboard.json"

_NAME = re.compile(r"\b((?:itsm|http_server|db_client)_[a-z0-9_]+|up)\b(?=\s*[{\[)]|\s*$|\s*[><=])")
_HISTOGRAM_PARTS = ("_bucket", "_count", "_sum")


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def dashboard_queries() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] if p["type"] != "row" for t in p["targets"]]


def alert_expressions() -> list[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def metric_names(expressions: list[str]) -> set[str]:
    """The metric families the expressions read (a histogram's _bucket/_count/_sum as the family)."""
    names = {m.group(1) for e in expressions for m in _NAME.finditer(e)}
    families = set()
    for name in names:
        for part in _HISTOGRAM_PARTS:
            if name.endswith(part) and ("duration" in name or name.startswith("http_server")):
                name = name.removesuffix(part)
        families.add(name)
    return families


def as_instant_query(expression: str) -> str:
    """A dashboard query as Prometheus takes it outside Grafana: every service, a 1m rate window."""
    return expression.replace("$job", "itsm-.*").replace("$__rate_interval", "1m")
