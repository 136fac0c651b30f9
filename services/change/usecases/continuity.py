"""Changes near continuity-tier services (6.3.2): learn which services config's continuity and
availability plans cover, let a change state its continuity and availability impact, and refuse
the assessment of a change on such a service until it has."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.change.domain.changes import ChangeStatus
from services.change.domain.continuity import ContinuityImpact, continuity_tier, require_impact_stated
from services.change.store.changes import ChangeRepository
from services.change.store.continuity import ContinuityRepository
from shared import clock
from shared.errors import Conflict, NotFound
from shared.events import CloudEvent
from shared.events.continuity import ContinuityPlanRecorded
from shared.uow import AnyUnitOfWork, UnitOfWork

OPEN_TO_STATEMENT = frozenset({ChangeStatus.DRAFT, ChangeStatus.SUBMITTED})


async def on_plan_recorded(event: CloudEvent, uow: UnitOfWork) -> None:
    """A plan's version from config: the services it covers now (the consumer commits)."""
    data = event.data_as(ContinuityPlanRecorded)
    await uow.repository(ContinuityRepository).record_plan(data.plan_id, data.version, data.service_ids, clock.now())


async def state_impact(change_id: UUID, impact: ContinuityImpact, actor: str, uow: AnyUnitOfWork) -> dict[str, Any]:
    """The change's continuity and availability impact, replacing what it said before; settled once
    the change is assessed."""
    async with uow:
        item = await uow.repository(ChangeRepository).get(change_id)
        if item is None:
            raise NotFound(f"change {change_id} does not exist")
        if item.status not in OPEN_TO_STATEMENT:
            raise Conflict(f"{item.number} is {item.status.value}: its impact was settled at assessment")
        continuity = uow.repository(ContinuityRepository)
        await continuity.state_impact(change_id, impact, actor, clock.now())
        tier = continuity_tier(item.service_ids, await continuity.covered_services())
        await uow.commit()
    return _answer(impact, tier)


async def impact_of(change_id: UUID, uow: AnyUnitOfWork) -> dict[str, Any]:
    async with uow:
        item = await uow.repository(ChangeRepository).get(change_id)
        if item is None:
            raise NotFound(f"change {change_id} does not exist")
        continuity = uow.repository(ContinuityRepository)
        stated = await continuity.impact_of(change_id)
        tier = continuity_tier(item.service_ids, await continuity.covered_services())
    return _answer(stated, tier)


def _answer(impact: ContinuityImpact | None, tier: list[UUID]) -> dict[str, Any]:
    return {
        "continuity_tier_services": tier,
        "required": bool(tier),
        "continuity_impact": impact.continuity_impact.value if impact else None,
        "availability_impact": impact.availability_impact.value if impact else None,
        "notes": impact.notes if impact else None,
    }


async def require_stated_before_assessment(change_id: UUID, uow: AnyUnitOfWork) -> None:
    async with uow:
        item = await uow.repository(ChangeRepository).get(change_id)
        if item is None:
            return  # the assessment answers the 404
        continuity = uow.repository(ContinuityRepository)
        covered = await continuity.covered_services()
        stated = await continuity.impact_of(change_id) if covered else None
    require_impact_stated(item.number, item.service_ids, covered, stated)
