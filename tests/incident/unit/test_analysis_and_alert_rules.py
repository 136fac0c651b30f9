"""The pure rules of problem analysis (clusters, known error matching) and of the alert intake
(an alert's labels to an incident, the change window policy, when monitoring may resolve)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.incident.domain.alerts import (
    AlertDefaults,
    DuringChangePolicy,
    apply_change_window,
    incident_from_alert,
    monitoring_may_resolve,
)
from services.incident.domain.analysis import IncidentFact, RecurrencePolicy, clusters_of, recurrence_title
from services.incident.domain.incident_lifecycle import IncidentStatus
from services.incident.domain.known_errors import KnownError, KnownErrorStatus, known_error_matches
from services.incident.domain.priority import Impact, Urgency
from shared.errors import RuleViolation

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
CI, SERVICE = uuid.uuid4(), uuid.uuid4()


def fact(**values: object) -> IncidentFact:
    return IncidentFact(incident_id=uuid.uuid4(), number="INC0000001", opened_at=NOW, **values)  # type: ignore[arg-type]


def test_an_incident_belongs_to_its_ci_cluster_first_then_its_service_and_category() -> None:
    both = clusters_of(fact(ci_id=CI, service_id=SERVICE, category="Email"))
    assert [c.key for c in both] == [f"ci:{CI}", f"service:{SERVICE}:email"]
    assert clusters_of(fact(service_id=SERVICE)) == []  # a service without a category is not a cluster
    assert clusters_of(fact(category="email")) == []
    assert "3 on CI" in recurrence_title(both[0], 3, timedelta(days=7))
    assert "category 'Email'" in recurrence_title(both[1], 4, timedelta(days=1))


def test_recurrence_needs_the_threshold_and_at_least_two() -> None:
    policy = RecurrencePolicy(threshold=3, window=timedelta(days=7))
    assert not policy.recurring(2)
    assert policy.recurring(3)
    with pytest.raises(RuleViolation):
        RecurrencePolicy(threshold=1, window=timedelta(days=1))


def known_error(**values: object) -> KnownError:
    base: dict[str, object] = {
        "id": uuid.uuid4(),
        "number": "KE0000001",
        "problem_id": uuid.uuid4(),
        "title": "t",
        "symptoms": "",
        "root_cause": "r",
        "workaround": "w",
        "status": KnownErrorStatus.ACTIVE,
        "created_at": NOW,
        "updated_at": NOW,
    }
    base.update(values)
    return KnownError(**base)  # type: ignore[arg-type]


def test_a_known_error_matches_the_same_ci_or_the_same_service_and_category_while_active() -> None:
    on_ci = known_error(ci_id=CI)
    assert known_error_matches(on_ci, ci_id=CI, service_id=None, category=None)
    assert not known_error_matches(on_ci, ci_id=uuid.uuid4(), service_id=None, category=None)
    on_service = known_error(service_id=SERVICE, category="Email")
    assert known_error_matches(on_service, ci_id=None, service_id=SERVICE, category="email")
    assert not known_error_matches(on_service, ci_id=None, service_id=SERVICE, category="network")
    assert not known_error_matches(on_service, ci_id=None, service_id=SERVICE, category=None)
    retired = known_error(ci_id=CI, status=KnownErrorStatus.RETIRED)
    assert not known_error_matches(retired, ci_id=CI, service_id=None, category=None)


DEFAULTS = AlertDefaults()


def test_an_alert_becomes_an_incident_titled_by_name_and_summary_with_its_ci_and_levels_from_labels() -> None:
    made = incident_from_alert(
        {"alertname": "DiskFull", "ci_id": str(CI), "impact": "high", "severity": "critical"},
        {"summary": "db01 /var at 99%", "description": "The disk is full."},
        starts_at=NOW,
        generator_url="http://prometheus/graph",
        fingerprint="abc",
        defaults=DEFAULTS,
    )
    assert made.title == "DiskFull: db01 /var at 99%"
    assert made.ci_id == CI
    assert (made.impact, made.urgency) == (Impact.HIGH, Urgency.HIGH)
    assert "The disk is full." in made.description and "http://prometheus/graph" in made.description
    assert made.notes == ()
    assert made.category is None


def test_an_alerts_category_label_is_the_incidents_category() -> None:
    labels = {"alertname": "CapacityCritical", "category": " capacity "}
    made = incident_from_alert(labels, {}, starts_at=NOW, generator_url="", fingerprint="c", defaults=DEFAULTS)
    assert made.category == "capacity"
    long = incident_from_alert(
        {**labels, "category": "x" * 150}, {}, starts_at=NOW, generator_url="", fingerprint="c", defaults=DEFAULTS
    )
    assert long.category == "x" * 100
    blank = incident_from_alert(
        {**labels, "category": "  "}, {}, starts_at=NOW, generator_url="", fingerprint="c", defaults=DEFAULTS
    )
    assert blank.category is None


def test_an_alert_without_levels_takes_the_defaults_and_a_bad_ci_label_is_noted_not_fatal() -> None:
    made = incident_from_alert(
        {"alertname": "Slow", "ci_id": "db01"},
        {},
        starts_at=NOW,
        generator_url="",
        fingerprint="f",
        defaults=AlertDefaults(impact=Impact.LOW, urgency=Urgency.MEDIUM),
    )
    assert made.title == "Slow"
    assert made.ci_id is None
    assert (made.impact, made.urgency) == (Impact.LOW, Urgency.MEDIUM)
    assert "not a CI id" in made.notes[0]
    urgent = incident_from_alert(
        {"alertname": "X", "urgency": "1", "severity": "info"},
        {},
        starts_at=NOW,
        generator_url="",
        fingerprint="f",
        defaults=DEFAULTS,
    )
    assert urgent.urgency is Urgency.HIGH  # an urgency label wins over severity


def test_during_a_change_the_policy_lowers_urgency_or_only_annotates() -> None:
    made = incident_from_alert(
        {"alertname": "Down", "severity": "critical"},
        {},
        starts_at=NOW,
        generator_url="",
        fingerprint="f",
        defaults=DEFAULTS,
    )
    assert apply_change_window(made, None, DuringChangePolicy.LOWER_PRIORITY) == made
    lowered = apply_change_window(made, "CHG0000007", DuringChangePolicy.LOWER_PRIORITY)
    assert lowered.urgency is Urgency.LOW
    assert "CHG0000007" in lowered.description and "not escalated" in lowered.description
    annotated = apply_change_window(made, "CHG0000007", DuringChangePolicy.ANNOTATE)
    assert annotated.urgency is Urgency.HIGH
    assert "CHG0000007" in annotated.description


def test_monitoring_resolves_only_what_no_person_has_touched() -> None:
    assert monitoring_may_resolve(IncidentStatus.NEW, "alertmanager", [])
    assert monitoring_may_resolve(IncidentStatus.NEW, "alertmanager", ["alertmanager", "system:problem-analysis"])
    assert not monitoring_may_resolve(IncidentStatus.ASSIGNED, "alertmanager", ["alertmanager", "ann"])
    assert not monitoring_may_resolve(IncidentStatus.RESOLVED, "alertmanager", [])
    assert not monitoring_may_resolve(IncidentStatus.CANCELLED, "alertmanager", [])
