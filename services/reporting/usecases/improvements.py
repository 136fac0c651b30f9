"""Improvement register actions (ISO/IEC 20000-1 4.5.5): raise an entry by hand or from a process's
event (the consumer's intake), edit it, move it along its lifecycle, set the intake policy. Each
write emits an `improvement.*.v1` event in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import events
from services.reporting.domain.improvement_intake import proposal_for
from services.reporting.domain.improvements import (
    Benefit,
    Improvement,
    ImprovementAction,
    ImprovementKind,
    ImprovementSource,
    ImprovementStatus,
    IntakePolicy,
    Proposal,
    breach_proposal,
    due_date,
    month_of,
)
from services.reporting.store import improvements as store
from shared import clock
from shared.errors import Conflict, check_version, found
from shared.events import CloudEvent, data_class_for
from shared.events.change import ChangeFailed, ChangeReviewed
from shared.events.complaint import ComplaintReceived
from shared.events.incident import SlaBreached
from shared.events.survey import SurveyAnswered
from shared.uow import UnitOfWork

INTAKE_ACTOR = "improvement-intake"
"""Who raised an entry from an event."""


@dataclass(frozen=True)
class RaiseImprovement:
    kind: ImprovementKind
    title: str
    description: str
    source: ImprovementSource
    source_ref: str
    owner: str
    target_date: date
    measure: str = ""
    before: float | None = None


def _new(cmd: RaiseImprovement, number: str, actor: str, now: datetime) -> Improvement:
    return Improvement(
        id=uuid4(),
        number=number,
        kind=cmd.kind,
        title=cmd.title,
        description=cmd.description,
        source=cmd.source,
        source_ref=cmd.source_ref,
        owner=cmd.owner,
        target_date=cmd.target_date,
        status=ImprovementStatus.RAISED,
        benefit=Benefit(cmd.measure, cmd.before),
        raised_by=actor,
        raised_at=now,
        updated_at=now,
    )


async def raise_entry(conn: AsyncConnection, cmd: RaiseImprovement, uow: UnitOfWork, actor: str) -> Improvement | None:
    """Add the entry and emit its event; None when its source record already raised one."""
    if cmd.source_ref and await store.has_entry(conn, cmd.source, cmd.source_ref):
        return None
    entry = _new(cmd, await store.new_number(conn), actor, clock.now())
    if not await store.add_entry(conn, entry):
        return None
    uow.emit(events.improvement_event(entry, actor, raised=True), subject=str(entry.id))
    return entry


async def raise_improvement(cmd: RaiseImprovement, uow: UnitOfWork, actor: str) -> Improvement:
    async with uow:
        entry = await raise_entry(uow.connection, cmd, uow, actor)
        if entry is None:
            raise Conflict(f"{cmd.source} {cmd.source_ref} already has an entry in the register")
        await uow.commit()
    return entry


async def intake(fresh: Sequence[CloudEvent], uow: UnitOfWork) -> int:
    """The entries the newly recorded events raise, in the consumer's transaction (an event already
    in the log is not fresh, and a source record raises one entry at most: a redelivery raises
    nothing). Returns how many were raised."""
    conn = uow.connection
    policy: IntakePolicy | None = None
    raised = 0
    for event in fresh:
        cls = data_class_for(event.routing_key)
        if cls is None or not _feeds_register(cls):
            continue
        policy = policy or await store.get_policy(conn)
        data = event.data_as(cls)
        if isinstance(data, SlaBreached):
            service = str(data.service_id) if data.service_id else "unknown"
            month = month_of(data.occurred_at)
            proposal = breach_proposal(service, month, await store.count_breach(conn, service, month), policy)
        else:
            proposal = proposal_for(data, policy)
        if proposal is not None and await raise_entry(conn, _command(proposal, policy, event.time), uow, INTAKE_ACTOR):
            raised += 1
    return raised


def _feeds_register(cls: type) -> bool:
    return cls in (SlaBreached, ChangeFailed, ChangeReviewed, ComplaintReceived, SurveyAnswered)


def _command(proposal: Proposal, policy: IntakePolicy, at: datetime) -> RaiseImprovement:
    return RaiseImprovement(
        kind=proposal.kind,
        title=proposal.title,
        description=proposal.description,
        source=proposal.source,
        source_ref=proposal.source_ref,
        owner=proposal.owner or policy.default_owner,
        target_date=due_date(at, policy),
        measure=proposal.measure,
        before=proposal.before,
    )


@dataclass(frozen=True)
class UpdateImprovement:
    owner: str | None = None
    target_date: date | None = None
    description: str | None = None
    measure: str | None = None
    before: float | None = None


async def update_improvement(
    entry_id: UUID, cmd: UpdateImprovement, expected: int | None, uow: UnitOfWork, actor: str
) -> Improvement:
    async with uow:
        current = await _current(uow, entry_id, expected)
        entry = current.updated(clock.now(), **cmd.__dict__)
        await _save(uow, current, entry, actor)
    return entry


async def act(
    entry_id: UUID,
    action: ImprovementAction,
    expected: int | None,
    uow: UnitOfWork,
    actor: str,
    *,
    after: float | None = None,
    reason: str = "",
) -> Improvement:
    async with uow:
        current = await _current(uow, entry_id, expected)
        entry = current.acted(action, clock.now(), after=after, reason=reason)
        await _save(uow, current, entry, actor)
    return entry


async def _save(uow: UnitOfWork, current: Improvement, entry: Improvement, actor: str) -> None:
    await store.save_entry(uow.connection, entry, current.version)
    uow.emit(events.improvement_event(entry, actor, previous_status=current.status.value), subject=str(entry.id))
    await uow.commit()


async def _current(uow: UnitOfWork, entry_id: UUID, expected: int | None) -> Improvement:
    current = found(await store.get_entry(uow.connection, entry_id, for_update=True), f"improvement {entry_id}")
    check_version(f"improvement {current.number}", current.version, expected)
    return current


async def set_policy(policy: IntakePolicy, uow: UnitOfWork, actor: str) -> IntakePolicy:
    async with uow:
        await store.save_policy(uow.connection, policy, actor, clock.now())
        await uow.commit()
    return policy
