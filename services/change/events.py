"""What the change service publishes: its domain events turned into the published contracts."""

from __future__ import annotations

from services.change.domain import Change, ChangeDrafted
from shared.events import EventData
from shared.events.change import ChangeCreated


def to_contract(event: ChangeDrafted, item: Change) -> EventData:
    return ChangeCreated(
        change_id=event.change_id,
        number=item.number,
        title=item.title,
        type=item.change_type.value,
        status=item.status.value,
        requester=item.requester,
        created_at=item.created_at,
    )
