"""Alerts from monitoring as pure domain code: how an Alertmanager alert becomes an incident
(title, CI, impact and urgency from its labels), and when monitoring may resolve it (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final
from uuid import UUID

from services.incident.domain.incident_lifecycle import IncidentStatus
from services.incident.domain.priority import AffectedCI, Impact, Urgency

SYSTEM_ACTOR_PREFIX: Final = "system:"
"""Actors whose entries in an incident's history are automation, not people."""

AUTO_RESOLUTION_CODE: Final = "resolved_by_monitoring"

_LEVELS: Final[dict[str, int]] = {
    "1": 1,
    "high": 1,
    "critical": 1,
    "2": 2,
    "medium": 2,
    "moderate": 2,
    "3": 3,
    "low": 3,
}
# Prometheus' customary `severity` label, when no `urgency` label says otherwise.
_SEVERITY_URGENCY: Final[dict[str, int]] = {
    "critical": 1,
    "page": 1,
    "error": 2,
    "major": 2,
    "warning": 2,
    "minor": 3,
    "info": 3,
    "none": 3,
}


class DuringChangePolicy(StrEnum):
    """What an alert on a CI inside the window of a change being implemented on it does."""

    LOWER_PRIORITY = "lower_priority"  # the incident opens with urgency low (so a lower priority)
    ANNOTATE = "annotate"  # only annotated with the change


@dataclass(frozen=True)
class AlertDefaults:
    ci_label: str = "ci_id"
    impact: Impact = Impact.MEDIUM
    urgency: Urgency = Urgency.MEDIUM
    during_change: DuringChangePolicy = DuringChangePolicy.LOWER_PRIORITY


@dataclass(frozen=True)
class IncidentFromAlert:
    title: str
    description: str
    ci_id: UUID | None
    impact: Impact
    urgency: Urgency
    notes: tuple[str, ...]
    """What the intake could not take from the labels (a CI label that is not a UUID, ...)."""
    category: str | None = None
    """The `category` label (`capacity` on config's capacity alerts), up to 100 characters."""


@dataclass(frozen=True)
class NamedCI:
    """A CI an alert's CI label may name, as the CI read model knows it."""

    id: UUID
    number: str
    name: str
    retired: bool = False
    serial: str | None = None
    hostname: str | None = None
    fqdn: str | None = None
    cloud_id: str | None = None


# What a CI label may call a CI by, the most specific first: the CMDB number, then config's
# identification order (cloud id, serial, FQDN, host name), the name (not unique) last.
CI_NAMES: Final = ("number", "cloud_id", "serial", "fqdn", "hostname", "name")
_EXACT: Final = frozenset({"serial", "cloud_id"})  # the others compare without case


def ci_reference(labels: Mapping[str, str], defaults: AlertDefaults) -> str | None:
    """The CI label's value when it names a CI other than by its id (not a UUID)."""
    raw = (labels.get(defaults.ci_label) or "").strip()
    if not raw:
        return None
    try:
        UUID(raw)
    except ValueError:
        return raw
    return None


def ci_named(reference: str, known: Iterable[NamedCI]) -> tuple[UUID | None, str | None]:
    """The CI `reference` names among `known`, by the first of `CI_NAMES` any of them is called
    by; a CI in service is preferred over retired ones. (None, why) when it names none, or
    several CIs in service (or only several retired ones)."""
    ref = reference.strip()
    candidates = list(known)
    for kind in CI_NAMES:
        called = [c for c in candidates if _is_called(getattr(c, kind), ref, exact=kind in _EXACT)]
        if not called:
            continue
        in_service = [c for c in called if not c.retired]
        chosen = in_service or called
        if len(chosen) == 1:
            return chosen[0].id, None
        numbers = ", ".join(sorted(c.number for c in chosen))
        return None, f"names several CIs ({numbers})"
    return None, "is not a CI id (a UUID), nor the number, name, host name or identifier of a CI known here"


def _is_called(value: str | None, reference: str, *, exact: bool) -> bool:
    if not value:
        return False
    return value == reference if exact else value.lower() == reference.lower()


def _level(value: str | None) -> int | None:
    return _LEVELS.get((value or "").strip().lower())


def incident_from_alert(
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    *,
    starts_at: datetime,
    generator_url: str,
    fingerprint: str,
    defaults: AlertDefaults,
    known: Sequence[NamedCI] = (),
) -> IncidentFromAlert:
    """The incident an alert opens. `known`: the CIs a CI label that is not a UUID may name (by
    number, name, host name or another identifier; see `ci_named`)."""
    notes: list[str] = []
    name = labels.get("alertname") or "alert"
    summary = (annotations.get("summary") or "").strip()
    title = f"{name}: {summary}" if summary else name
    ci_id: UUID | None = None
    raw_ci = labels.get(defaults.ci_label)
    if raw_ci:
        try:
            ci_id = UUID(raw_ci.strip())
        except ValueError:
            ci_id, why = ci_named(raw_ci, known)
            if why is not None:
                notes.append(f"label {defaults.ci_label}={raw_ci!r} {why}; no CI recorded")
    impact = _level(labels.get("impact")) or int(defaults.impact)
    urgency = (
        _level(labels.get("urgency"))
        or _SEVERITY_URGENCY.get((labels.get("severity") or "").strip().lower())
        or int(defaults.urgency)
    )
    lines = [annotations.get("description", "").strip()]
    lines.append(f"Alert {name} (fingerprint {fingerprint}) firing since {starts_at.isoformat()}.")
    if generator_url:
        lines.append(f"Source: {generator_url}")
    lines.append("Labels: " + ", ".join(f"{k}={v}" for k, v in sorted(labels.items())))
    lines.extend(notes)
    return IncidentFromAlert(
        title=title[:200],
        description="\n".join(line for line in lines if line)[:20_000],
        ci_id=ci_id,
        impact=Impact(impact),
        urgency=Urgency(urgency),
        notes=tuple(notes),
        category=(labels.get("category") or "").strip()[:100] or None,
    )


def apply_change_window(
    incident: IncidentFromAlert, change_number: str | None, policy: DuringChangePolicy
) -> IncidentFromAlert:
    """An alert raised while a change is being implemented on its CI is expected noise, mostly."""
    if change_number is None:
        return incident
    note = f"Raised during change {change_number}, being implemented on this CI."
    urgency = Urgency.LOW if policy is DuringChangePolicy.LOWER_PRIORITY else incident.urgency
    if urgency is not incident.urgency:
        note += " Urgency lowered to low by the during-change policy; not escalated."
    return IncidentFromAlert(
        title=incident.title,
        description=f"{incident.description}\n{note}"[:20_000],
        ci_id=incident.ci_id,
        impact=incident.impact,
        urgency=urgency,
        notes=(*incident.notes, note),
    )


def on_known_ci(incident: IncidentFromAlert, ci: AffectedCI | None) -> IncidentFromAlert:
    """An incident is recorded only on a CI the CMDB knows and has not retired (`check_ci`); an
    alert on another CI still opens its incident, without the CI, saying why in the description."""
    if incident.ci_id is None or (ci is not None and not ci.retired):
        return incident
    why = "is retired in the CMDB" if ci is not None else "is not known here (not in the CMDB, or not yet told)"
    note = f"Configuration item {incident.ci_id} {why}; no CI recorded."
    return IncidentFromAlert(
        title=incident.title,
        description=f"{incident.description}\n{note}"[:20_000],
        ci_id=None,
        impact=incident.impact,
        urgency=incident.urgency,
        notes=(*incident.notes, note),
    )


RESOLVABLE: Final = frozenset(
    {IncidentStatus.NEW, IncidentStatus.ASSIGNED, IncidentStatus.IN_PROGRESS, IncidentStatus.ON_HOLD}
)


def monitoring_may_resolve(status: IncidentStatus, opened_by: str, history_actors: Iterable[str]) -> bool:
    """Monitoring resolves an incident it opened only while no person has acted on it: every
    entry in its history is monitoring's own or automation's (`system:...`)."""
    if status not in RESOLVABLE:
        return False
    return all(actor == opened_by or actor.startswith(SYSTEM_ACTOR_PREFIX) for actor in history_actors)
