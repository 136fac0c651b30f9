"""Assertions on RFC 9457 problem details, shared by the API tests."""

from __future__ import annotations

import httpx


def assert_problem_naming(r: httpx.Response, status: int, field: str) -> None:
    """`r` is a problem+json answer with `status` whose errors name `field`."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
