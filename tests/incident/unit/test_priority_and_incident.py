"""Incident domain rules, without I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.incident.domain.incident_lifecycle import Channel, IncidentOpened, IncidentStatus
from services.incident.domain.incidents import Incident
from services.incident.domain.priority import Impact, Urgency, priority_for
from shared.errors import RuleViolation


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [(1, 1, 1), (1, 2, 2), (2, 1, 2), (1, 3, 3), (2, 2, 3), (3, 1, 3), (2, 3, 4), (3, 2, 4), (3, 3, 5)],
)
def test_priority_follows_the_impact_urgency_matrix(impact: int, urgency: int, priority: int) -> None:
    assert priority_for(Impact(impact), Urgency(urgency)) == priority


def test_a_custom_matrix_is_used_and_a_gap_in_it_is_a_rule_violation() -> None:
    matrix = {(Impact.HIGH, Urgency.HIGH): 2}
    assert priority_for(Impact.HIGH, Urgency.HIGH, matrix) == 2
    with pytest.raises(RuleViolation):
        priority_for(Impact.LOW, Urgency.LOW, matrix)


def _open(title: str = "Printer on fire") -> Incident:
    return Incident.open(
        incident_id=uuid.uuid4(),
        number="INC0000001",
        title=title,
        description="",
        caller="c",
        channel=Channel.PHONE,
        impact=Impact.MEDIUM,
        urgency=Urgency.HIGH,
        ci_id=None,
        now=datetime(2026, 3, 1, 9, tzinfo=UTC),
    )


def test_opening_records_a_new_incident_and_one_domain_event() -> None:
    incident = _open()
    assert incident.status is IncidentStatus.NEW
    assert incident.priority == 2
    assert incident.version == 1
    assert incident.pending_events == [IncidentOpened(incident.id)]


def test_an_incident_needs_a_title() -> None:
    with pytest.raises(RuleViolation, match="title"):
        _open("   ")
