"""Change store, continuity: the services config's plans cover, and each change's stated
continuity and availability impact."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.domain.continuity import ContinuityImpact, ImpactLevel
from services.change.store.tables import change_continuity_impact, continuity_plan_cover


class ContinuityRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def covered_services(self) -> set[UUID]:
        """Every service a plan covers in its latest version known here."""
        rows = await self.conn.execute(select(continuity_plan_cover.c.service_ids))
        return {UUID(s) for (ids,) in rows for s in ids}

    async def record_plan(self, plan_id: UUID, version: int, service_ids: list[UUID], now: datetime) -> None:
        """Keep the plan's services as of its latest version (an older version arriving late changes nothing)."""
        t = continuity_plan_cover
        known = await self.conn.scalar(select(t.c.version).where(t.c.plan_id == plan_id))
        if known is not None and known >= version:
            return
        await self.conn.execute(delete(t).where(t.c.plan_id == plan_id))
        values = {"plan_id": plan_id, "version": version, "service_ids": sorted(str(s) for s in service_ids)}
        await self.conn.execute(t.insert().values(**values, updated_at=now))

    async def impact_of(self, change_id: UUID) -> ContinuityImpact | None:
        t = change_continuity_impact
        row = (await self.conn.execute(select(t).where(t.c.change_id == change_id))).first()
        if row is None:
            return None
        return ContinuityImpact(ImpactLevel(row.continuity_impact), ImpactLevel(row.availability_impact), row.notes)

    async def state_impact(self, change_id: UUID, impact: ContinuityImpact, actor: str, now: datetime) -> None:
        t = change_continuity_impact
        await self.conn.execute(delete(t).where(t.c.change_id == change_id))
        values = {
            "change_id": change_id,
            "continuity_impact": impact.continuity_impact.value,
            "availability_impact": impact.availability_impact.value,
            "notes": impact.notes,
            "stated_by": actor,
            "stated_at": now,
        }
        await self.conn.execute(t.insert().values(**values))
