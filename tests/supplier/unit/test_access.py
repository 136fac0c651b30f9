"""The external-party access register's domain: the lifecycle table, reviews, and what the access
watcher finds due (review date, expiry)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from services.supplier.domain.access import (
    OPEN,
    TRANSITIONS,
    AccessGrant,
    AccessMoved,
    AccessRequested,
    AccessType,
    Classification,
    GrantAction,
    GrantStatus,
    Review,
    ReviewOutcome,
)
from shared.errors import InvalidTransition, RuleViolation

T0 = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
A, S = GrantAction, GrantStatus


def requested(**overrides: Any) -> AccessGrant:
    values: dict[str, Any] = {
        "grant_id": uuid4(),
        "number": "ACC0000001",
        "supplier_id": uuid4(),
        "contract_id": uuid4(),
        "legal_basis": "DPA clause 7",
        "service_id": None,
        "ci_id": None,
        "system": "payroll database",
        "access_type": AccessType.REMOTE_SUPPORT,
        "classification": Classification.CONFIDENTIAL,
        "purpose": "third-line support of the payroll system",
        "holders": ["anna@vendor.example", "  ", "bert@vendor.example", "anna@vendor.example"],
        "owner": "olga",
        "expires_on": T0 + timedelta(days=365),
        "review_interval_days": 90,
        "actor": "ivan",
        "now": T0,
    }
    return AccessGrant.request(**{**values, **overrides})


def granted(**overrides: Any) -> AccessGrant:
    grant = requested(**overrides)
    grant.grant(actor="olga", now=T0)
    grant.pending_events.clear()
    return grant


def test_the_lifecycle_table_is_what_the_register_promises() -> None:
    assert {s: dict(t) for s, t in TRANSITIONS.items()} == {
        S.REQUESTED: {A.GRANT: S.GRANTED, A.REVOKE: S.REVOKED},
        S.GRANTED: {A.REVIEW: S.GRANTED, A.REVOKE: S.REVOKED, A.MARK_REVIEW_DUE: S.UNDER_REVIEW, A.EXPIRE: S.EXPIRED},
        S.UNDER_REVIEW: {A.REVIEW: S.GRANTED, A.REVOKE: S.REVOKED, A.EXPIRE: S.EXPIRED},
        S.REVOKED: {},
        S.EXPIRED: {},
    }


def test_a_request_records_its_holders_once_each_and_is_not_in_force() -> None:
    grant = requested()
    assert grant.status is S.REQUESTED and not grant.in_force
    assert grant.holders == ("anna@vendor.example", "bert@vendor.example")
    assert grant.allowed_actions() == ["grant", "revoke"]
    assert [type(e) for e in grant.pending_events] == [AccessRequested]
    assert grant.due_action(T0 + timedelta(days=1000)) is None  # never granted: nothing to watch


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"system": "", "service_id": None, "ci_id": None}, ["system"]),
        ({"holders": [" "]}, ["holders"]),
        ({"expires_on": T0}, ["expires_on"]),
        ({"review_interval_days": 0, "owner": " "}, ["owner", "review_interval_days"]),
    ],
)
def test_a_request_names_each_field_it_breaks(overrides: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(RuleViolation) as raised:
        requested(**overrides)
    assert sorted(e["field"] for e in raised.value.extensions["errors"]) == fields


def test_granting_sets_the_first_review_and_never_past_the_expiry() -> None:
    grant = requested()
    grant.grant(actor="olga", now=T0, note="approved by CISO")
    assert (grant.status, grant.granted_by, grant.granted_on) == (S.GRANTED, "olga", T0)
    assert grant.next_review_on == T0 + timedelta(days=90)
    [moved] = [e for e in grant.pending_events if isinstance(e, AccessMoved)]
    assert moved.changes["status"] == ("requested", "granted") and moved.reason == "approved by CISO"
    short = granted(expires_on=T0 + timedelta(days=30))
    assert short.next_review_on == T0 + timedelta(days=30)


def test_a_bad_transition_lists_the_allowed_actions_and_system_actions_are_not_offered() -> None:
    grant = granted()
    assert grant.allowed_actions() == ["review", "revoke"]
    with pytest.raises(InvalidTransition) as raised:
        grant.grant(actor="olga", now=T0)
    assert raised.value.extensions["allowed_actions"] == ["review", "revoke"]
    grant.revoke(reason="contract ended early", actor="olga", now=T0)
    for act in (
        lambda: grant.review(Review(ReviewOutcome.KEEP), actor="olga", now=T0),
        lambda: grant.revoke(reason="again", actor="olga", now=T0),
    ):
        with pytest.raises(InvalidTransition) as again:
            act()
        assert again.value.extensions["allowed_actions"] == []


def test_the_watcher_puts_a_grant_under_review_when_due_and_expires_it_at_its_expiry() -> None:
    grant = granted()
    assert grant.due_action(T0 + timedelta(days=89)) is None
    assert grant.due_action(T0 + timedelta(days=90)) is A.MARK_REVIEW_DUE
    assert grant.due_action(T0 + timedelta(days=365)) is A.EXPIRE  # expiry wins over a review due
    grant.mark_review_due(now=T0 + timedelta(days=90))
    assert grant.status is S.UNDER_REVIEW and grant.allowed_actions() == ["review", "revoke"]
    assert grant.due_action(T0 + timedelta(days=100)) is None  # under review: raised once
    assert grant.due_action(T0 + timedelta(days=365)) is A.EXPIRE
    grant.expire(now=T0 + timedelta(days=365))
    assert grant.status is S.EXPIRED and grant.due_action(T0 + timedelta(days=999)) is None


def test_a_review_that_keeps_the_access_moves_the_next_review_date_on() -> None:
    grant = granted()
    at = T0 + timedelta(days=95)
    grant.mark_review_due(now=at)
    grant.review(Review(ReviewOutcome.KEEP, notes="still needed"), actor="rita", now=at)
    assert grant.status is S.GRANTED
    assert grant.next_review_on == at + timedelta(days=90)
    assert (grant.last_reviewed_by, grant.last_review_outcome, grant.last_review_notes) == (
        "rita",
        ReviewOutcome.KEEP,
        "still needed",
    )
    moved = grant.pending_events[-1]
    assert isinstance(moved, AccessMoved) and moved.changes["status"] == ("under_review", "granted")
    assert moved.changes["next_review_on"][1] == (at + timedelta(days=90)).isoformat()


def test_a_reduction_drops_holders_or_brings_the_expiry_earlier_and_says_why() -> None:
    grant = granted()
    with pytest.raises(RuleViolation) as no_notes:
        grant.review(Review(ReviewOutcome.REDUCE, holders=("anna@vendor.example",)), actor="rita", now=T0)
    assert no_notes.value.extensions["errors"][0]["field"] == "notes"
    with pytest.raises(RuleViolation) as nothing:
        grant.review(Review(ReviewOutcome.REDUCE, notes="less"), actor="rita", now=T0)
    assert nothing.value.extensions["errors"][0]["field"] == "outcome"
    with pytest.raises(RuleViolation) as more:
        grant.review(Review(ReviewOutcome.REDUCE, notes="x", holders=("carl@vendor.example",)), actor="r", now=T0)
    assert more.value.extensions["errors"][0]["field"] == "holders"
    earlier = T0 + timedelta(days=60)
    grant.review(
        Review(ReviewOutcome.REDUCE, notes="bert left", holders=("anna@vendor.example",), expires_on=earlier),
        actor="rita",
        now=T0 + timedelta(days=1),
    )
    assert grant.holders == ("anna@vendor.example",) and grant.expires_on == earlier
    assert grant.next_review_on == earlier  # capped at the new expiry
    assert grant.status is S.GRANTED


def test_a_review_that_revokes_ends_the_grant() -> None:
    grant = granted()
    grant.review(Review(ReviewOutcome.REVOKE, notes="no longer used"), actor="rita", now=T0)
    assert grant.status is S.REVOKED and grant.ended_reason == "no longer used"
    assert grant.due_action(T0 + timedelta(days=999)) is None


def test_a_revocation_needs_a_reason() -> None:
    grant = granted()
    with pytest.raises(RuleViolation) as raised:
        grant.revoke(reason=" ", actor="olga", now=T0)
    assert raised.value.extensions["errors"][0]["field"] == "reason"
    assert grant.status is S.GRANTED


def test_a_grant_still_open_ends_with_its_contract_naming_it() -> None:
    assert {s for s, actions in TRANSITIONS.items() if A.REVOKE in actions} == OPEN
    under_review = granted()
    under_review.mark_review_due(now=T0)
    for grant in (requested(), granted(), under_review):
        grant.pending_events.clear()
        grant.end_with_contract("CTR0000007", "terminated", actor="olga", now=T0 + timedelta(days=1))
        assert grant.status is S.REVOKED and grant.ended_reason == "contract CTR0000007 terminated"
        [moved] = grant.pending_events
        assert isinstance(moved, AccessMoved)
        assert (moved.action, moved.actor, moved.reason) == (A.REVOKE, "olga", "contract CTR0000007 terminated")
    with pytest.raises(InvalidTransition):
        under_review.end_with_contract("CTR0000007", "expired", actor="expiry-watcher", now=T0)
