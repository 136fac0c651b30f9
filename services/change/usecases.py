"""Change use cases: one async function per command; only these commit."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.change import events, store
from services.change.domain import Change, ChangeType, Risk
from services.change.risk import ImpactFacts, RiskFacts, assess_risk
from services.change.schedule import Blackout, Severity
from services.change.schedule import Conflict as ScheduleConflict
from services.change.schedule import conflicts as schedule_conflicts
from services.change.store import ChangeRepository, blackouts_between, recent_history_on, slot_of, slots_between
from shared.errors import NotFound, PreconditionFailed, RuleViolation
from shared.numbering import format_number
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class DraftChange:
    title: str
    requester: str
    change_type: ChangeType = ChangeType.NORMAL
    description: str = ""
    justification: str = ""
    category: str | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    affected_ci_ids: tuple[UUID, ...] = ()
    planned_ci_changes: tuple[Mapping[str, Any], ...] = ()
    service_ids: tuple[UUID, ...] = ()
    implementation_plan: str = ""
    backout_plan: str = ""
    test_plan: str = ""


async def draft_change(cmd: DraftChange, uow: UnitOfWork) -> Change:
    async with uow:
        changes = ChangeRepository(uow.connection)
        item = Change.draft(
            change_id=uuid4(),
            number=format_number("CHG", await changes.next_number()),
            title=cmd.title,
            description=cmd.description,
            justification=cmd.justification,
            change_type=cmd.change_type,
            category=cmd.category,
            requester=cmd.requester,
            planned_start=cmd.planned_start,
            planned_end=cmd.planned_end,
            affected_ci_ids=cmd.affected_ci_ids,
            now=datetime.now(UTC),
            planned_ci_changes=cmd.planned_ci_changes,
            service_ids=cmd.service_ids,
            implementation_plan=cmd.implementation_plan,
            backout_plan=cmd.backout_plan,
            test_plan=cmd.test_plan,
        )
        await changes.add(item)
        uow.emit_pending(item, events.to_contract)
        await uow.commit()
    return item


@dataclass(frozen=True)
class Act:
    """A lifecycle action on a change: who, with which roles, on which version (If-Match)."""

    change_id: UUID
    actor: str
    roles: frozenset[str]
    expected_version: int | None = None


async def _act(cmd: Act, uow: UnitOfWork, apply: Callable[[Change, datetime], None]) -> Change:
    async with uow:
        changes = ChangeRepository(uow.connection)
        item = await changes.get(cmd.change_id, for_update=True)
        if item is None:
            raise NotFound(f"change {cmd.change_id} does not exist")
        if cmd.expected_version is not None and cmd.expected_version != item.version:
            raise PreconditionFailed(f"{item.number} is at version {item.version}, not {cmd.expected_version}")
        read_version = item.version
        apply(item, datetime.now(UTC))
        await changes.save(item, read_version)
        uow.emit_pending(item, events.to_contract)
        await uow.commit()
    return item


async def submit(cmd: Act, uow: UnitOfWork) -> Change:
    return await _act(cmd, uow, lambda c, now: c.submit(cmd.actor, now))


class ImpactSource(Protocol):
    async def impact_of(self, ci_ids: Sequence[UUID]) -> ImpactFacts | None: ...


RECENT = timedelta(days=90)


async def assess(cmd: Act, risk: Risk | None, uow: UnitOfWork, impact: ImpactSource) -> Change:
    """Record the risk: the assessor's, or (without one) computed from impact and history, explained."""
    if risk is not None:
        return await _act(cmd, uow, lambda c, now: c.assess(risk, cmd.actor, now, [f"set by {cmd.actor}"]))
    async with uow:
        item = await ChangeRepository(uow.connection).get(cmd.change_id)
    if item is None:
        raise NotFound(f"change {cmd.change_id} does not exist")
    # Asked outside the transaction: no row lock is held while another service answers.
    facts_impact = await impact.impact_of(item.affected_ci_ids)
    async with uow:
        changes, failures = await recent_history_on(
            uow.connection, item.affected_ci_ids, datetime.now(UTC) - RECENT, exclude=item.id
        )
    computed = assess_risk(
        RiskFacts(
            change_type=item.change_type,
            affected_cis=len(item.affected_ci_ids),
            impact=facts_impact,
            recent_changes_on_cis=changes,
            recent_failures_on_cis=failures,
        )
    )
    reasons = [*computed.reasons, f"score {computed.score}"]
    return await _act(cmd, uow, lambda c, now: c.assess(computed.risk, cmd.actor, now, reasons))


async def decide(cmd: Act, *, approve: bool, comment: str, uow: UnitOfWork) -> Change:
    return await _act(
        cmd, uow, lambda c, now: c.decide(approve=approve, voter=cmd.actor, roles=cmd.roles, comment=comment, now=now)
    )


async def conflicts_of(conn: AsyncConnection, item: Change) -> list[ScheduleConflict]:
    """What the change's window collides with: other changes on its CIs, blackout windows."""
    if item.planned_start is None or item.planned_end is None:
        return []
    slot = slot_of(item)
    others = await slots_between(conn, slot.start, slot.end)
    blackouts = await blackouts_between(conn, slot.start, slot.end)
    return schedule_conflicts(slot, others, blackouts)


async def schedule(cmd: Act, uow: UnitOfWork) -> Change:
    async with uow:
        item = await ChangeRepository(uow.connection).get(cmd.change_id)
        found = await conflicts_of(uow.connection, item) if item is not None else []
    refusals = [c.detail for c in found if c.severity is Severity.REFUSED]
    return await _act(cmd, uow, lambda c, now: c.schedule(cmd.actor, now, refusals))


async def add_blackout(
    *, name: str, start: datetime, end: datetime, ci_ids: Sequence[UUID], actor: str, uow: UnitOfWork
) -> Blackout:
    if end <= start:
        raise RuleViolation("a blackout ends after it starts", field="end")
    blackout = Blackout(uuid4(), name, start, end, frozenset(ci_ids))
    async with uow:
        await store.add_blackout(uow.connection, blackout, actor=actor, now=datetime.now(UTC))
        await uow.commit()
    return blackout


async def start(cmd: Act, uow: UnitOfWork) -> Change:
    return await _act(cmd, uow, lambda c, now: c.start(cmd.actor, now))


async def complete(cmd: Act, uow: UnitOfWork) -> Change:
    return await _act(cmd, uow, lambda c, now: c.complete(cmd.actor, now))


async def fail(cmd: Act, notes: str, uow: UnitOfWork) -> Change:
    return await _act(cmd, uow, lambda c, now: c.fail(notes, cmd.actor, now))


async def review(cmd: Act, outcome: str, uow: UnitOfWork) -> Change:
    return await _act(cmd, uow, lambda c, now: c.review(outcome, cmd.actor, now))


async def close(cmd: Act, uow: UnitOfWork) -> Change:
    return await _act(cmd, uow, lambda c, now: c.close(cmd.actor, now))


async def cancel(cmd: Act, uow: UnitOfWork) -> Change:
    return await _act(cmd, uow, lambda c, now: c.cancel(cmd.actor, now))


async def record_cmdb_outcome(
    change_id: UUID, *, applied: bool, errors: Sequence[Mapping[str, Any]], uow: UnitOfWork
) -> None:
    """The CMDB's answer to an implemented change (from config's events, in the consumer's unit of work)."""
    changes = ChangeRepository(uow.connection)
    item = await changes.get(change_id, for_update=True)
    if item is None:
        return  # not ours (another change service's change): nothing to record
    read_version = item.version
    item.record_cmdb_outcome(applied, errors, datetime.now(UTC))
    await changes.save(item, read_version)
