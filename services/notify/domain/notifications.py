"""Notification rules as pure rules: which events a rule matches (the routing-key pattern and data
filter of webhook subscriptions), who it is sent to (the values of named fields of the event's
data), how such a value becomes an e-mail address, and the states of one e-mail message."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from services.notify.domain.recipients import (  # noqa: F401 - the address rules are named here too
    ADDRESS,
    RECIPIENT_FIELD,
    USER_NAME,
    Person,
    Recipient,
    address_of,
    addresses,
    check_recipients,
    from_fields,
)
from services.notify.domain.subscriptions import (
    check_pattern,
    matches_filter,
    matches_pattern,
)
from shared.errors import RuleViolation

TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,100}$")
MAX_RECIPIENT_FIELDS = 10


class MessageStatus(StrEnum):
    PENDING = "pending"
    """Not sent yet: due at `next_attempt_at`."""
    SENT = "sent"
    """The mail server accepted it."""
    FAILED = "failed"
    """Given up: the retry period ran out, or the server refused the recipient for good."""
    HELD = "held"
    """Not sent: the recipient bounced (a DSN came back); due again when the bounce is cleared."""


def check_template_name(name: str) -> str:
    if not TEMPLATE_NAME.match(name):
        raise RuleViolation("a template name: 1 to 100 characters of a-z, 0-9 and _", field="template")
    return name


def check_recipient_fields(fields: list[str]) -> list[str]:
    """The fields as given, or RuleViolation: 1 to 10 dotted paths into the event's data."""
    if not fields or len(fields) > MAX_RECIPIENT_FIELDS:
        raise RuleViolation("a rule names 1 to 10 recipient fields", field="recipient_fields")
    for name in fields:
        if not RECIPIENT_FIELD.match(name):
            raise RuleViolation(
                f"{name[:80]!r} is not a field of the event's data: data.<field>[.<field>] in a-z, 0-9 and _",
                field="recipient_fields",
            )
    return fields


@dataclass
class Rule:
    id: UUID
    name: str
    event_pattern: str
    template: str
    recipient_fields: list[str]
    created_by: str
    created_at: datetime
    data_filter: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    targets: list[Recipient] = field(default_factory=list)
    """Who it tells (the API's `recipients`); empty for a rule made with `recipient_fields` only."""
    mandatory: bool = False
    """A mandatory rule's mail cannot be unsubscribed, digested or held for quiet hours."""

    @classmethod
    def new(cls, **values: Any) -> Rule:
        check_pattern(values["event_pattern"])
        check_template_name(values["template"])
        if values.get("targets"):
            check_recipients(values["targets"])
            if values.get("recipient_fields"):
                check_recipient_fields(values["recipient_fields"])
        else:
            check_recipient_fields(values["recipient_fields"])
        return cls(**values)

    @property
    def all_recipients(self) -> list[Recipient]:
        """`recipient_fields` as field recipients, then `targets`."""
        fields = from_fields(self.recipient_fields)
        return fields + [t for t in self.targets if t not in fields]

    def matches(self, routing_key: str, data: Any) -> bool:
        return (
            self.enabled
            and matches_pattern(self.event_pattern, routing_key)
            and matches_filter(None, self.data_filter, None, data)
        )

    def recipients(self, data: Any, recipient_domain: str, people: Sequence[Person] = ()) -> list[str]:
        """The distinct addresses of the rule's recipients for `data`, in order (a field missing,
        empty or not an address is skipped; a group, role or contact with nobody in the directory
        names nobody)."""
        if not isinstance(data, dict):
            return []
        return addresses(self.all_recipients, data, people, recipient_domain)
