"""Customers (ISO/IEC 20000-1 6.1, 7.1) as pure rules: who a customer is, whom to talk to, the
catalogue services they consume, their user groups and interested parties, and when the
relationship is next reviewed. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from shared.errors import RuleViolation

NUMBER_PREFIX = "CUS"
NUMBER_SEQUENCE = "customer"
EDITABLE = frozenset(
    {
        "name",
        "relationship_manager",
        "contacts",
        "service_ids",
        "user_groups",
        "interested_parties",
        "review_interval_days",
        "next_review",
    }
)
"""The fields an update may set (everything but the identity and the bookkeeping)."""


@dataclass(frozen=True)
class Contact:
    name: str
    email: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class Customer:
    """A customer of the services in the catalogue: the party service level agreements are made with."""

    id: UUID
    number: str
    name: str
    relationship_manager: str
    review_interval_days: int
    next_review: date
    created_at: datetime
    updated_at: datetime
    contacts: tuple[Contact, ...] = ()
    service_ids: tuple[UUID, ...] = ()
    user_groups: tuple[str, ...] = ()
    interested_parties: tuple[str, ...] = ()
    version: int = 1
    changes: dict[str, Any] = field(default_factory=dict, compare=False)
    """What the last update changed: field -> [before, after] (not stored on the record)."""

    def __post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not self.name.strip():
            errors.append(("name", "a customer needs a name"))
        if not self.relationship_manager.strip():
            errors.append(("relationship_manager", "a customer has a named relationship manager"))
        if self.review_interval_days < 1:
            errors.append(("review_interval_days", "a review interval is at least one day"))
        if len(set(self.service_ids)) != len(self.service_ids):
            errors.append(("service_ids", "a service is listed once"))
        if len(set(self.user_groups)) != len(self.user_groups):
            errors.append(("user_groups", "a user group is listed once"))
        if errors:
            raise RuleViolation.of_fields(errors)

    def updated(self, values: dict[str, Any], now: datetime) -> Customer:
        """The next version with `values` set; `changes` holds what differs."""
        unknown = sorted(set(values) - EDITABLE)
        if unknown:
            raise RuleViolation(f"not a field a customer update sets: {', '.join(unknown)}", field=unknown[0])
        changes = {k: [_plain(getattr(self, k)), _plain(v)] for k, v in values.items() if getattr(self, k) != v}
        if not changes:
            return self
        return replace(self, **values, version=self.version + 1, updated_at=now, changes=changes)

    def reviewed(self, on: date, now: datetime) -> Customer:
        """A relationship review held on `on`: the next one falls an interval later."""
        return self.updated({"next_review": next_review(on, self.review_interval_days)}, now)


def next_review(on: date, interval_days: int) -> date:
    if interval_days < 1:
        raise RuleViolation("a review interval is at least one day", field="review_interval_days")
    try:
        return on + timedelta(days=interval_days)
    except OverflowError:
        raise RuleViolation("the next review falls after the year 9999", field="review_interval_days") from None


def _plain(value: Any) -> Any:
    """A value as the history and events carry it (JSON)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Contact):
        return {"name": value.name, "email": value.email, "role": value.role}
    if isinstance(value, UUID | date):
        return str(value) if isinstance(value, UUID) else value.isoformat()
    return value
