"""Linking two CIs, or a CI and the supplier that supports it."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from services.config.domain.relationships import Relationship, RelationshipType, target_kind_of
from shared.errors import RuleViolation

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def test_a_link_keeps_its_ends_type_and_time() -> None:
    rel_id, source, target = uuid4(), uuid4(), uuid4()
    rel = Relationship.link(
        relationship_id=rel_id, source_id=source, kind=RelationshipType.RUNS_ON, target_id=target, now=NOW
    )
    assert (rel.id, rel.source_id, rel.type, rel.target_id, rel.created_at) == (
        rel_id,
        source,
        RelationshipType.RUNS_ON,
        target,
        NOW,
    )
    assert rel.target_kind == "ci"


def test_a_ci_cannot_be_related_to_itself() -> None:
    ci = uuid4()
    with pytest.raises(RuleViolation) as raised:
        Relationship.link(
            relationship_id=uuid4(), source_id=ci, kind=RelationshipType.DEPENDS_ON, target_id=ci, now=NOW
        )
    assert raised.value.detail
    assert [e["field"] for e in raised.value.extensions["errors"]] == ["target_id"]


def test_supported_by_points_at_a_supplier_and_every_other_type_at_a_ci() -> None:
    assert {kind: target_kind_of(kind) for kind in RelationshipType} == {
        RelationshipType.DEPENDS_ON: "ci",
        RelationshipType.RUNS_ON: "ci",
        RelationshipType.CONNECTS_TO: "ci",
        RelationshipType.MEMBER_OF: "ci",
        RelationshipType.BACKED_UP_BY: "ci",
        RelationshipType.SUPPORTED_BY: "supplier",
    }
