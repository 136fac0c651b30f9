"""The rules problem analysis applies to incidents (no I/O): clusters of incidents that count
together, recurrence, and the window in which a change is a probable cause."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from shared.errors import RuleViolation


@dataclass(frozen=True)
class IncidentFact:
    """What problem analysis knows of an incident (from incident.created.v1)."""

    incident_id: UUID
    number: str
    opened_at: datetime
    ci_id: UUID | None = None
    service_id: UUID | None = None
    category: str | None = None


@dataclass(frozen=True)
class Cluster:
    """Incidents that count together: same CI, or same service and category."""

    key: str
    ci_id: UUID | None = None
    service_id: UUID | None = None
    category: str | None = None

    def describe(self, names: Mapping[UUID, str] | None = None) -> str:
        """Where the incidents are, for people: the CI (or service) by its name when `names`
        (from the CI read model) has it, else by its id."""
        known = names or {}
        if self.ci_id is not None:
            return f"CI {known.get(self.ci_id, self.ci_id)}"
        service = known.get(self.service_id, self.service_id) if self.service_id else self.service_id
        return f"category '{self.category}' on service {service}"


def clusters_of(fact: IncidentFact) -> list[Cluster]:
    """The clusters an incident belongs to, the most specific (the CI) first."""
    found = []
    if fact.ci_id is not None:
        found.append(Cluster(f"ci:{fact.ci_id}", ci_id=fact.ci_id))
    if fact.service_id is not None and fact.category:
        found.append(
            Cluster(
                f"service:{fact.service_id}:{fact.category.lower()}",
                service_id=fact.service_id,
                category=fact.category,
            )
        )
    return found


@dataclass(frozen=True)
class RecurrencePolicy:
    threshold: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.threshold < 2:
            raise RuleViolation("recurrence needs at least two incidents", field="threshold")

    def recurring(self, facts_in_window: int) -> bool:
        return facts_in_window >= self.threshold


def recurrence_title(cluster: Cluster, count: int, window: timedelta, names: Mapping[UUID, str] | None = None) -> str:
    days = window / timedelta(days=1)
    span = f"{days:g} day{'s' if days != 1 else ''}"
    return f"Recurring incidents: {count} on {cluster.describe(names)} within {span}"[:200]


def probable_cause_window(implemented_at: datetime, window: timedelta) -> tuple[datetime, datetime]:
    """Incidents opened in this span on a changed CI are linked to the change as probable cause."""
    return implemented_at, implemented_at + window
