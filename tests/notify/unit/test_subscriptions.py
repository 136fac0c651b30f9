"""Subscriptions: the AMQP topic pattern, the filter on subject and data, secrets and their
rotation with overlap, and the active/disabled states."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.notify.domain.subscriptions import (
    MISSING,
    Subscription,
    SubscriptionStatus,
    check_pattern,
    field_value,
    key_of,
    matches_filter,
    matches_pattern,
    secret_of,
)
from shared.errors import InvalidTransition, RuleViolation

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("#", "incident.created.v1", True),
        ("incident.#", "incident.created.v1", True),
        ("incident.#", "incident", True),
        ("incident.#", "change.created.v1", False),
        ("*.created.v1", "incident.created.v1", True),
        ("*.created.v1", "ci.created.v1", True),
        ("*.created.v1", "incident.resolved.v1", False),
        ("*.created.v1", "created.v1", False),
        ("*", "incident", True),
        ("*", "incident.created", False),
        ("incident.*", "incident.created.v1", False),
        ("incident.*.v1", "incident.created.v1", True),
        ("incident.*.v1", "incident.created.v2", False),
        ("#.v1", "incident.created.v1", True),
        ("#.v1", "v1", True),
        ("#.v1", "incident.created.v2", False),
        ("incident.#.v1", "incident.v1", True),
        ("incident.#.v1", "incident.a.b.v1", True),
        ("incident.#.v1", "incident.a.b.v2", False),
        ("#.created.#", "ci.created.v1", True),
        ("#.created.#", "ci.updated.v1", False),
        ("incident.created.v1", "incident.created.v1", True),
        ("incident.created.v1", "incident.created.v1.x", False),
        ("incident.created.v1.x", "incident.created.v1", False),
        ("*.*", "a", False),
        ("#.#", "a", True),
    ],
)
def test_the_pattern_is_an_amqp_topic_binding(pattern: str, key: str, matches: bool) -> None:
    assert matches_pattern(pattern, key) is matches


@pytest.mark.parametrize("pattern", ["#", "incident.#", "*.created.v1", "a_b.c9", ".".join(["a"] * 10)])
def test_valid_patterns_are_kept(pattern: str) -> None:
    assert check_pattern(pattern) == pattern


@pytest.mark.parametrize(
    "pattern", ["", "incident.", ".x", "Incident.#", "inc*.x", "a b", "a.##", ".".join(["a"] * 11), "a-b"]
)
def test_invalid_patterns_are_refused_naming_the_field(pattern: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        check_pattern(pattern)
    assert caught.value.detail == (
        "a routing-key pattern: up to 10 dot-separated words of a-z, 0-9 and _, or * (one word) or # (any)"
    )
    assert caught.value.extensions["errors"][0]["field"] == "event_pattern"


def test_a_field_is_found_by_its_dotted_path() -> None:
    data = {"priority": 1, "service": {"id": "s1", "tier": None}, "tags": ["a"]}
    assert field_value(data, "priority") == 1
    assert field_value(data, "service.id") == "s1"
    assert field_value(data, "service.tier") is None
    assert field_value(data, "service.missing") is MISSING
    assert field_value(data, "priority.deeper") is MISSING
    assert field_value(data, "nothing") is MISSING
    assert field_value(data, "tags.0") is MISSING


def test_the_filter_on_the_subject_and_on_data_fields() -> None:
    data = {"priority": 1, "status": "new", "major": False, "service": {"id": "s1"}, "owner": None}
    assert matches_filter(None, {}, None, data)
    assert matches_filter("INC1", {}, "INC1", data)
    assert not matches_filter("INC1", {}, "INC2", data)
    assert not matches_filter("INC1", {}, None, data)
    assert matches_filter(None, {"priority": 1, "service.id": "s1"}, "x", data)
    assert not matches_filter(None, {"priority": 2}, "x", data)
    assert not matches_filter(None, {"priority": 1, "status": "resolved"}, "x", data)
    assert not matches_filter(None, {"absent": None}, "x", data)
    assert matches_filter(None, {"owner": None}, "x", data)
    assert matches_filter(None, {"major": False}, "x", data)
    assert not matches_filter(None, {"major": 0}, "x", data), "False is not 0"
    assert not matches_filter(None, {"priority": True}, "x", data), "1 is not True"
    assert not matches_filter(None, {"priority": 1}, "x", ["not", "a", "dict"])
    assert matches_filter(None, {}, "x", ["no", "filter"])
    assert not matches_filter("INC1", {"priority": 1}, "INC2", data)


def test_a_secret_is_whsec_and_base64_of_its_key() -> None:
    key = bytes(range(32))
    secret = secret_of(key)
    assert secret == "whsec_" + base64.b64encode(key).decode()
    assert key_of(secret) == key


def subscription(**values: object) -> Subscription:
    base: dict[str, object] = {
        "id": uuid4(),
        "url": "https://hooks.example.com/in",
        "event_pattern": "incident.#",
        "secret": secret_of(b"1" * 32),
        "created_by": "ada",
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Subscription(**(base | values))  # type: ignore[arg-type]


def test_a_subscription_matches_its_pattern_and_filter() -> None:
    item = subscription(subject_filter="INC1", data_filter={"priority": 1})
    assert item.matches("incident.created.v1", "INC1", {"priority": 1})
    assert not item.matches("change.created.v1", "INC1", {"priority": 1})
    assert not item.matches("incident.created.v1", "INC2", {"priority": 1})
    assert not item.matches("incident.created.v1", "INC1", {"priority": 2})


def test_rotation_keeps_the_old_secret_signing_for_the_overlap() -> None:
    old, new = secret_of(b"1" * 32), secret_of(b"2" * 32)
    item = subscription(secret=old)
    assert item.signing_secrets(NOW) == [old]
    item.rotate(new, NOW, timedelta(hours=1))
    assert item.secret == new
    assert item.previous_secret == old
    assert item.previous_secret_until == NOW + timedelta(hours=1)
    assert item.signing_secrets(NOW) == [new, old]
    assert item.signing_secrets(NOW + timedelta(minutes=59)) == [new, old]
    assert item.signing_secrets(NOW + timedelta(hours=1)) == [new], "the overlap ends at its end"
    assert item.version == 2
    assert item.updated_at == NOW


def test_rotation_without_overlap_drops_the_old_secret_at_once() -> None:
    old, new = secret_of(b"1" * 32), secret_of(b"2" * 32)
    item = subscription(secret=old)
    item.rotate(new, NOW, timedelta(0))
    assert item.previous_secret is None
    assert item.previous_secret_until is None
    assert item.signing_secrets(NOW) == [new]


def test_a_previous_secret_without_an_end_does_not_sign() -> None:
    item = subscription(previous_secret=secret_of(b"3" * 32), previous_secret_until=None)
    assert item.signing_secrets(NOW) == [item.secret]


def test_disable_and_enable() -> None:
    item = subscription()
    assert item.allowed_actions() == ["disable", "rotate-secret"]
    later = NOW + timedelta(minutes=5)
    item.disable("failing", later)
    assert item.status is SubscriptionStatus.DISABLED
    assert item.disabled_at == later
    assert item.disabled_reason == "failing"
    assert item.version == 2
    assert item.updated_at == later
    assert item.allowed_actions() == ["enable", "rotate-secret"]
    with pytest.raises(InvalidTransition) as refused:
        item.disable("again", later)
    assert refused.value.detail == "'disable' is not allowed while the record is 'disabled'"
    assert refused.value.extensions == {"state": "disabled", "allowed_actions": ["enable", "rotate-secret"]}
    item.enable(later + timedelta(minutes=1))
    assert item.updated_at == later + timedelta(minutes=1)
    assert item.status is SubscriptionStatus.ACTIVE
    assert item.disabled_at is None
    assert item.disabled_reason is None
    assert item.version == 3
    with pytest.raises(InvalidTransition) as again:
        item.enable(later)
    assert again.value.detail == "'enable' is not allowed while the record is 'active'"
    assert again.value.extensions == {"state": "active", "allowed_actions": ["disable", "rotate-secret"]}
