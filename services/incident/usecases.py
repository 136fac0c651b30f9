"""Incident use cases: one async function per command; only these commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from services.incident import events
from services.incident.domain import Channel, Impact, Incident, Urgency
from services.incident.sla import usecases as sla
from services.incident.store import IncidentRepository
from shared import clock
from shared.errors import NotFound, PreconditionFailed, RuleViolation
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class OpenIncident:
    title: str
    description: str
    caller: str
    channel: Channel
    impact: Impact
    urgency: Urgency
    ci_id: UUID | None = None


async def open_incident(cmd: OpenIncident, uow: UnitOfWork) -> Incident:
    async with uow:
        incidents = IncidentRepository(uow.connection)
        incident = Incident.open(
            incident_id=uuid4(),
            number="",  # drawn by the insert below
            title=cmd.title,
            description=cmd.description,
            caller=cmd.caller,
            channel=cmd.channel,
            impact=cmd.impact,
            urgency=cmd.urgency,
            ci_id=cmd.ci_id,
            now=clock.now(),
        )
        await incidents.add_numbered(incident)
        await sla.track_incident(uow.connection, incident, new=True)
        uow.emit_pending(incident, events.to_contract)
        await uow.commit()
    return incident


@dataclass(frozen=True)
class Act:
    """An action on an incident: who, and which version they read (If-Match, optional)."""

    incident_id: UUID
    actor: str
    expected_version: int | None = None


async def act(cmd: Act, uow: UnitOfWork, apply: Callable[[Incident, datetime], None]) -> Incident:
    async with uow:
        incidents = IncidentRepository(uow.connection)
        incident = await incidents.get(cmd.incident_id, for_update=True)
        if incident is None:
            raise NotFound(f"incident {cmd.incident_id} does not exist")
        if cmd.expected_version is not None and cmd.expected_version != incident.version:
            raise PreconditionFailed(f"{incident.number} is at version {incident.version}, not {cmd.expected_version}")
        read_version = incident.version
        now = clock.now()
        if clock.is_backdated() and now < incident.opened_at:
            # Only creation is checked: consumers update records on the wall clock (a CMDB outcome,
            # say), so a later import step may rightly predate `updated_at`.
            raise RuleViolation(
                f"{incident.number} was recorded at {incident.opened_at.isoformat()}: nothing happens before that"
            )
        apply(incident, now)
        await incidents.save(incident, read_version)
        sla_results = await sla.track_incident(uow.connection, incident)
        uow.emit_pending(incident, lambda event, i: events.to_contract(event, i, sla=sla_results))
        await uow.commit()
    return incident
