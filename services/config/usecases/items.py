"""CI types and configuration items: register, update, retire.

The `*_step` functions work inside a unit of work that is already open, so a whole change or a
discovery run can apply many of them in one transaction under the same rules as the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from services.config import events
from services.config.domain.items import (
    Cause,
    CIStatus,
    ConfigItem,
    Criticality,
    Identifiers,
    hostname_claim,
    require_change_for_controlled,
)
from services.config.domain.types import BUSINESS_SERVICE, CIType, define_type
from services.config.store.change_control import change_window_by_number
from services.config.store.items import ConfigItemRepository
from services.config.store.types import TypeRepository
from shared import clock
from shared.errors import Conflict, PreconditionFailed, RuleViolation, found
from shared.numbering import format_number
from shared.uow import UnitOfWork

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
        await TypeRepository(uow.connection).add(ci_type, actor=cmd.actor, now=clock.now())
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
        item = await register_step(uow, cmd, Cause("manual", actor))
        await uow.commit()
    return item


async def type_named(uow: UnitOfWork, name: str) -> CIType:
    ci_type = await TypeRepository(uow.connection).get(name)
    if ci_type is None:
        raise RuleViolation(f"there is no CI type {name!r} (GET /api/v1/ci-types lists them)", field="type")
    return ci_type


async def check_references(uow: UnitOfWork, values: Mapping[str, Any]) -> None:
    """The service a CI belongs to is a business service; its location a location CI."""
    items = ConfigItemRepository(uow.connection)
    for name, expected in (("service_id", BUSINESS_SERVICE), ("location_id", "location")):
        if (ref := values.get(name)) is None:
            continue
        found = await items.get(ref)
        if found is None or found.ci_type != expected:
            raise RuleViolation(f"{ref} is not a CI of type {expected}", field=name)


async def check_hostname(uow: UnitOfWork, status: CIStatus, identifiers: Identifiers, ci_id: UUID | None) -> None:
    hostname = hostname_claim(status, identifiers)
    if hostname is None:
        return
    holder = await ConfigItemRepository(uow.connection).holder_of_hostname(hostname)
    if holder is not None and holder.id != ci_id:
        raise Conflict(f"hostname {hostname!r} is already held by {holder.number}", ci_id=str(holder.id))


async def register_step(uow: UnitOfWork, cmd: RegisterConfigItem, cause: Cause) -> ConfigItem:
    items = ConfigItemRepository(uow.connection)
    ci_type = await type_named(uow, cmd.ci_type)
    await check_references(uow, {"service_id": cmd.service_id, "location_id": cmd.location_id})
    await check_hostname(uow, cmd.status, cmd.identifiers, None)
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
        now=clock.now(),
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
    by_implemented_change: bool = False
    """The change itself applying its planned CI changes: it is the authority for them."""


async def editable(uow: UnitOfWork, ci_id: UUID, edit: Edit, now: datetime) -> ConfigItem:
    item = found(await ConfigItemRepository(uow.connection).get(ci_id, for_update=True), f"configuration item {ci_id}")
    if edit.expected_version is not None and edit.expected_version != item.version:
        raise PreconditionFailed(
            f"{item.number} is at version {item.version}, not {edit.expected_version}; read it again",
            current_version=item.version,
        )
    await authorise_edit(uow, item, edit, now)
    return item


async def authorise_edit(uow: UnitOfWork, item: ConfigItem, edit: Edit, now: datetime) -> None:
    """A controlled CI changes only under the approved change the edit names."""
    if edit.by_implemented_change:
        return
    window = await change_window_by_number(uow.connection, edit.change_number) if edit.change_number else None
    require_change_for_controlled(item, window, edit.change_number, now)


def manual_or_change(edit: Edit) -> Cause:
    return Cause("change", edit.actor, edit.change_number) if edit.change_number else Cause("manual", edit.actor)


async def update_config_item(ci_id: UUID, values: Mapping[str, Any], edit: Edit, uow: UnitOfWork) -> ConfigItem:
    async with uow:
        item = await update_step(uow, ci_id, values, edit, manual_or_change(edit))
        await uow.commit()
    return item


async def update_step(uow: UnitOfWork, ci_id: UUID, values: Mapping[str, Any], edit: Edit, cause: Cause) -> ConfigItem:
    now = clock.now()
    item = await editable(uow, ci_id, edit, now)
    await check_references(uow, values)
    changes = item.update(values, await type_named(uow, item.ci_type), now=now, cause=cause)
    if changes:
        if "identifiers.hostname" in changes or "status" in changes:
            await check_hostname(uow, item.status, item.identifiers, item.id)
        await ConfigItemRepository(uow.connection).save(item, cause, changes)
        uow.emit_pending(item, events.to_contract)
    return item


async def retire_config_item(ci_id: UUID, edit: Edit, uow: UnitOfWork) -> ConfigItem:
    async with uow:
        item = await retire_step(uow, ci_id, edit, manual_or_change(edit))
        await uow.commit()
    return item


async def retire_step(uow: UnitOfWork, ci_id: UUID, edit: Edit, cause: Cause) -> ConfigItem:
    now = clock.now()
    item = await editable(uow, ci_id, edit, now)
    before = item.status.value
    item.retire(now=now, cause=cause)
    await ConfigItemRepository(uow.connection).save(item, cause, {"status": {"old": before, "new": item.status.value}})
    uow.emit_pending(item, events.to_contract)
    return item
