"""Incident use cases: one async function per command; only these commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from services.incident import events
from services.incident.domain import Channel, Impact, Incident, Urgency
from services.incident.store import IncidentRepository
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
            now=datetime.now(UTC),
        )
        await incidents.add_numbered(incident)
        uow.emit_pending(incident, events.to_contract)
        await uow.commit()
    return incident
