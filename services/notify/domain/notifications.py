"""Notification rules as pure rules: which events a rule matches (the routing-key pattern and data
filter of webhook subscriptions), who it is sent to (the values of named fields of the event's
data), how such a value becomes an e-mail address, and the states of one e-mail message."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from services.notify.domain.subscriptions import (
    check_pattern,
    field_value,
    matches_filter,
    matches_pattern,
)
from shared.errors import RuleViolation

TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,100}$")
RECIPIENT_FIELD = re.compile(r"^data(\.[a-z0-9_]{1,64}){1,5}$")
ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$")
USER_NAME = re.compile(r"^[A-Za-z0-9._+-]{1,64}$")
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


def address_of(value: Any, recipient_domain: str) -> str | None:
    """The e-mail address a recipient field's value stands for: the value itself when it is an
    address; a user name with `recipient_domain` added when that is set; else none."""
    if not isinstance(value, str):
        return None
    text: str = value.strip()
    if ADDRESS.match(text):
        return text
    if recipient_domain and USER_NAME.match(text):
        return f"{text}@{recipient_domain}"
    return None


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

    @classmethod
    def new(cls, **values: Any) -> Rule:
        check_pattern(values["event_pattern"])
        check_template_name(values["template"])
        check_recipient_fields(values["recipient_fields"])
        return cls(**values)

    def matches(self, routing_key: str, data: Any) -> bool:
        return (
            self.enabled
            and matches_pattern(self.event_pattern, routing_key)
            and matches_filter(None, self.data_filter, None, data)
        )

    def recipients(self, data: Any, recipient_domain: str) -> list[str]:
        """The distinct addresses of the rule's recipient fields in `data`, in field order
        (a field missing, empty or not an address is skipped)."""
        found: list[str] = []
        if not isinstance(data, dict):
            return found
        for name in self.recipient_fields:
            # a missing field (MISSING) is not a str: it names nobody, like an empty one
            address = address_of(field_value(data, name.removeprefix("data.")), recipient_domain)
            if address is not None and address.lower() not in (a.lower() for a in found):
                found.append(address)
        return found
