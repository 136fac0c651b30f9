"""`itsm repair` for standard change templates: text fields a template requires that hold NULL,
set to empty text. Templates keep no field history and publish no events, so a repair shows as a
new version of the template (and in the command's report)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.change.store import templates as store
from services.change.store.tables import change_template
from shared import clock
from shared.errors import found
from shared.repair import REQUIRED_TEXT, RepairTarget
from shared.uow import AnyUnitOfWork


async def repair_template(uow: AnyUnitOfWork, template_id: UUID, values: dict[str, Any], why: dict[str, str]) -> None:
    async with uow:
        template = found(await store.get_template(uow.connection, template_id, for_update=True), "template")
        read_version = template.version
        for name, value in values.items():
            setattr(template, name, value)
        template.version += 1
        template.updated_at = clock.now()
        await store.save_template(uow.connection, template, read_version)
        await uow.commit()


TARGETS = (
    RepairTarget(
        change_template,
        "name",
        {
            "description": REQUIRED_TEXT,
            "implementation_plan": REQUIRED_TEXT,
            "backout_plan": REQUIRED_TEXT,
            "test_plan": REQUIRED_TEXT,
        },
        repair_template,
    ),
)
