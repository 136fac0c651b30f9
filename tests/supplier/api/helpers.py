"""Shared by the supplier API tests: the app on the run's database, and CIs in its read model."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.supplier.store.tables import ci_read_model
from shared.db import create_engine

Auth = Callable[..., dict[str, str]]
NOW = datetime.now(UTC)


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


async def known_cis(database_url: str, count: int, *, status: str = "operational") -> list[str]:
    """CIs as config's events would have put them in the supplier's read model."""
    engine = create_engine(database_url)
    ids = [uuid.uuid4() for _ in range(count)]
    try:
        async with engine.begin() as conn:
            for i, ci_id in enumerate(ids):
                await ci_read_model.upsert(
                    conn,
                    {
                        "id": ci_id,
                        "number": f"CI{uuid.uuid4().int % 10_000_000:07d}",
                        "name": f"ci-{i}",
                        "type": "server",
                        "status": status,
                        "criticality": 3,
                        "service_id": None,
                        "supplier_id": None,
                        "version": 1,
                        "updated_at": datetime.now(UTC),
                    },
                )
    finally:
        await engine.dispose()
    return [str(i) for i in ids]


async def new_supplier(client: httpx.AsyncClient, auth: Auth, **body: Any) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/suppliers",
        json={"name": unique("Supplier"), "category": "services", **body},
        headers=auth("supplier_manager"),
    )
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def contract_body(supplier_id: str, **terms: Any) -> dict[str, Any]:
    return {
        "supplier_id": supplier_id,
        "title": unique("Managed network"),
        "owner": "olga",
        "starts_on": (NOW - timedelta(days=30)).isoformat(),
        "ends_on": (NOW + timedelta(days=365)).isoformat(),
        "notice_period_days": 90,
        "targets": [
            {"priority": 1, "response_minutes": 15, "resolution_minutes": 240},
            {"priority": 3, "response_minutes": 60, "resolution_minutes": 1440},
        ],
        **terms,
    }


async def new_contract(client: httpx.AsyncClient, auth: Auth, supplier_id: str, **terms: Any) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/contracts", json=contract_body(supplier_id, **terms), headers=auth("supplier_manager")
    )
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result
