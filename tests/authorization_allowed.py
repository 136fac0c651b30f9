"""What an allowed cell must answer in a table without `own` cells (config, supplier, reporting), beyond
the generic walk's "not refused by the table": no 403 of any kind (a role check left in a route or a
use case would answer one), no 401, no 5xx, and a read of a real record answers 200.

`Matrix.verdict` hands an allowed cell of a `special_ops` operation to `special`; these services pass
every operation, so the rule holds for every allowed cell of their walk."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx
from fastapi.routing import APIRoute

from tests.authorization import Expect, Matrix, Special, routes_of


def reads_of_real_records(routes: Mapping[str, APIRoute], records: Mapping[str, object]) -> frozenset[str]:
    """The GET operations whose every path parameter names a real record of the walk."""
    return frozenset(
        op
        for op, route in routes.items()
        if "GET" in route.methods and all(name in records for name in route.param_convertors)
    )


def allowed_means_served(reads: frozenset[str], answers: Mapping[str, int] | None = None) -> Special:
    """The verdict on an allowed cell: never 401, 403 or 5xx; 200 for `reads`, or the status `answers`
    names for an operation that answers something else to every allowed caller (a capped stream)."""

    def judge(op: str, rule: str, which: str, r: httpx.Response) -> str | None:
        if r.status_code in (401, 403) or r.status_code >= 500:
            return f"allowed by the table but answered {r.status_code} {r.text[:200]}"
        wanted = (answers or {}).get(op, 200 if op in reads else None)
        if wanted is not None and r.status_code != wanted:
            return f"expected {wanted}, got {r.status_code} {r.text[:200]}"
        return None

    return judge


def ownerless_matrix(
    client: httpx.AsyncClient,
    auth: Any,
    expected: Mapping[str, Expect],
    routers: Iterable[Any],
    policy: Any,
    ids: Mapping[str, str],
    answers: Mapping[str, int] | None = None,
) -> Matrix:
    """The walk of a table whose records belong to nobody: `ids` names a real record per path
    parameter (the same for "own" and "foreign"), and every allowed cell must be served."""
    records = {name: {"own": value, "foreign": value} for name, value in ids.items()}
    routes = routes_of(routers, policy)
    return Matrix(
        client,
        auth,
        expected,
        routes,
        records=records,
        special=allowed_means_served(reads_of_real_records(routes, records), answers),
        special_ops=frozenset(expected),
    )
