"""Relationships between CIs: add and remove, under change control for controlled sources."""

from __future__ import annotations

from uuid import UUID, uuid4

from services.config import events
from services.config.domain.items import Cause
from services.config.domain.relationships import Relationship, RelationshipType, target_kind_of
from services.config.store.items import ConfigItemRepository
from services.config.store.relationships import RelationshipRepository
from services.config.usecases.items import Edit, authorise_edit, manual_or_change
from shared import clock
from shared.errors import Conflict, RuleViolation, found
from shared.events.supplier import ContractActivated
from shared.uow import UnitOfWork

# ---------------------------------------------------------------------------- relationships


async def add_relationship(
    source_id: UUID, kind: RelationshipType, target_id: UUID, edit: Edit, uow: UnitOfWork
) -> Relationship:
    async with uow:
        relationship = await link_step(uow, source_id, kind, target_id, edit, manual_or_change(edit))
        await uow.commit()
    return relationship


async def link_step(
    uow: UnitOfWork, source_id: UUID, kind: RelationshipType, target_id: UUID, edit: Edit, cause: Cause
) -> Relationship:
    now = clock.now()
    items = ConfigItemRepository(uow.connection)
    source = await items.get(source_id)
    if source is None:
        raise RuleViolation(f"there is no CI {source_id}", field="source_id")
    if target_kind_of(kind) == "ci" and await items.get(target_id) is None:
        raise RuleViolation(f"there is no CI {target_id}", field="target_id")
    await authorise_edit(uow, source, edit, now)
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
        relationship = found(
            await RelationshipRepository(uow.connection).get(relationship_id), f"relationship {relationship_id}"
        )
        await unlink_step(uow, relationship, edit, manual_or_change(edit))
        await uow.commit()
    return relationship


async def unlink_step(uow: UnitOfWork, relationship: Relationship, edit: Edit, cause: Cause) -> None:
    now = clock.now()
    source = await ConfigItemRepository(uow.connection).get(relationship.source_id)
    if source is not None:
        await authorise_edit(uow, source, edit, now)
    await RelationshipRepository(uow.connection).remove(relationship, cause, now)
    uow.emit(events.relationship_changed(relationship, "removed", cause, now), subject=str(relationship.source_id))


async def record_contract_support(data: ContractActivated, uow: UnitOfWork) -> list[Relationship]:
    """A supplier's contract became active: record that the supplier supports each covered CI.

    The contract is the authority (a record of the supplier process), so no change is needed, even
    for controlled CIs; the relationship names the contract as its cause. A CI the CMDB does not
    know, or one already supported by that supplier, is left as it is.
    """
    now = clock.now()
    items = ConfigItemRepository(uow.connection)
    relationships = RelationshipRepository(uow.connection)
    cause = Cause(kind="import", actor="supplier-service", reference=data.number)
    recorded = []
    for ci_id in dict.fromkeys(data.ci_ids):
        if await items.get(ci_id) is None:
            continue
        if await relationships.find(ci_id, RelationshipType.SUPPORTED_BY, data.supplier_id) is not None:
            continue
        relationship = Relationship.link(
            relationship_id=uuid4(),
            source_id=ci_id,
            kind=RelationshipType.SUPPORTED_BY,
            target_id=data.supplier_id,
            now=now,
        )
        await relationships.add(relationship, cause)
        uow.emit(events.relationship_changed(relationship, "added", cause, now), subject=str(ci_id))
        recorded.append(relationship)
    return recorded
