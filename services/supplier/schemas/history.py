"""API body of a field-history entry (suppliers, contracts and disputes keep one)."""

from __future__ import annotations

from typing import Any

from shared.history import FieldChangeEntry


class HistoryEntry(FieldChangeEntry):
    amendment: int | None = None

    @classmethod
    def of(cls, row: Any) -> HistoryEntry:
        return cls.from_record(row)
