"""Changes as pure domain code: the request for change and the rules for drafting one (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from shared.errors import RuleViolation


class ChangeType(StrEnum):
    STANDARD = "standard"  # pre-authorised: follows an approved change model
    NORMAL = "normal"
    EMERGENCY = "emergency"  # made at once: needs a justification, reviewed afterwards


class ChangeStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ASSESSED = "assessed"
    APPROVED = "approved"
    REJECTED = "rejected"
    SCHEDULED = "scheduled"
    IMPLEMENTING = "implementing"
    IMPLEMENTED = "implemented"
    CLOSED = "closed"
    CANCELLED = "cancelled"


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise RuleViolation(f"{name} needs a time zone", field=name)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class ChangeDrafted:
    """Domain event: a request for change was recorded in draft."""

    change_id: UUID


@dataclass
class Change:
    id: UUID
    number: str
    title: str
    description: str
    justification: str
    change_type: ChangeType
    category: str | None
    status: ChangeStatus
    requester: str
    planned_start: datetime | None
    planned_end: datetime | None
    affected_ci_ids: tuple[UUID, ...]
    created_at: datetime
    updated_at: datetime
    version: int = 1
    pending_events: list[ChangeDrafted] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def draft(
        cls,
        *,
        change_id: UUID,
        number: str,
        title: str,
        description: str,
        justification: str,
        change_type: ChangeType,
        category: str | None,
        requester: str,
        planned_start: datetime | None,
        planned_end: datetime | None,
        affected_ci_ids: Iterable[UUID],
        now: datetime,
    ) -> Change:
        if not title.strip():
            raise RuleViolation("a change needs a title", field="title")
        if change_type is ChangeType.EMERGENCY and not justification.strip():
            raise RuleViolation("an emergency change needs a justification", field="justification")
        start, end = _utc(planned_start, "planned_start"), _utc(planned_end, "planned_end")
        if start is not None and end is not None and end <= start:
            raise RuleViolation("the planned end must be after the planned start", field="planned_end")
        change = cls(
            id=change_id,
            number=number,
            title=title.strip(),
            description=description,
            justification=justification,
            change_type=change_type,
            category=category,
            status=ChangeStatus.DRAFT,
            requester=requester,
            planned_start=start,
            planned_end=end,
            # A set in a stable order: the same CIs read back the same way, whatever order they came in.
            affected_ci_ids=tuple(sorted(set(affected_ci_ids))),
            created_at=now,
            updated_at=now,
        )
        change.pending_events.append(ChangeDrafted(change_id))
        return change
