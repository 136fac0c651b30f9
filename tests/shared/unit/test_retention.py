"""Records control's pure rules (ISO/IEC 20000-1 4.3.3): a retention policy's period, a legal
hold's reach, and the decision for one record: dispose of it, or keep it because it is held, not
due yet, or under no policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from shared.errors import InvalidTransition, RuleViolation
from shared.retention import Decision, RetentionPolicy, decide, define_policy, place_hold, release_hold

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
RECORD = uuid4()


def _policy(days: int = 30) -> RetentionPolicy:
    return define_policy("incident", days, "closed_at", ("closed_at",), by="admin", now=NOW, current=None)


def test_a_record_past_its_period_is_disposed_of_and_one_inside_it_is_kept() -> None:
    policy = _policy(30)
    assert decide("incident", RECORD, NOW - timedelta(days=30), policy, [], NOW) is Decision.DISPOSE
    assert decide("incident", RECORD, NOW - timedelta(days=30, seconds=-1), policy, [], NOW) is Decision.NOT_DUE
    assert policy.cutoff(NOW) == NOW - timedelta(days=30)
    assert policy.due_at(NOW) == NOW + timedelta(days=30)


def test_a_record_whose_timestamp_is_not_set_is_never_due() -> None:
    assert decide("incident", RECORD, None, _policy(1), [], NOW) is Decision.NOT_DUE
    assert _policy().due_at(None) is None


def test_without_a_policy_nothing_is_disposed_of() -> None:
    assert decide("incident", RECORD, NOW - timedelta(days=10_000), None, [], NOW) is Decision.NO_POLICY


def test_a_hold_on_the_record_keeps_it_however_old() -> None:
    hold = place_hold(uuid4(), "incident", RECORD, "litigation 42", None, by="legal", now=NOW)
    old = NOW - timedelta(days=365)
    assert decide("incident", RECORD, old, _policy(), [hold], NOW) is Decision.HELD
    assert decide("incident", uuid4(), old, _policy(), [hold], NOW) is Decision.DISPOSE
    assert decide("request", RECORD, old, _policy(), [hold], NOW) is Decision.DISPOSE


def test_a_hold_on_the_type_keeps_every_record_of_it_and_no_other() -> None:
    hold = place_hold(uuid4(), "incident", None, "regulator's inquiry", None, by="legal", now=NOW)
    old = NOW - timedelta(days=365)
    assert decide("incident", uuid4(), old, _policy(), [hold], NOW) is Decision.HELD
    assert decide("request", uuid4(), old, _policy(), [hold], NOW) is Decision.DISPOSE


def test_a_hold_ends_when_released_or_at_its_until() -> None:
    until = NOW + timedelta(days=10)
    hold = place_hold(uuid4(), "incident", RECORD, "audit", until, by="legal", now=NOW)
    old = NOW - timedelta(days=365)
    assert decide("incident", RECORD, old, _policy(), [hold], until - timedelta(seconds=1)) is Decision.HELD
    assert decide("incident", RECORD, old, _policy(), [hold], until) is Decision.DISPOSE
    released = release_hold(hold, "settled", by="legal", now=NOW + timedelta(days=1))
    assert (released.released_by, released.release_reason) == ("legal", "settled")
    assert decide("incident", RECORD, old, _policy(), [released], NOW + timedelta(days=2)) is Decision.DISPOSE


def test_a_released_or_expired_hold_cannot_be_released_again() -> None:
    hold = place_hold(uuid4(), "incident", RECORD, "audit", NOW + timedelta(days=1), by="legal", now=NOW)
    released = release_hold(hold, "", by="legal", now=NOW)
    assert released.release_reason is None
    with pytest.raises(InvalidTransition):
        release_hold(released, "again", by="legal", now=NOW)
    with pytest.raises(InvalidTransition):
        release_hold(hold, "late", by="legal", now=NOW + timedelta(days=2))


def test_a_hold_says_why_and_ends_in_the_future() -> None:
    with pytest.raises(RuleViolation) as blank:
        place_hold(uuid4(), "incident", RECORD, "  ", None, by="legal", now=NOW)
    assert blank.value.extensions["errors"][0]["field"] == "reason"
    with pytest.raises(RuleViolation) as past:
        place_hold(uuid4(), "incident", RECORD, "audit", NOW, by="legal", now=NOW)
    assert past.value.extensions["errors"][0]["field"] == "until"
    with pytest.raises(RuleViolation) as far:
        place_hold(uuid4(), "incident", RECORD, "audit", NOW + timedelta(days=36_501), by="legal", now=NOW)
    assert far.value.extensions["errors"][0]["field"] == "until"


def test_a_policy_counts_from_a_named_timestamp_for_a_bounded_period_and_each_change_is_a_version() -> None:
    first = _policy(30)
    assert (first.version, first.counted_from, first.updated_by) == (1, "closed_at", "admin")
    second = define_policy("incident", 90, "closed_at", ("closed_at",), by="root", now=NOW, current=first)
    assert (second.version, second.retain_days, second.updated_by) == (2, 90, "root")
    for days, field in ((0, "retain_days"), (36_501, "retain_days")):
        with pytest.raises(RuleViolation) as bad:
            define_policy("incident", days, "closed_at", ("closed_at",), by="a", now=NOW, current=None)
        assert bad.value.extensions["errors"][0]["field"] == field
    with pytest.raises(RuleViolation) as unknown:
        define_policy("incident", 30, "opened_at", ("closed_at",), by="a", now=NOW, current=None)
    assert unknown.value.extensions["errors"][0]["field"] == "counted_from"
