"""What the change service publishes (domain event -> contract) and consumes (none yet)."""

from __future__ import annotations

from collections.abc import Mapping

from services.change.domain import Change, ChangeDrafted
from shared.events import EventData
from shared.events.change import ChangeCreated
from shared.messaging import Handler


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


HANDLERS: Mapping[str, Handler] = {}
"""Consumed routing keys -> handlers; the service's queue is bound to exactly these keys."""
