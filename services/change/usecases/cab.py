"""Assessment and approval use cases: the risk (the assessor's, or computed and explained) and the decisions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol
from uuid import UUID

from services.change.domain.cab import Risk
from services.change.domain.changes import Change
from services.change.domain.risk import ImpactFacts, RiskFacts, assess_risk
from services.change.store.changes import ChangeRepository
from services.change.store.schedule import ScheduleRepository
from services.change.usecases.changes import DEFAULT_GOVERNANCE, Act, Governance, act_on_change
from services.change.usecases.continuity import require_stated_before_assessment
from services.change.usecases.costs import require_costed
from services.change.usecases.schedule import conflicts_in
from shared import clock
from shared.errors import NotFound
from shared.uow import AnyUnitOfWork


class ImpactSource(Protocol):
    async def impact_of(self, ci_ids: Sequence[UUID]) -> ImpactFacts | None: ...


RECENT = timedelta(days=90)


async def assess(
    cmd: Act, risk: Risk | None, uow: AnyUnitOfWork, impact: ImpactSource, governance: Governance = DEFAULT_GOVERNANCE
) -> Change:
    """Record the risk: the assessor's, or (without one) computed from impact, history, schedule
    conflicts and the back-out plan, explained. A change on a continuity-tier service states its
    continuity and availability impact first (6.3.2)."""
    await require_stated_before_assessment(cmd.change_id, uow)
    if risk is not None:
        return await act_on_change(cmd, uow, lambda c, now: c.assess(risk, cmd.actor, now, [f"set by {cmd.actor}"]))
    async with uow:
        item = await uow.repository(ChangeRepository).get(cmd.change_id)
        found = await conflicts_in(uow.repository(ScheduleRepository), item, governance) if item is not None else []
    if item is None:
        raise NotFound(f"change {cmd.change_id} does not exist")
    # Asked outside the transaction: no row lock is held while another service answers.
    facts_impact = await impact.impact_of(item.affected_ci_ids)
    async with uow:
        changes, failures = await uow.repository(ChangeRepository).recent_history(
            item.affected_ci_ids, clock.now() - RECENT, exclude=item.id
        )
    computed = assess_risk(
        RiskFacts(
            change_type=item.change_type,
            affected_cis=len(item.affected_ci_ids),
            impact=facts_impact,
            recent_changes_on_cis=changes,
            recent_failures_on_cis=failures,
            has_backout_plan=bool(item.backout_plan.strip()),
            schedule_conflicts=tuple((c.kind, c.other) for c in found),
        )
    )
    reasons = [*computed.reasons, f"score {computed.score}"]
    return await act_on_change(cmd, uow, lambda c, now: c.assess(computed.risk, cmd.actor, now, reasons, computed=True))


async def decide(
    cmd: Act, *, approve: bool, comment: str, uow: AnyUnitOfWork, governance: Governance = DEFAULT_GOVERNANCE
) -> Change:
    """An approver's decision; a change at or above the costing threshold is approved only with its
    cost estimate (6.4)."""
    if approve:
        await require_costed(cmd.change_id, governance.cost_required_from, uow, closing=False)
    return await act_on_change(
        cmd, uow, lambda c, now: c.decide(approve=approve, voter=cmd.actor, roles=cmd.roles, comment=comment, now=now)
    )
