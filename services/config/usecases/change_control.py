"""Change control: the local read model of changes, and applying an implemented change's
planned CI changes all or none."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from services.config.domain.items import Cause, ChangeWindow, CIStatus, Criticality, Identifiers
from services.config.domain.relationships import RelationshipType
from services.config.domain.types import BUSINESS_SERVICE
from services.config.store.change_control import change_window_by_number, upsert_change_window
from services.config.store.items import ConfigItemRepository
from services.config.store.relationships import RelationshipRepository
from services.config.usecases import continuity
from services.config.usecases.items import (
    Edit,
    RegisterConfigItem,
    register_step,
    retire_step,
    update_step,
)
from services.config.usecases.relationships import link_step, unlink_step
from shared import clock
from shared.errors import DomainError, NotFound, RuleViolation
from shared.events.change import (
    ChangeApproved,
    ChangeCancelled,
    ChangeCreated,
    ChangeFailed,
    ChangeImplemented,
    PlannedCIChange,
)
from shared.events.config import AppliedItem, ConfigChangeApplied, ConfigChangeRejected, RejectedItem
from shared.uow import UnitOfWork

# ---------------------------------------------------------------------------- change control


# Later states win: an event that arrives late never moves a change back.
_CHANGE_PROGRESS = ("draft", "approved", "implementing", "implemented", "failed", "cancelled")


async def record_change(
    uow: UnitOfWork, *, change_id: UUID, number: str, status: str, window: ChangeApproved | None = None
) -> None:
    """Keep the local read model of changes that change control needs."""
    current = await change_window_by_number(uow.connection, number)
    if current is not None and _CHANGE_PROGRESS.index(current.status) > _CHANGE_PROGRESS.index(status):
        status = current.status
    record = ChangeWindow(
        change_id=change_id,
        number=number,
        status=status,
        planned_start=window.planned_start if window else (current.planned_start if current else None),
        planned_end=window.planned_end if window else (current.planned_end if current else None),
        affected_ci_ids=frozenset(window.affected_ci_ids)
        if window
        else (current.affected_ci_ids if current else frozenset()),
    )
    await upsert_change_window(uow.connection, record, clock.now())


async def on_change_created(data: ChangeCreated, uow: UnitOfWork) -> None:
    await record_change(uow, change_id=data.change_id, number=data.number, status="draft")


async def on_change_approved(data: ChangeApproved, uow: UnitOfWork) -> None:
    await record_change(uow, change_id=data.change_id, number=data.number, status="approved", window=data)


async def on_change_ended(data: ChangeCancelled | ChangeFailed, uow: UnitOfWork) -> None:
    """A cancelled or failed change authorises no more edits of its CIs."""
    await record_change(uow, change_id=data.change_id, number=data.number, status=data.status)


async def apply_implemented_change(data: ChangeImplemented, uow: UnitOfWork) -> None:
    """Apply all of the change's planned CI changes, or none: each new version names the change
    as its cause; the outcome is published as `config.change_applied.v1` or `config.change_rejected.v1`."""
    await record_change(uow, change_id=data.change_id, number=data.number, status="implemented")
    cause = Cause("change", data.implemented_by, data.number)
    # The change itself is the authority for the CIs it implements.
    edit = Edit(actor=data.implemented_by, expected_version=None, change_number=data.number, by_implemented_change=True)
    mark = uow.mark()
    whole = await uow.connection.begin_nested()
    applied: list[AppliedItem] = []
    errors: list[RejectedItem] = []
    for index, planned in enumerate(data.planned_ci_changes):
        try:
            async with uow.connection.begin_nested():  # keeps the transaction usable after a failed item
                applied.append(await _apply_item(uow, index, planned, edit, cause))
        except DomainError as exc:
            errors.append(RejectedItem(index=index, action=planned.action, reason=exc.detail))
        except (ValueError, TypeError) as exc:
            errors.append(RejectedItem(index=index, action=planned.action, reason=f"invalid item: {exc}"))
    now = clock.now()
    subject = str(data.change_id)
    if errors:
        await whole.rollback()
        uow.discard_since(mark)
        uow.emit(
            ConfigChangeRejected(change_id=data.change_id, change_number=data.number, errors=errors, rejected_at=now),
            subject=subject,
        )
    else:
        await whole.commit()
        uow.emit(
            ConfigChangeApplied(change_id=data.change_id, change_number=data.number, items=applied, applied_at=now),
            subject=subject,
        )
    if data.major_environment_change:
        services = await _services_of(uow, data)
        await continuity.retest_after_major_change(
            uow, change_number=data.number, service_ids=services, implemented_at=data.implemented_at
        )


async def _services_of(uow: UnitOfWork, data: ChangeImplemented) -> list[UUID]:
    """The services a change touches: those it names, and those its affected CIs run or are."""
    found = await ConfigItemRepository(uow.connection).existing(data.affected_ci_ids)
    services = set(data.service_ids) | {i.service_id for i in found.values() if i.service_id is not None}
    return sorted(services | {i.id for i in found.values() if i.ci_type == BUSINESS_SERVICE})


async def _apply_item(uow: UnitOfWork, index: int, planned: PlannedCIChange, edit: Edit, cause: Cause) -> AppliedItem:
    action = planned.action
    if action == "create":
        if not planned.ci:
            raise RuleViolation("a create needs the CI's fields in `ci`")
        cmd = _register_command(planned.ci)
        item = await register_step(uow, cmd, cause)
        return AppliedItem(index=index, action=action, ci_id=item.id, version=item.version)
    if action in ("update", "retire"):
        if planned.ci_id is None:
            raise RuleViolation(f"an {action} needs the ci_id")
        if action == "update":
            item = await update_step(uow, planned.ci_id, planned.attributes or {}, edit, cause)
        else:
            item = await retire_step(uow, planned.ci_id, edit, cause)
        return AppliedItem(index=index, action=action, ci_id=item.id, version=item.version)
    if planned.relationship is None:
        raise RuleViolation(f"{action} needs the relationship")
    ref = planned.relationship
    kind = RelationshipType(ref.type)
    if action == "add_relationship":
        relationship = await link_step(uow, ref.source_id, kind, ref.target_id, edit, cause)
    else:
        found = await RelationshipRepository(uow.connection).find(ref.source_id, kind, ref.target_id)
        if found is None:
            raise NotFound(f"there is no relationship {ref.source_id} {ref.type} {ref.target_id}")
        await unlink_step(uow, found, edit, cause)
        relationship = found
    return AppliedItem(index=index, action=action, ci_id=ref.source_id, relationship_id=relationship.id)


def _register_command(fields: Mapping[str, Any]) -> RegisterConfigItem:
    allowed = set(RegisterConfigItem.__dataclass_fields__) | {"type"}
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise RuleViolation(f"unknown CI fields: {', '.join(unknown)}")
    values = dict(fields)
    if "type" not in values and "ci_type" not in values:
        raise RuleViolation("a created CI needs a type")
    values["ci_type"] = values.pop("type", values.get("ci_type"))
    if "status" in values:
        values["status"] = CIStatus(values["status"])
    if "criticality" in values:
        values["criticality"] = Criticality(values["criticality"])
    if "identifiers" in values:
        values["identifiers"] = Identifiers(**values["identifiers"])
    for name in ("service_id", "supplier_id", "location_id"):
        if values.get(name) is not None:
            values[name] = UUID(str(values[name]))
    return RegisterConfigItem(**values)
