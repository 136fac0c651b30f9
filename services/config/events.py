"""What the configuration service publishes (domain event -> contract) and consumes (none yet)."""

from __future__ import annotations

from collections.abc import Mapping

from services.config.domain import ConfigItem, ConfigItemRegistered
from shared.events import EventData
from shared.events.config import ConfigItemCreated
from shared.messaging import Handler


def to_contract(event: ConfigItemRegistered, item: ConfigItem) -> EventData:
    return ConfigItemCreated(
        ci_id=event.ci_id,
        number=item.number,
        name=item.name,
        type=item.ci_type.value,
        status=item.status.value,
        criticality=int(item.criticality),
        created_at=item.created_at,
    )


HANDLERS: Mapping[str, Handler] = {}
"""Consumed routing keys -> handlers; the service's queue is bound to exactly these keys."""
