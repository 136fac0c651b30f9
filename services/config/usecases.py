"""CMDB use cases: one async function per command; only these commit.

The `_register`, `_update`, `_retire`, `_link` and `_unlink` steps work inside a unit of work
that is already open, so the change-control consumer can apply a whole change in one
transaction with the same rules as the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from services.config import events
from services.config.domain.items import (
    Cause,
    ChangeWindow,
    CIStatus,
    ConfigItem,
    Criticality,
    Identifiers,
    hostname_claim,
    require_change_for_controlled,
)
from services.config.domain.relationships import Relationship, RelationshipType, target_kind_of
from services.config.domain.types import BUSINESS_SERVICE, CIType, define_type
from services.config.store import (
    ConfigItemRepository,
    RelationshipRepository,
    TypeRepository,
    change_window_by_number,
    upsert_change_window,
)
from shared.errors import Conflict, DomainError, NotFound, PreconditionFailed, RuleViolation
from shared.events.change import ChangeApproved, ChangeCreated, ChangeImplemented, PlannedCIChange
from shared.events.config import AppliedItem, ChangeApplied, ChangeRejected, RejectedItem
from shared.numbering import format_number
from shared.uow import UnitOfWork


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------- types


@dataclass(frozen=True)
class DefineCIType:
    name: str
    label: str
    description: str
    attribute_schema: dict[str, Any]
    actor: str


async def define_ci_type(cmd: DefineCIType, uow: UnitOfWork) -> CIType:
    ci_type = define_type(
        name=cmd.name, label=cmd.label, description=cmd.description, attribute_schema=cmd.attribute_schema
    )
    async with uow:
        await TypeRepository(uow.connection).add(ci_type, actor=cmd.actor, now=_now())
        await uow.commit()
    return ci_type


# ---------------------------------------------------------------------------- configuration items


@dataclass(frozen=True)
class RegisterConfigItem:
    name: str
    ci_type: str
    status: CIStatus = CIStatus.PLANNED
    criticality: Criticality = Criticality.MEDIUM
    owner: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    identifiers: Identifiers = field(default_factory=Identifiers)
    description: str = ""
    service_id: UUID | None = None
    supplier_id: UUID | None = None
    location_id: UUID | None = None
    product_version: str | None = None
    controlled: bool = False


async def register_config_item(cmd: RegisterConfigItem, uow: UnitOfWork, *, actor: str) -> ConfigItem:
    async with uow:
        item = await _register(uow, cmd, Cause("manual", actor))
        await uow.commit()
    return item


async def _type_named(uow: UnitOfWork, name: str) -> CIType:
    ci_type = await TypeRepository(uow.connection).get(name)
    if ci_type is None:
        raise RuleViolation(f"there is no CI type {name!r} (GET /api/v1/ci-types lists them)", field="type")
    return ci_type


async def _check_references(uow: UnitOfWork, values: Mapping[str, Any]) -> None:
    """The service a CI belongs to is a business service; its location a location CI."""
    items = ConfigItemRepository(uow.connection)
    for name, expected in (("service_id", BUSINESS_SERVICE), ("location_id", "location")):
        if (ref := values.get(name)) is None:
            continue
        found = await items.get(ref)
        if found is None or found.ci_type != expected:
            raise RuleViolation(f"{ref} is not a CI of type {expected}", field=name)


async def _check_hostname(uow: UnitOfWork, status: CIStatus, identifiers: Identifiers, ci_id: UUID | None) -> None:
    hostname = hostname_claim(status, identifiers)
    if hostname is None:
        return
    holder = await ConfigItemRepository(uow.connection).holder_of_hostname(hostname)
    if holder is not None and holder.id != ci_id:
        raise Conflict(f"hostname {hostname!r} is already held by {holder.number}", ci_id=str(holder.id))


async def _register(uow: UnitOfWork, cmd: RegisterConfigItem, cause: Cause) -> ConfigItem:
    items = ConfigItemRepository(uow.connection)
    ci_type = await _type_named(uow, cmd.ci_type)
    await _check_references(uow, {"service_id": cmd.service_id, "location_id": cmd.location_id})
    await _check_hostname(uow, cmd.status, cmd.identifiers, None)
    item = ConfigItem.register(
        ci_id=uuid4(),
        number=format_number("CI", await items.next_number()),
        name=cmd.name,
        ci_type=ci_type,
        status=cmd.status,
        criticality=cmd.criticality,
        owner=cmd.owner,
        attributes=cmd.attributes,
        identifiers=cmd.identifiers,
        now=_now(),
        cause=cause,
        description=cmd.description,
        service_id=cmd.service_id,
        supplier_id=cmd.supplier_id,
        location_id=cmd.location_id,
        product_version=cmd.product_version,
        controlled=cmd.controlled,
    )
    await items.add(item, cause)
    uow.emit_pending(item, events.to_contract)
    return item


@dataclass(frozen=True)
class Edit:
    """Who edits, which version they read (If-Match), and the change that allows it, if any."""

    actor: str
    expected_version: int | None
    change_number: str | None = None


async def _editable(uow: UnitOfWork, ci_id: UUID, edit: Edit, now: datetime) -> ConfigItem:
    item = await ConfigItemRepository(uow.connection).get(ci_id, for_update=True)
    if item is None:
        raise NotFound(f"configuration item {ci_id} does not exist")
    if edit.expected_version is not None and edit.expected_version != item.version:
        raise PreconditionFailed(
            f"{item.number} is at version {item.version}, not {edit.expected_version}; read it again",
            current_version=item.version,
        )
    window = await change_window_by_number(uow.connection, edit.change_number) if edit.change_number else None
    require_change_for_controlled(item, window, edit.change_number, now)
    return item


def _manual_or_change(edit: Edit) -> Cause:
    return Cause("change", edit.actor, edit.change_number) if edit.change_number else Cause("manual", edit.actor)


async def update_config_item(ci_id: UUID, values: Mapping[str, Any], edit: Edit, uow: UnitOfWork) -> ConfigItem:
    async with uow:
        item = await _update(uow, ci_id, values, edit, _manual_or_change(edit))
        await uow.commit()
    return item


async def _update(uow: UnitOfWork, ci_id: UUID, values: Mapping[str, Any], edit: Edit, cause: Cause) -> ConfigItem:
    now = _now()
    item = await _editable(uow, ci_id, edit, now)
    await _check_references(uow, values)
    changes = item.update(values, await _type_named(uow, item.ci_type), now=now, cause=cause)
    if changes:
        if "identifiers.hostname" in changes or "status" in changes:
            await _check_hostname(uow, item.status, item.identifiers, item.id)
        await ConfigItemRepository(uow.connection).save(item, cause, changes)
        uow.emit_pending(item, events.to_contract)
    return item


async def retire_config_item(ci_id: UUID, edit: Edit, uow: UnitOfWork) -> ConfigItem:
    async with uow:
        item = await _retire(uow, ci_id, edit, _manual_or_change(edit))
        await uow.commit()
    return item


async def _retire(uow: UnitOfWork, ci_id: UUID, edit: Edit, cause: Cause) -> ConfigItem:
    now = _now()
    item = await _editable(uow, ci_id, edit, now)
    before = item.status.value
    item.retire(now=now, cause=cause)
    await ConfigItemRepository(uow.connection).save(item, cause, {"status": {"old": before, "new": item.status.value}})
    uow.emit_pending(item, events.to_contract)
    return item


# ---------------------------------------------------------------------------- relationships


async def add_relationship(
    source_id: UUID, kind: RelationshipType, target_id: UUID, edit: Edit, uow: UnitOfWork
) -> Relationship:
    async with uow:
        relationship = await _link(uow, source_id, kind, target_id, edit, _manual_or_change(edit))
        await uow.commit()
    return relationship


async def _link(
    uow: UnitOfWork, source_id: UUID, kind: RelationshipType, target_id: UUID, edit: Edit, cause: Cause
) -> Relationship:
    now = _now()
    items = ConfigItemRepository(uow.connection)
    source = await items.get(source_id)
    if source is None:
        raise RuleViolation(f"there is no CI {source_id}", field="source_id")
    if target_kind_of(kind) == "ci" and await items.get(target_id) is None:
        raise RuleViolation(f"there is no CI {target_id}", field="target_id")
    window = await change_window_by_number(uow.connection, edit.change_number) if edit.change_number else None
    require_change_for_controlled(source, window, edit.change_number, now)
    relationships = RelationshipRepository(uow.connection)
    if (existing := await relationships.find(source_id, kind, target_id)) is not None:
        raise Conflict(f"{source.number} already {kind.value} {target_id}", relationship_id=str(existing.id))
    relationship = Relationship.link(
        relationship_id=uuid4(), source_id=source_id, kind=kind, target_id=target_id, now=now
    )
    await relationships.add(relationship, cause)
    uow.emit(events.relationship_changed(relationship, "added", cause, now), subject=str(source_id))
    return relationship


async def remove_relationship(relationship_id: UUID, edit: Edit, uow: UnitOfWork) -> Relationship:
    async with uow:
        relationship = await RelationshipRepository(uow.connection).get(relationship_id)
        if relationship is None:
            raise NotFound(f"relationship {relationship_id} does not exist")
        await _unlink(uow, relationship, edit, _manual_or_change(edit))
        await uow.commit()
    return relationship


async def _unlink(uow: UnitOfWork, relationship: Relationship, edit: Edit, cause: Cause) -> None:
    now = _now()
    source = await ConfigItemRepository(uow.connection).get(relationship.source_id)
    if source is not None:
        window = await change_window_by_number(uow.connection, edit.change_number) if edit.change_number else None
        require_change_for_controlled(source, window, edit.change_number, now)
    await RelationshipRepository(uow.connection).remove(relationship, cause, now)
    uow.emit(events.relationship_changed(relationship, "removed", cause, now), subject=str(relationship.source_id))


# ---------------------------------------------------------------------------- change control


# Later states win: an event that arrives late never moves a change back.
_CHANGE_PROGRESS = ("draft", "approved", "implementing", "implemented")


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
    await upsert_change_window(uow.connection, record, _now())


async def on_change_created(data: ChangeCreated, uow: UnitOfWork) -> None:
    await record_change(uow, change_id=data.change_id, number=data.number, status="draft")


async def on_change_approved(data: ChangeApproved, uow: UnitOfWork) -> None:
    await record_change(uow, change_id=data.change_id, number=data.number, status="approved", window=data)


async def apply_implemented_change(data: ChangeImplemented, uow: UnitOfWork) -> None:
    """Apply all of the change's planned CI changes, or none: each new version names the change
    as its cause; the outcome is published as `config.change_applied.v1` or `config.change_rejected.v1`."""
    await record_change(uow, change_id=data.change_id, number=data.number, status="implemented")
    cause = Cause("change", data.implemented_by, data.number)
    # The change itself is the authority for the CIs it implements.
    edit = Edit(actor=data.implemented_by, expected_version=None, change_number=data.number)
    mark = uow.mark()
    whole = await uow.connection.begin_nested()
    applied: list[AppliedItem] = []
    errors: list[RejectedItem] = []
    for index, planned in enumerate(data.ci_changes):
        try:
            async with uow.connection.begin_nested():  # keeps the transaction usable after a failed item
                applied.append(await _apply_item(uow, index, planned, edit, cause))
        except DomainError as exc:
            errors.append(RejectedItem(index=index, action=planned.action, reason=exc.detail))
        except (ValueError, TypeError) as exc:
            errors.append(RejectedItem(index=index, action=planned.action, reason=f"invalid item: {exc}"))
    now = _now()
    subject = str(data.change_id)
    if errors:
        await whole.rollback()
        uow.discard_since(mark)
        uow.emit(
            ChangeRejected(change_id=data.change_id, change_number=data.number, errors=errors, rejected_at=now),
            subject=subject,
        )
    else:
        await whole.commit()
        uow.emit(
            ChangeApplied(change_id=data.change_id, change_number=data.number, items=applied, applied_at=now),
            subject=subject,
        )


async def _apply_item(uow: UnitOfWork, index: int, planned: PlannedCIChange, edit: Edit, cause: Cause) -> AppliedItem:
    action = planned.action
    if action == "create":
        if not planned.ci:
            raise RuleViolation("a create needs the CI's fields in `ci`")
        cmd = _register_command(planned.ci)
        item = await _register(uow, cmd, cause)
        return AppliedItem(index=index, action=action, ci_id=item.id, version=item.version)
    if action in ("update", "retire"):
        if planned.ci_id is None:
            raise RuleViolation(f"an {action} needs the ci_id")
        if action == "update":
            item = await _update(uow, planned.ci_id, planned.attributes or {}, edit, cause)
        else:
            item = await _retire(uow, planned.ci_id, edit, cause)
        return AppliedItem(index=index, action=action, ci_id=item.id, version=item.version)
    if planned.relationship is None:
        raise RuleViolation(f"{action} needs the relationship")
    ref = planned.relationship
    kind = RelationshipType(ref.type)
    if action == "add_relationship":
        relationship = await _link(uow, ref.source_id, kind, ref.target_id, edit, cause)
    else:
        found = await RelationshipRepository(uow.connection).find(ref.source_id, kind, ref.target_id)
        if found is None:
            raise NotFound(f"there is no relationship {ref.source_id} {ref.type} {ref.target_id}")
        await _unlink(uow, found, edit, cause)
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
