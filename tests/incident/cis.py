"""CIs in the incident service's local read model, as config's events would have put them there:
incidents on a CI need it known (and not retired)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.incident.store.tables import ci_read_model
from shared.db import create_engine


async def seed_ci(
    database_url: str,
    *,
    criticality: int = 3,
    status: str = "live",
    service_id: uuid.UUID | None = None,
    supplier_id: uuid.UUID | None = None,
    name: str = "app-01",
) -> uuid.UUID:
    """A CI in the read model (written straight into its table); its id."""
    ci_id = uuid.uuid4()
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await ci_read_model.upsert(
                conn,
                {
                    "id": ci_id,
                    "number": f"CI{ci_id.int % 10_000_000:07d}",
                    "name": name,
                    "type": "server",
                    "status": status,
                    "criticality": criticality,
                    "service_id": service_id,
                    "supplier_id": supplier_id,
                    "version": 1,
                    "updated_at": datetime.now(UTC),
                },
            )
    finally:
        await engine.dispose()
    return ci_id
