"""Webhook subscriptions as pure rules: which events one matches (an AMQP topic pattern on the
routing key, an optional filter on the subject and on data fields), its state (active, disabled),
and its signing secrets with their rotation overlap."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from services.notify.domain.chat import Channel
from shared.errors import InvalidTransition, RuleViolation

PATTERN_WORD = re.compile(r"^([a-z0-9_]+|\*|#)$")
MAX_PATTERN_WORDS = 10
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MISSING = object()


# ---------------------------------------------------------------------------- the event type pattern


def check_pattern(pattern: str) -> str:
    """The pattern as given, or RuleViolation: dot-separated words of `a-z 0-9 _`, or `*` (exactly
    one word) or `#` (zero or more words), as in an AMQP topic binding."""
    words = pattern.split(".")
    if len(words) > MAX_PATTERN_WORDS or not all(PATTERN_WORD.match(w) for w in words):
        raise RuleViolation(
            "a routing-key pattern: up to 10 dot-separated words of a-z, 0-9 and _, or * (one word) or # (any)",
            field="event_pattern",
        )
    return pattern


def matches_pattern(pattern: str, routing_key: str) -> bool:
    """Whether `routing_key` matches the AMQP topic `pattern` (`*` one word, `#` zero or more)."""
    return _match(pattern.split("."), routing_key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])


# ---------------------------------------------------------------------------- the filter


def field_value(data: dict[str, Any], path: str) -> Any:
    """The value at the dotted `path` of `data` (`service.id`), or MISSING."""
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def matches_filter(subject_filter: str | None, data_filter: dict[str, Any], subject: str | None, data: Any) -> bool:
    """Whether an event passes the filter: its subject equal to `subject_filter` when one is given,
    and every field of `data_filter` (a dotted path) present in its data with an equal value."""
    if subject_filter is not None and subject != subject_filter:
        return False
    if not data_filter:
        return True
    if not isinstance(data, dict):
        return False
    for path, expected in data_filter.items():
        actual = field_value(data, path)
        if actual is MISSING or actual != expected or type(actual) is not type(expected):
            return False
    return True


# ---------------------------------------------------------------------------- secrets


def secret_of(random_bytes: bytes) -> str:
    """A Standard Webhooks secret: `whsec_` and the base64 of the key's bytes."""
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode("ascii")


def key_of(secret: str) -> bytes:
    """The HMAC key a secret stands for."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


# ---------------------------------------------------------------------------- the subscription


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


@dataclass
class Subscription:
    id: UUID
    url: str
    event_pattern: str
    secret: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    subject_filter: str | None = None
    data_filter: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE
    previous_secret: str | None = None
    previous_secret_until: datetime | None = None
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    version: int = 1
    channel: Channel = Channel.WEBHOOK
    """How a delivery is shaped: the signed CloudEvent, or a Slack or Teams message (domain/chat.py)."""
    template: str | None = None
    """For a chat channel: the template whose subject and plain-text part make the message."""

    def matches(self, routing_key: str, subject: str | None, data: Any) -> bool:
        return matches_pattern(self.event_pattern, routing_key) and matches_filter(
            self.subject_filter, self.data_filter, subject, data
        )

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets a delivery is signed with at `now`: the current one, and the previous one
        while its overlap lasts (the receiver may still hold only that one)."""
        secrets = [self.secret]
        if (
            self.previous_secret is not None
            and self.previous_secret_until is not None
            and now < self.previous_secret_until
        ):
            secrets.append(self.previous_secret)
        return secrets

    def rotate(self, new_secret: str, now: datetime, overlap: timedelta) -> None:
        """A new current secret; the one it replaces stays valid for `overlap` (none: at once)."""
        self.previous_secret = self.secret if overlap > timedelta(0) else None
        self.previous_secret_until = now + overlap if overlap > timedelta(0) else None
        self.secret = new_secret
        self._touch(now)

    def disable(self, reason: str, now: datetime) -> None:
        if self.status is SubscriptionStatus.DISABLED:
            raise InvalidTransition("disable", self.status.value, self.allowed_actions())
        self.status = SubscriptionStatus.DISABLED
        self.disabled_at = now
        self.disabled_reason = reason
        self._touch(now)

    def enable(self, now: datetime) -> None:
        if self.status is SubscriptionStatus.ACTIVE:
            raise InvalidTransition("enable", self.status.value, self.allowed_actions())
        self.status = SubscriptionStatus.ACTIVE
        self.disabled_at = None
        self.disabled_reason = None
        self._touch(now)

    def allowed_actions(self) -> list[str]:
        return ["disable", "rotate-secret"] if self.status is SubscriptionStatus.ACTIVE else ["enable", "rotate-secret"]

    def _touch(self, now: datetime) -> None:
        self.updated_at = now
        self.version += 1
