"""CMDB store, the configuration audit (ISO/IEC 20000-1 9.1): where the CMDB and what discovery
sees, or the change-control rules, disagree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.items import CIStatus
from services.config.store.tables import ci_version, config_item, unauthorised_change


async def open_findings(conn: AsyncConnection, *, limit: int) -> list[Any]:
    query = (
        select(unauthorised_change, config_item.c.number, config_item.c.name)
        .join(config_item, config_item.c.id == unauthorised_change.c.ci_id)
        .where(unauthorised_change.c.status == "open")
        .order_by(unauthorised_change.c.detected_at.desc())
        .limit(limit)
    )
    return list(await conn.execute(query))


async def not_seen_since(conn: AsyncConnection, cutoff: datetime, *, limit: int) -> list[Any]:
    """Live CIs that discovery saw once but not since `cutoff`."""
    query = (
        select(
            config_item.c.id,
            config_item.c.number,
            config_item.c.name,
            config_item.c.type,
            config_item.c.last_seen_at,
            config_item.c.last_seen_by,
        )
        .where(config_item.c.last_seen_at < cutoff, config_item.c.status != CIStatus.RETIRED.value)
        .order_by(config_item.c.last_seen_at)
        .limit(limit)
    )
    return list(await conn.execute(query))


async def controlled_changed_without_change(conn: AsyncConnection, *, limit: int) -> list[Any]:
    """Versions of CIs under change control whose cause is not a change (edits made around the control)."""
    query = (
        select(
            ci_version.c.ci_id,
            ci_version.c.version,
            ci_version.c.recorded_at,
            ci_version.c.actor,
            ci_version.c.cause_kind,
            ci_version.c.changes,
            ci_version.c.snapshot,
            config_item.c.number,
            config_item.c.name,
        )
        .join(config_item, config_item.c.id == ci_version.c.ci_id)
        .where(config_item.c.controlled.is_(True), ci_version.c.cause_kind != "change", ci_version.c.version > 1)
        .order_by(ci_version.c.recorded_at.desc())
        .limit(limit)
    )
    # Controlled when the version was made (its snapshot says so), and not just the switch to control.
    return [r for r in await conn.execute(query) if r.snapshot.get("controlled") and "controlled" not in r.changes]
