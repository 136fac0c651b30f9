"""Change use cases: the change policy, drafting a change and its lifecycle steps; only these commit."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from services.change import events
from services.change.domain.cab import Risk
from services.change.domain.changes import Change, ChangeType, IncidentLink
from services.change.domain.design import ServiceTransition
from services.change.domain.schedule import DEFAULT_POLICY, ConflictPolicy
from services.change.store.changes import ChangeRepository, KnownCIs
from services.change.usecases.costs import require_costed
from shared import clock
from shared.errors import NotFound, PreconditionFailed, RuleViolation
from shared.numbering import format_number
from shared.uow import AnyUnitOfWork


@dataclass(frozen=True)
class Governance:
    """The change policy from the settings: how CIs are checked and what each conflict does."""

    ci_check: str = "unless_empty"
    conflict_policy: ConflictPolicy = DEFAULT_POLICY
    dependency_depth: int = 1
    cost_required_from: Risk | None = None
    """Changes at or above this risk are costed: an estimate before approval, an actual before close."""


DEFAULT_GOVERNANCE = Governance()
BUSINESS_SERVICE = "business_service"
"""config's CI type of the services in its catalogue (a service is a CI there)."""


async def check_cis(cis: KnownCIs, governance: Governance, **fields: Sequence[UUID]) -> dict[UUID, Any]:
    """The read model's records of the CIs named in `fields` (field name -> ids in the order given);
    an unknown or retired one is a 422 naming its field and position."""
    ids = [ci for values in fields.values() for ci in values]
    known = await cis.get_many(ids)
    if governance.ci_check == "off" or not ids:
        return known
    if governance.ci_check == "unless_empty" and not known and await cis.is_empty():
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
    cis: KnownCIs, governance: Governance, *, affected_ci_ids: Sequence[UUID], service_ids: Sequence[UUID]
) -> frozenset[UUID]:
    """The CIs and named services checked against the read model; the services a change touches:
    those named, and the services its CIs belong to (a business service CI is its own service)."""
    known = await check_cis(cis, governance, affected_ci_ids=affected_ci_ids, service_ids=service_ids)
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


async def draft_change(cmd: DraftChange, uow: AnyUnitOfWork, governance: Governance = DEFAULT_GOVERNANCE) -> Change:
    async with uow:
        services = await services_of_change(
            uow.repository(KnownCIs), governance, affected_ci_ids=cmd.affected_ci_ids, service_ids=cmd.service_ids
        )
        changes = uow.repository(ChangeRepository)
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


async def act_on_change(cmd: Act, uow: AnyUnitOfWork, apply: Callable[[Change, datetime], None]) -> Change:
    """The one way a lifecycle step is taken: lock, check If-Match, `apply` the step, save, publish."""
    async with uow:
        changes = uow.repository(ChangeRepository)
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


async def submit(cmd: Act, uow: AnyUnitOfWork) -> Change:
    return await act_on_change(cmd, uow, lambda c, now: c.submit(cmd.actor, now))


async def start(cmd: Act, uow: AnyUnitOfWork) -> Change:
    return await act_on_change(cmd, uow, lambda c, now: c.start(cmd.actor, now))


async def complete(cmd: Act, uow: AnyUnitOfWork) -> Change:
    return await act_on_change(cmd, uow, lambda c, now: c.complete(cmd.actor, now))


async def fail(cmd: Act, notes: str, uow: AnyUnitOfWork, *, backed_out: bool = True) -> Change:
    return await act_on_change(cmd, uow, lambda c, now: c.fail(notes, cmd.actor, now, backed_out=backed_out))


async def review(
    cmd: Act, outcome: str, uow: AnyUnitOfWork, *, lessons: str = "", objectives_met: bool | None = None
) -> Change:
    return await act_on_change(
        cmd, uow, lambda c, now: c.review(outcome, cmd.actor, now, lessons=lessons, objectives_met=objectives_met)
    )


async def close(cmd: Act, uow: AnyUnitOfWork, governance: Governance = DEFAULT_GOVERNANCE) -> Change:
    """Close; a reviewed change at or above the costing threshold needs its actual cost (6.4)."""
    await require_costed(cmd.change_id, governance.cost_required_from, uow, closing=True)
    return await act_on_change(cmd, uow, lambda c, now: c.close(cmd.actor, now))


async def cancel(cmd: Act, uow: AnyUnitOfWork) -> Change:
    return await act_on_change(cmd, uow, lambda c, now: c.cancel(cmd.actor, now))


async def record_cmdb_outcome(
    change_id: UUID, *, applied: bool, errors: Sequence[Mapping[str, Any]], uow: AnyUnitOfWork
) -> None:
    """The CMDB's answer to an implemented change (from config's events, in the consumer's unit of work)."""
    changes = uow.repository(ChangeRepository)
    item = await changes.get(change_id, for_update=True)
    if item is None:
        return  # not ours (another change service's change): nothing to record
    read_version = item.version
    item.record_cmdb_outcome(applied, errors, clock.now())
    await changes.save(item, read_version)


# ---------------------------------------------------------------------------- incidents linked to changes


async def link_incident(change_id: UUID, link: IncidentLink, uow: AnyUnitOfWork) -> None:
    """An incident the incident service linked to a change (in the consumer's unit of work)."""
    changes = uow.repository(ChangeRepository)
    if await changes.exists(change_id):
        await changes.link_incident(change_id, link)
