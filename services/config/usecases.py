"""Configuration use cases: one async function per command; only these commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from services.config import events
from services.config.domain import CIStatus, CIType, ConfigItem, Criticality, Identifiers, hostname_claim
from services.config.store import ConfigItemRepository
from shared.errors import Conflict
from shared.numbering import format_number
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class RegisterConfigItem:
    name: str
    ci_type: CIType
    status: CIStatus = CIStatus.PLANNED
    criticality: Criticality = Criticality.MEDIUM
    owner: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    identifiers: Identifiers = field(default_factory=Identifiers)


async def register_config_item(cmd: RegisterConfigItem, uow: UnitOfWork) -> ConfigItem:
    async with uow:
        items = ConfigItemRepository(uow.connection)
        hostname = hostname_claim(cmd.status, cmd.identifiers)
        if hostname is not None and (holder := await items.holder_of_hostname(hostname)) is not None:
            raise Conflict(f"hostname {hostname!r} is already held by {holder.number}", ci_id=str(holder.id))
        item = ConfigItem.register(
            ci_id=uuid4(),
            number=format_number("CI", await items.next_number()),
            name=cmd.name,
            ci_type=cmd.ci_type,
            status=cmd.status,
            criticality=cmd.criticality,
            owner=cmd.owner,
            attributes=cmd.attributes,
            identifiers=cmd.identifiers,
            now=datetime.now(UTC),
        )
        await items.add(item)
        for event in item.pending_events:
            uow.emit(events.to_contract(event, item), subject=str(item.id))
        await uow.commit()
    item.pending_events.clear()
    return item
