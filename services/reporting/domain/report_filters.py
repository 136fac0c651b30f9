"""What a report is asked for (its filters), and the periods a scheduled report covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

from services.reporting.domain.definitions import Frequency


@dataclass(frozen=True)
class ReportFilters:
    """What a report is asked for; `None` means no restriction."""

    start: datetime | None = None
    end: datetime | None = None
    service_id: UUID | None = None
    group: str | None = None
    priority: int | None = None
    supplier_id: UUID | None = None
    period: Literal["day", "week", "month"] | None = None

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "service_id": str(self.service_id) if self.service_id else None,
            "group": self.group,
            "priority": self.priority,
            "supplier_id": str(self.supplier_id) if self.supplier_id else None,
            "period": self.period,
        }


def last_complete_period(frequency: Frequency, now: datetime) -> tuple[datetime, datetime]:
    """The last whole day, ISO week (Monday to Monday) or month before `now`, in UTC."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if frequency == "daily":
        return today - timedelta(days=1), today
    if frequency == "weekly":
        this_monday = today - timedelta(days=today.weekday())
        return this_monday - timedelta(days=7), this_monday
    first = today.replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    return previous, first
