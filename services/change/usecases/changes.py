"""Change use cases: one async function per command; only these commit."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.change import events, store
from services.change.design import ServiceLevelTarget, ServiceTransition, design_record
from services.change.domain import Change, ChangeType, IncidentLink, Risk
from services.change.maintenance import MaintenanceWindow
from services.change.risk import ImpactFacts, RiskFacts, assess_risk
from services.change.schedule import DEFAULT_POLICY, Blackout, ConflictPolicy, Severity, Surroundings
from services.change.schedule import Conflict as ScheduleConflict
from services.change.schedule import conflicts as schedule_conflicts
from services.change.store import (
    ChangeRepository,
    blackouts_between,
    ci_read_model,
    maintenance_windows,
    recent_history_on,
    related_cis,
    slot_of,
    slots_touching,
)
from shared import clock
from shared.errors import NotFound, PreconditionFailed, RuleViolation
from shared.numbering import format_number
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class Governance:
    """The change policy from the settings: how CIs are checked and what each conflict does."""

    ci_check: str = "unless_empty"
    conflict_policy: ConflictPolicy = DEFAULT_POLICY
    dependency_depth: int = 1


DEFAULT_GOVERNANCE = Governance()
BUSINESS_SERVICE = "business_service"
"""config's CI type of the services in its catalogue (a service is a CI there)."""


async def _check_cis(conn: AsyncConnection, governance: Governance, **fields: Sequence[UUID]) -> dict[UUID, Any]:
    """The read model's records of the CIs named in `fields` (field name -> ids in the order given);
    an unknown or retired one is a 422 naming its field and position."""
    ids = [ci for values in fields.values() for ci in values]
    known = await ci_read_model.get_many(conn, ids)
    if governance.ci_check == "off" or not ids:
        return known
    if governance.ci_check == "unless_empty" and not known and await store.ci_read_model_is_empty(conn):
        return known  # a new install: config's events have not arrived yet, nothing to check against
    errors = []
    for name, values in fields.items():
        for i, ci in enumerate(values):
            record = known.get(ci)
            if record is None:
                errors.append((f"{name}.{i}", f"CI {ci} is unknown to the change service (not in config's events)"))
            elif record.retired:
                errors.append((f"{name}.{i}", f"CI {record.number} ({record.name}) is retired"))
    if errors:
        raise RuleViolation.of_fields(errors)
    return known


async def services_of_change(
    conn: AsyncConnection, governance: Governance, *, affected_ci_ids: Sequence[UUID], service_ids: Sequence[UUID]
) -> frozenset[UUID]:
    """The CIs and named services checked against the read model; the services a change touches:
    those named, and the services its CIs belong to (a business service CI is its own service)."""
    known = await _check_cis(conn, governance, affected_ci_ids=affected_ci_ids, service_ids=service_ids)
    derived = {r.id if r.type == BUSINESS_SERVICE else r.service_id for ci, r in known.items() if ci in affected_ci_ids}
    return frozenset({*service_ids, *(s for s in derived if s is not None)})


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
    major: bool = False
    service_transition: ServiceTransition | None = None


async def draft_change(cmd: DraftChange, uow: UnitOfWork, governance: Governance = DEFAULT_GOVERNANCE) -> Change:
    async with uow:
        services = await services_of_change(
            uow.connection, governance, affected_ci_ids=cmd.affected_ci_ids, service_ids=cmd.service_ids
        )
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
            now=clock.now(),
            planned_ci_changes=cmd.planned_ci_changes,
            service_ids=services,
            implementation_plan=cmd.implementation_plan,
            backout_plan=cmd.backout_plan,
            test_plan=cmd.test_plan,
            major=cmd.major,
            service_transition=cmd.service_transition,
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
        now = clock.now()
        if clock.is_backdated() and now < item.created_at:
            # Only creation is checked: consumers update records on the wall clock (a CMDB outcome,
            # say), so a later import step may rightly predate `updated_at`.
            raise RuleViolation(
                f"{item.number} was recorded at {item.created_at.isoformat()}: nothing happens before that"
            )
        apply(item, now)
        await changes.save(item, read_version)
        uow.emit_pending(item, events.to_contract)
        await uow.commit()
    return item


async def submit(cmd: Act, uow: UnitOfWork) -> Change:
    return await _act(cmd, uow, lambda c, now: c.submit(cmd.actor, now))


class ImpactSource(Protocol):
    async def impact_of(self, ci_ids: Sequence[UUID]) -> ImpactFacts | None: ...


RECENT = timedelta(days=90)


async def assess(
    cmd: Act, risk: Risk | None, uow: UnitOfWork, impact: ImpactSource, governance: Governance = DEFAULT_GOVERNANCE
) -> Change:
    """Record the risk: the assessor's, or (without one) computed from impact, history, schedule
    conflicts and the back-out plan, explained."""
    if risk is not None:
        return await _act(cmd, uow, lambda c, now: c.assess(risk, cmd.actor, now, [f"set by {cmd.actor}"]))
    async with uow:
        item = await ChangeRepository(uow.connection).get(cmd.change_id)
        found = await conflicts_of(uow.connection, item, governance) if item is not None else []
    if item is None:
        raise NotFound(f"change {cmd.change_id} does not exist")
    # Asked outside the transaction: no row lock is held while another service answers.
    facts_impact = await impact.impact_of(item.affected_ci_ids)
    async with uow:
        changes, failures = await recent_history_on(
            uow.connection, item.affected_ci_ids, clock.now() - RECENT, exclude=item.id
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
    return await _act(cmd, uow, lambda c, now: c.assess(computed.risk, cmd.actor, now, reasons))


async def decide(cmd: Act, *, approve: bool, comment: str, uow: UnitOfWork) -> Change:
    return await _act(
        cmd, uow, lambda c, now: c.decide(approve=approve, voter=cmd.actor, roles=cmd.roles, comment=comment, now=now)
    )


async def conflicts_of(
    conn: AsyncConnection, item: Change, governance: Governance = DEFAULT_GOVERNANCE
) -> list[ScheduleConflict]:
    """What the change's window collides with: other changes on its CIs or on CIs related to them
    (`dependency_depth` relationships away in the read model), blackouts, the maintenance windows
    of its services; each a warning or a refusal as the policy says."""
    if item.planned_start is None or item.planned_end is None:
        return []
    slot = slot_of(item)
    related = await related_cis(conn, slot.ci_ids, governance.dependency_depth)
    others = await slots_touching(conn, slot.ci_ids.union(*related.values()), slot.start, slot.end)
    blackouts = await blackouts_between(conn, slot.start, slot.end)
    windows = await maintenance_windows(conn, slot.service_ids)
    return schedule_conflicts(slot, others, blackouts, Surroundings(related, windows), governance.conflict_policy)


async def schedule(cmd: Act, uow: UnitOfWork, governance: Governance = DEFAULT_GOVERNANCE) -> Change:
    async with uow:
        item = await ChangeRepository(uow.connection).get(cmd.change_id)
        found = await conflicts_of(uow.connection, item, governance) if item is not None else []
    refusals = [f"{c.kind} ({c.other}): {c.detail}" for c in found if c.severity is Severity.REFUSED]
    return await _act(cmd, uow, lambda c, now: c.schedule(cmd.actor, now, refusals))


async def add_blackout(
    *, name: str, start: datetime, end: datetime, ci_ids: Sequence[UUID], actor: str, uow: UnitOfWork
) -> Blackout:
    if end <= start:
        raise RuleViolation("a blackout ends after it starts", field="end")
    blackout = Blackout(uuid4(), name, start, end, frozenset(ci_ids))
    async with uow:
        await store.add_blackout(uow.connection, blackout, actor=actor, now=clock.now())
        await uow.commit()
    return blackout


async def start(cmd: Act, uow: UnitOfWork) -> Change:
    return await _act(cmd, uow, lambda c, now: c.start(cmd.actor, now))


async def complete(cmd: Act, uow: UnitOfWork) -> Change:
    return await _act(cmd, uow, lambda c, now: c.complete(cmd.actor, now))


async def fail(cmd: Act, notes: str, uow: UnitOfWork, *, backed_out: bool = True) -> Change:
    return await _act(cmd, uow, lambda c, now: c.fail(notes, cmd.actor, now, backed_out=backed_out))


async def review(
    cmd: Act, outcome: str, uow: UnitOfWork, *, lessons: str = "", objectives_met: bool | None = None
) -> Change:
    return await _act(
        cmd, uow, lambda c, now: c.review(outcome, cmd.actor, now, lessons=lessons, objectives_met=objectives_met)
    )


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


# ---------------------------------------------------------------------------- design and transition (clause 5)


@dataclass(frozen=True)
class DesignInput:
    requirements: str
    acceptance_criteria: tuple[str, ...]
    service_level_targets: tuple[ServiceLevelTarget, ...]
    capacity: str


async def record_design(cmd: Act, body: DesignInput, uow: UnitOfWork) -> Change:
    def apply(item: Change, now: datetime) -> None:
        go_live = item.design.go_live if item.design else None
        record = design_record(
            requirements=body.requirements,
            acceptance_criteria=body.acceptance_criteria,
            service_level_targets=body.service_level_targets,
            capacity=body.capacity,
            by=cmd.actor,
            now=now,
            go_live=go_live,
        )
        item.record_design(record, now)

    return await _act(cmd, uow, apply)


async def accept_go_live(cmd: Act, *, accepted: bool, comment: str, uow: UnitOfWork) -> Change:
    return await _act(
        cmd, uow, lambda c, now: c.accept_go_live(accepted=accepted, comment=comment, actor=cmd.actor, now=now)
    )


# ---------------------------------------------------------------------------- incidents linked to changes


async def link_incident(change_id: UUID, link: IncidentLink, uow: UnitOfWork) -> None:
    """An incident the incident service linked to a change (in the consumer's unit of work)."""
    if await store.change_exists(uow.connection, change_id):
        await store.link_incident(uow.connection, link, change_id)


# ---------------------------------------------------------------------------- maintenance windows


@dataclass(frozen=True)
class WindowInput:
    service_id: UUID
    name: str
    time_zone: str
    days: tuple[int, ...]
    start: time
    duration: timedelta


async def add_maintenance_window(
    body: WindowInput, *, actor: str, uow: UnitOfWork, governance: Governance = DEFAULT_GOVERNANCE
) -> MaintenanceWindow:
    window = MaintenanceWindow.define(
        window_id=uuid4(),
        service_id=body.service_id,
        name=body.name,
        time_zone=body.time_zone,
        days=body.days,
        start=body.start,
        duration=body.duration,
    )
    async with uow:
        await _check_cis(uow.connection, governance, service_id=[body.service_id])
        await store.add_maintenance_window(uow.connection, window, actor=actor, now=clock.now())
        await uow.commit()
    return window


async def replace_maintenance_window(
    window_id: UUID, body: WindowInput, *, uow: UnitOfWork, governance: Governance = DEFAULT_GOVERNANCE
) -> MaintenanceWindow:
    window = MaintenanceWindow.define(
        window_id=window_id,
        service_id=body.service_id,
        name=body.name,
        time_zone=body.time_zone,
        days=body.days,
        start=body.start,
        duration=body.duration,
    )
    async with uow:
        await _check_cis(uow.connection, governance, service_id=[body.service_id])
        if not await store.replace_maintenance_window(uow.connection, window):
            raise NotFound(f"maintenance window {window_id} does not exist")
        await uow.commit()
    return window


async def delete_maintenance_window(window_id: UUID, *, uow: UnitOfWork) -> None:
    async with uow:
        if not await store.delete_maintenance_window(uow.connection, window_id):
            raise NotFound(f"maintenance window {window_id} does not exist")
        await uow.commit()
