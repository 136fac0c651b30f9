"""The unplanned outage rule (ISO/IEC 20000-1 6.3), pure: which outages need an investigation,
and when the incident service opens it itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.incident.domain.outages import (
    Outage,
    OutagePolicy,
    investigation_key,
    investigation_title,
    lacks_investigation,
    needs_investigation,
    over_threshold,
)

POLICY = OutagePolicy(threshold=timedelta(minutes=60), grace=timedelta(hours=24))
OPENED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _outage(minutes: float, **changes: object) -> Outage:
    outage = Outage(
        incident_id=uuid4(),
        number="INC0000042",
        title="Payments down",
        service_id=uuid4(),
        priority=3,
        major=True,
        opened_at=OPENED,
        resolved_at=OPENED + timedelta(minutes=minutes),
        problem_linked=False,
    )
    return replace(outage, **changes)  # type: ignore[arg-type]


def test_an_outage_over_the_threshold_needs_an_investigation_after_the_grace_only() -> None:
    outage = _outage(61)
    assert over_threshold(outage, POLICY)
    assert lacks_investigation(outage, POLICY)
    resolved = OPENED + timedelta(minutes=61)
    assert not needs_investigation(outage, POLICY, resolved + timedelta(hours=23, minutes=59))
    assert needs_investigation(outage, POLICY, resolved + timedelta(hours=24))
    assert needs_investigation(outage, POLICY, resolved + timedelta(days=30))


@pytest.mark.parametrize("minutes", [1, 59, 60])
def test_an_outage_at_or_under_the_threshold_needs_none(minutes: int) -> None:
    outage = _outage(minutes)
    assert not over_threshold(outage, POLICY)
    assert not lacks_investigation(outage, POLICY)
    assert not needs_investigation(outage, POLICY, OPENED + timedelta(days=30))


def test_an_outage_with_a_problem_linked_needs_none() -> None:
    outage = _outage(600, problem_linked=True)
    assert over_threshold(outage, POLICY)
    assert not lacks_investigation(outage, POLICY)
    assert not needs_investigation(outage, POLICY, OPENED + timedelta(days=30))


def test_what_counts_as_an_unplanned_outage() -> None:
    later = OPENED + timedelta(days=30)
    # priority 1 on a service is an outage, major or not; a major incident is one at any priority
    assert needs_investigation(_outage(120, major=False, priority=1), POLICY, later)
    assert needs_investigation(_outage(120, major=True, priority=4), POLICY, later)
    # neither priority 1 nor major; or on no service; or not resolved: not (yet) an outage to investigate
    assert not needs_investigation(_outage(120, major=False, priority=2), POLICY, later)
    assert not needs_investigation(_outage(120, service_id=None), POLICY, later)
    assert not needs_investigation(_outage(120, resolved_at=None), POLICY, later)


def test_no_grace_opens_at_the_resolution() -> None:
    policy = replace(POLICY, grace=timedelta(0))
    outage = _outage(90)
    assert needs_investigation(outage, policy, OPENED + timedelta(minutes=90))
    assert not needs_investigation(outage, policy, OPENED + timedelta(minutes=89))


def test_the_investigation_names_the_incident_and_service_and_is_keyed_by_the_incident() -> None:
    outage = _outage(90)
    assert investigation_title(outage, "Payments") == "Outage investigation: INC0000042 on Payments"
    assert investigation_key(outage.incident_id) == f"outage:{outage.incident_id}"
    assert investigation_key(outage.incident_id) != investigation_key(uuid4())
