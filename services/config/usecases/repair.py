"""`itsm repair` for the CMDB: what earlier versions could store that the current code cannot show
or would refuse (a CI's attributes or a type's attribute schema nested too deep or too large, or
no object). A CI's fix is recorded as a new version of the CI (its history) and announced as
`ci.updated.v1`; a type keeps no history and publishes no events, so its fix shows only in the
command's report."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.config import events
from services.config.domain.items import Cause, ItemUpdated
from services.config.store.items import ConfigItemRepository
from services.config.store.tables import ci_type, config_item
from services.config.store.types import replace_attribute_schema
from shared import clock
from shared.errors import found
from shared.repair import FREE_JSON_OBJECT, REPAIR_ACTOR, RepairTarget, Rule
from shared.uow import AnyUnitOfWork

REPAIR_CAUSE = Cause("manual", REPAIR_ACTOR, "itsm repair")
"""A repair is run by hand; its reference says by what (the event's cause kinds are fixed in v1)."""


async def repair_config_item(uow: AnyUnitOfWork, ci_id: UUID, values: dict[str, Any], why: dict[str, str]) -> None:
    """Store the repaired values as a new version; its changes say why, not the unreadable old value."""
    async with uow:
        repository = ConfigItemRepository(uow.connection)
        item = found(await repository.get(ci_id, for_update=True), f"configuration item {ci_id}")
        changes = {name: {"old": f"repaired: {why[name]}", "new": value} for name, value in values.items()}
        for name, value in values.items():
            setattr(item, name, value)
        item.version += 1
        item.updated_at = clock.now()
        item.pending_events.append(ItemUpdated(item.id, changes, REPAIR_CAUSE))
        await repository.save(item, REPAIR_CAUSE, changes)
        uow.emit_pending(item, events.to_contract)
        await uow.commit()


ATTRIBUTE_SCHEMA = Rule(
    "JSON Schema of an object",
    FREE_JSON_OBJECT.diagnose,
    # A cut schema would be no valid schema: the replacement takes any object, and says why.
    lambda value: {"type": "object", "$comment": "replaced by itsm repair: " + str(FREE_JSON_OBJECT.diagnose(value))},
)


async def repair_ci_type(uow: AnyUnitOfWork, name: str, values: dict[str, Any], why: dict[str, str]) -> None:
    async with uow:
        await replace_attribute_schema(uow.connection, name, values["attribute_schema"])
        await uow.commit()


TARGETS = (
    RepairTarget(config_item, "number", {"attributes": FREE_JSON_OBJECT}, repair_config_item),
    RepairTarget(ci_type, "name", {"attribute_schema": ATTRIBUTE_SCHEMA}, repair_ci_type, key="name"),
)
