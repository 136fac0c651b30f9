"""Schedule use cases: the conflicts of a change's window, putting it on the schedule, blackouts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.domain.changes import Change
from services.change.domain.schedule import Blackout, Severity, Surroundings
from services.change.domain.schedule import Conflict as ScheduleConflict
from services.change.domain.schedule import conflicts as schedule_conflicts
from services.change.store import schedule as store
from services.change.store.changes import ChangeRepository
from services.change.store.schedule import ScheduleRepository
from services.change.usecases.changes import DEFAULT_GOVERNANCE, Act, Governance, act_on_change
from shared import clock
from shared.errors import RuleViolation
from shared.uow import AnyUnitOfWork


async def conflicts_of(
    conn: AsyncConnection, item: Change, governance: Governance = DEFAULT_GOVERNANCE
) -> list[ScheduleConflict]:
    """The conflicts of the change's window (`conflicts_in`), read on `conn`."""
    return await conflicts_in(ScheduleRepository(conn), item, governance)


async def conflicts_in(
    calendar: ScheduleRepository, item: Change, governance: Governance = DEFAULT_GOVERNANCE
) -> list[ScheduleConflict]:
    """What the change's window collides with: other changes on its CIs or on CIs related to them
    (`dependency_depth` relationships away in the read model), blackouts, the maintenance windows
    of its services; each a warning or a refusal as the policy says."""
    if item.planned_start is None or item.planned_end is None:
        return []
    slot = store.slot_of(item)
    related = await calendar.related_cis(slot.ci_ids, governance.dependency_depth)
    others = await calendar.slots_touching(slot.ci_ids.union(*related.values()), slot.start, slot.end)
    blackouts = await calendar.blackouts_between(slot.start, slot.end)
    windows = await calendar.maintenance_windows(slot.service_ids)
    return schedule_conflicts(slot, others, blackouts, Surroundings(related, windows), governance.conflict_policy)


async def schedule(cmd: Act, uow: AnyUnitOfWork, governance: Governance = DEFAULT_GOVERNANCE) -> Change:
    async with uow:
        item = await uow.repository(ChangeRepository).get(cmd.change_id)
        found = await conflicts_in(uow.repository(ScheduleRepository), item, governance) if item is not None else []
    refusals = [f"{c.kind} ({c.other}): {c.detail}" for c in found if c.severity is Severity.REFUSED]
    return await act_on_change(cmd, uow, lambda c, now: c.schedule(cmd.actor, now, refusals))


async def add_blackout(
    *, name: str, start: datetime, end: datetime, ci_ids: Sequence[UUID], actor: str, uow: AnyUnitOfWork
) -> Blackout:
    if end <= start:
        raise RuleViolation("a blackout ends after it starts", field="end")
    blackout = Blackout(uuid4(), name, start, end, frozenset(ci_ids))
    async with uow:
        await uow.repository(ScheduleRepository).add_blackout(blackout, actor=actor, now=clock.now())
        await uow.commit()
    return blackout


async def schedule_between(
    conn: AsyncConnection, start: datetime, end: datetime
) -> tuple[list[Change], list[Blackout]]:
    """The changes on the schedule and the blackouts in [start, end), at most a year at a time."""
    if end <= start:
        raise RuleViolation("'to' must come after 'from'", field="to")
    if end - start > timedelta(days=366):
        raise RuleViolation("ask for at most a year at a time", field="to")
    return await store.scheduled_changes(conn, start, end), await store.blackouts_between(conn, start, end)
