"""Alert intake from Prometheus Alertmanager: firing alerts open (or count on) an incident,
resolved alerts note it and resolve the incident when monitoring may. One notification is one
transaction: all of its alerts are applied, or none."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from services.incident.domain.alerts import (
    AUTO_RESOLUTION_CODE,
    AlertDefaults,
    DuringChangePolicy,
    apply_change_window,
    ci_reference,
    incident_from_alert,
    monitoring_may_resolve,
    on_known_ci,
)
from services.incident.domain.incident_lifecycle import Channel
from services.incident.domain.incidents import Incident
from services.incident.domain.priority import Impact, Urgency
from services.incident.store.alerts import (
    add_alert,
    bump_alert,
    cis_called,
    open_alert,
    seen_firing_since,
    update_alert,
)
from services.incident.store.analysis import change_being_implemented, lock_key
from services.incident.store.incident_links import add_incident_note, history_actors
from services.incident.store.incidents import IncidentRepository, affected_ci
from services.incident.store.sla import SlaClockRepository
from services.incident.usecases import sla
from services.incident.usecases.incidents import emit_events
from shared import clock
from shared.events.config import CapacityThresholdBreached, CapacityThresholdCleared
from shared.messaging import NotYet
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class Alert:
    status: str  # firing | resolved
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str
    fingerprint: str

    @property
    def key(self) -> str:
        """Alertmanager's fingerprint, or one made from the labels when a sender leaves it out."""
        if self.fingerprint:
            return self.fingerprint
        canonical = "\x00".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Notification:
    receiver: str
    alerts: list[Alert]
    sender: str  # the token's subject: recorded as the incident's caller and as the actor


@dataclass(frozen=True)
class AlertOutcome:
    fingerprint: str
    status: str
    action: str  # opened | updated | resolved | noted | ignored
    incident_id: UUID | None
    incident_number: str | None
    occurrences: int
    change_number: str | None = None


def defaults_of(settings: Any) -> AlertDefaults:
    return AlertDefaults(
        ci_label=str(getattr(settings, "alert_ci_label", "ci_id")),
        impact=Impact(int(getattr(settings, "alert_default_impact", 2))),
        urgency=Urgency(int(getattr(settings, "alert_default_urgency", 2))),
        during_change=DuringChangePolicy(str(getattr(settings, "alert_during_change", "lower_priority"))),
    )


async def receive(notification: Notification, uow: UnitOfWork, defaults: AlertDefaults) -> list[AlertOutcome]:
    async with uow:
        outcomes = await _apply(notification, uow, defaults)
        await uow.commit()
    return outcomes


async def _apply(notification: Notification, uow: UnitOfWork, defaults: AlertDefaults) -> list[AlertOutcome]:
    outcomes = []
    for alert in notification.alerts:
        await lock_key(uow.connection, f"alert:{alert.key}")  # one incident per alert, also with replicas
        if alert.status == "firing":
            outcomes.append(await _fire(alert, notification, uow, defaults))
        else:
            outcomes.append(await _resolve(alert, notification, uow))
    return outcomes


CAPACITY_CATEGORY = "capacity"
"""The category of incidents opened by a capacity breach: reporting's performance incidents."""
CAPACITY_SENDER = "system:capacity"
"""The caller and actor of incidents opened by config's capacity job."""


class BreachNotTakenInYet(NotYet):
    """A clearing came before the breach it ends: the consumer delivers it again later (its retry
    queue), by when the breach, published first, has been taken in by this or another worker."""


async def on_capacity_crossing(data: CapacityThresholdBreached | CapacityThresholdCleared, uow: UnitOfWork) -> None:
    """A critical capacity breach is an alert on its CI, taken in like Alertmanager's (one incident
    per CI and metric, counted on while it lasts); its clearing resolves it the way a resolved
    alert does. Warnings open nothing here. The consumer holds the unit of work and commits.

    Two workers may take a CI's breach and its clearing at once, and the clearing first: one that
    names its breach (`breached_at`) waits for it instead of finding no alert and leaving the
    breach's incident open for good."""
    if data.level != "critical":
        return
    firing = isinstance(data, CapacityThresholdBreached)
    fingerprint = "capacity:" + hashlib.sha256(f"{data.ci_id}:{data.metric}".encode()).hexdigest()[:32]
    if isinstance(data, CapacityThresholdCleared) and data.breached_at is not None:
        await lock_key(uow.connection, f"alert:{fingerprint}")
        if not await seen_firing_since(uow.connection, fingerprint, data.breached_at):
            raise BreachNotTakenInYet(f"{fingerprint}: its breach at {data.breached_at.isoformat()} is not in yet")
    summary = f"{data.metric} at {data.value:g} {data.unit}, critical threshold {data.critical:g}"
    alert = Alert(
        status="firing" if firing else "resolved",
        labels={
            "alertname": "CapacityCritical",
            "ci_id": str(data.ci_id),
            "metric": data.metric,
            "category": CAPACITY_CATEGORY,
            "severity": "critical",
        },
        annotations={
            "summary": summary,
            "description": f"Sampled at {data.sampled_at.isoformat()} by the CMDB's capacity job.",
        },
        starts_at=data.sampled_at,
        ends_at=None if firing else data.sampled_at,
        generator_url="",
        fingerprint=fingerprint,
    )
    notification = Notification(receiver="capacity", alerts=[alert], sender=CAPACITY_SENDER)
    await _apply(notification, uow, AlertDefaults(ci_label="ci_id"))


async def _fire(alert: Alert, notification: Notification, uow: UnitOfWork, defaults: AlertDefaults) -> AlertOutcome:
    conn = uow.connection
    now = clock.now()
    current = await open_alert(conn, alert.key)
    if current is not None:
        await bump_alert(
            conn,
            current.id,
            {
                "status": "firing",
                "labels": dict(alert.labels),
                "annotations": dict(alert.annotations),
                "ends_at": None,
                "last_seen_at": now,
            },
        )
        number = await _number_of(uow, current.incident_id)
        return AlertOutcome(
            alert.key, "firing", "updated", current.incident_id, number, current.occurrences + 1, current.change_number
        )
    reference = ci_reference(alert.labels, defaults)
    spec = incident_from_alert(
        alert.labels,
        alert.annotations,
        starts_at=alert.starts_at,
        generator_url=alert.generator_url,
        fingerprint=alert.key,
        defaults=defaults,
        known=await cis_called(conn, reference) if reference else (),
    )
    change = await change_being_implemented(conn, spec.ci_id, now) if spec.ci_id else None
    spec = apply_change_window(spec, change.change_number if change else None, defaults.during_change)
    ci = await affected_ci(conn, spec.ci_id) if spec.ci_id else None
    spec = on_known_ci(spec, ci)
    incident = Incident.open(
        incident_id=uuid4(),
        number="",
        title=spec.title,
        description=spec.description,
        caller=notification.sender,
        channel=Channel.MONITORING,
        impact=spec.impact,
        urgency=spec.urgency,
        ci_id=spec.ci_id,
        ci=ci if spec.ci_id else None,
        now=now,
        category=spec.category,
    )
    await IncidentRepository(conn).add_numbered(incident)
    emit_events(uow, incident, await sla.track_incident(uow.repository(SlaClockRepository), incident, new=True))
    await add_alert(
        conn,
        {
            "id": uuid4(),
            "fingerprint": alert.key,
            "incident_id": incident.id,
            "alertname": alert.labels.get("alertname", "alert")[:200],
            "status": "firing",
            "labels": dict(alert.labels),
            "annotations": dict(alert.annotations),
            "starts_at": alert.starts_at,
            "ends_at": None,
            "generator_url": alert.generator_url,
            "occurrences": 1,
            "first_seen_at": now,
            "last_seen_at": now,
            "change_id": change.change_id if change else None,
            "change_number": change.change_number if change else None,
            "receiver": notification.receiver[:200],
        },
    )
    return AlertOutcome(
        alert.key, "firing", "opened", incident.id, incident.number, 1, change.change_number if change else None
    )


async def _resolve(alert: Alert, notification: Notification, uow: UnitOfWork) -> AlertOutcome:
    conn = uow.connection
    now = clock.now()
    current = await open_alert(conn, alert.key)
    if current is None:  # never seen firing, or its incident is already resolved or closed
        return AlertOutcome(alert.key, "resolved", "ignored", None, None, 0)
    ended = alert.ends_at if alert.ends_at and alert.ends_at.year > 1 else now
    await update_alert(conn, current.id, {"status": "resolved", "ends_at": ended, "last_seen_at": now})
    incidents = IncidentRepository(conn)
    incident = await incidents.get(current.incident_id, for_update=True)
    assert incident is not None  # the alert row joins its incident
    name = current.alertname
    note = f"Alert {name} resolved at {ended.isoformat()} (reported by {notification.sender})."
    await add_incident_note(conn, incident.id, note, actor=notification.sender, now=now, version=incident.version)
    opened_by_monitoring = incident.channel is Channel.MONITORING and incident.caller == notification.sender
    if opened_by_monitoring and monitoring_may_resolve(
        incident.status, incident.caller, await history_actors(conn, incident.id)
    ):
        read_version = incident.version
        incident.resolve(code=AUTO_RESOLUTION_CODE, notes=note, actor=notification.sender, now=now)
        await incidents.save(incident, read_version)
        emit_events(uow, incident, await sla.track_incident(uow.repository(SlaClockRepository), incident))
        action = "resolved"
    else:
        action = "noted"
    return AlertOutcome(
        alert.key, "resolved", action, incident.id, incident.number, current.occurrences, current.change_number
    )


async def _number_of(uow: UnitOfWork, incident_id: UUID) -> str | None:
    incident = await IncidentRepository(uow.connection).get(incident_id)
    return incident.number if incident else None
