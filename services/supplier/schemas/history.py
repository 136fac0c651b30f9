"""API body of a field-history entry (suppliers, contracts and disputes keep one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.http import ApiModel


class HistoryEntry(ApiModel):
    version: int
    at: datetime
    actor: str
    action: str
    field: str
    old: Any
    new: Any
    reason: str
    amendment: int | None = None

    @classmethod
    def of(cls, row: Any) -> HistoryEntry:
        return cls.from_record(row)
