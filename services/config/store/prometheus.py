"""The outbound adapter to Prometheus's HTTP API: `query_range` of one PromQL expression over
grid instants, answered as {label value: [(instant, value), ...]} for the label naming the CI.
Prometheus unreachable, or answering with an error, raises `PrometheusUnavailable`: the caller
stores nothing for that window (a sample is only ever what Prometheus served)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from shared import metrics

MAX_DETAIL = 500


class PrometheusUnavailable(Exception):
    """Prometheus did not answer the query (down, timed out, or an error status)."""


Series = dict[str, list[tuple[datetime, float]]]

SOURCE = metrics.Readings("config")
"""`itsm.capacity.source_up` of this process's sampling job (1 answering, 0 not)."""


def record_source_up(up: bool) -> None:
    metrics.publish(SOURCE)
    SOURCE.set("itsm.capacity.source_up", [(1.0 if up else 0.0, {"source": "prometheus"})])


class PrometheusClient:
    def __init__(self, base_url: str, *, timeout_s: float) -> None:
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s)

    async def __aenter__(self) -> PrometheusClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def query_range(
        self, query: str, label: str, start: datetime, end: datetime, step: timedelta
    ) -> tuple[Series, int]:
        """The series of `query` at every grid instant in [start, end], keyed by their `label`
        value, and how many series had no such label (left out)."""
        params = {
            "query": query,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": f"{step.total_seconds():g}",
        }
        try:
            response = await self._client.post("/api/v1/query_range", data=params)
        except httpx.HTTPError as exc:
            raise PrometheusUnavailable(f"{type(exc).__name__}: {exc}"[:MAX_DETAIL]) from exc
        if response.status_code != 200:
            raise PrometheusUnavailable(f"HTTP {response.status_code}: {response.text}"[:MAX_DETAIL])
        try:
            body: dict[str, Any] = response.json()
        except ValueError as exc:
            raise PrometheusUnavailable("an answer that is not JSON") from exc
        if body.get("status") != "success" or body.get("data", {}).get("resultType") != "matrix":
            raise PrometheusUnavailable(f"not a matrix: {str(body)[:200]}")
        return _series(body["data"]["result"], label)


def _series(result: list[dict[str, Any]], label: str) -> tuple[Series, int]:
    series: Series = {}
    unlabelled = 0
    for one in result:
        key = one.get("metric", {}).get(label)
        if key is None:
            unlabelled += 1
            continue
        points = series.setdefault(key, [])
        for at, raw in one.get("values", ()):
            value = float(raw)
            if math.isfinite(value):  # NaN and Inf are no measure of capacity: not stored
                points.append((datetime.fromtimestamp(float(at), UTC), value))
    return series, unlabelled
