"""Field history rows, the same for incidents, problems and service requests: one row per field a
pending change event changed (who, when, which action, old and new value, why)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, Protocol
from uuid import UUID


class FieldChanges(Protocol):
    """What a record's change event carries (IncidentChanged, ProblemChanged, RequestChanged)."""

    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> Enum: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def changes(self) -> Mapping[str, tuple[Any, Any]]: ...


def history_rows(
    key_column: str, record_id: UUID, version: int, at: datetime, events: Iterable[FieldChanges]
) -> list[dict[str, Any]]:
    return [
        {
            key_column: record_id,
            "version": version,
            "at": at,
            "actor": e.actor,
            "action": e.action.value,
            "field": name,
            "old": old,
            "new": new,
            "reason": e.reason,
        }
        for e in events
        for name, (old, new) in e.changes.items()
    ]
