"""Change use cases: one async function per command; only these commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from services.change import events
from services.change.domain import Change, ChangeType
from services.change.store import ChangeRepository
from shared.numbering import format_number
from shared.uow import UnitOfWork


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


async def draft_change(cmd: DraftChange, uow: UnitOfWork) -> Change:
    async with uow:
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
            now=datetime.now(UTC),
        )
        await changes.add(item)
        uow.emit_pending(item, events.to_contract)
        await uow.commit()
    return item
