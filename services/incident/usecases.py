"""Incident use cases: one async function per command; only these commit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from services.incident import events
from services.incident.domain import Channel, Impact, Incident, Urgency
from services.incident.domain.incident import DEFAULT_POLICY, IncidentPolicy, NoteVisibility
from services.incident.domain.timeline import Note, major_update, write_note
from services.incident.sla import usecases as sla
from services.incident.store import IncidentRepository, affected_ci
from shared import clock
from shared.errors import NotFound, PreconditionFailed, RuleViolation
from shared.events.incident import SlaResult
from shared.idempotency import IdempotentCreate, Replay
from shared.uow import UnitOfWork


def publish(uow: UnitOfWork, incident: Incident, sla_results: Sequence[SlaResult] = ()) -> None:
    """The incident's domain events as published events (some edits publish none), then cleared.
    `sla_results`: its SLA targets as they stand after the action (`sla.track_incident`)."""
    for event in incident.pending_events:
        contract = events.to_contract(event, incident, sla=sla_results)
        if contract is not None:
            uow.emit(contract, subject=str(incident.id))
    incident.pending_events.clear()


@dataclass(frozen=True)
class OpenIncident:
    title: str
    description: str
    caller: str
    channel: Channel
    urgency: Urgency
    impact: Impact | None = None
    ci_id: UUID | None = None
    category: str | None = None
    subcategory: str | None = None
    service_id: UUID | None = None


async def open_incident(
    cmd: OpenIncident,
    uow: UnitOfWork,
    policy: IncidentPolicy = DEFAULT_POLICY,
    *,
    once: IdempotentCreate[Incident] | None = None,
) -> Incident | Replay:
    """Record an incident; with `once` (an Idempotency-Key), a retry answers the first response."""
    async with uow:
        conn = uow.connection
        if once is not None and (replay := await once.claim(conn)) is not None:
            return replay
        incidents = IncidentRepository(conn)
        ci = await affected_ci(conn, cmd.ci_id) if cmd.ci_id is not None else None
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
            ci=ci,
            category=cmd.category,
            subcategory=cmd.subcategory,
            service_id=cmd.service_id,
            matrix=policy.priority_matrix,
            now=clock.now(),
        )
        await incidents.add_numbered(incident)
        publish(uow, incident, await sla.track_incident(conn, incident, new=True))
        if once is not None:
            await once.remember(conn, incident)
        await uow.commit()
    return incident


@dataclass(frozen=True)
class Act:
    """An action on an incident: who, and which version they read (If-Match, optional)."""

    incident_id: UUID
    actor: str
    expected_version: int | None = None


async def act(cmd: Act, uow: UnitOfWork, apply: Callable[[Incident, datetime], None]) -> Incident:
    """Load the incident (locked), check the version read, apply the domain action, save its
    history and publish its events, in one transaction."""
    async with uow:
        incidents = IncidentRepository(uow.connection)
        incident = await _load(incidents, cmd)
        read_version = incident.version
        now = clock.now()
        if clock.is_backdated() and now < incident.opened_at:
            # Only creation is checked: consumers update records on the wall clock (a CMDB outcome,
            # say), so a later import step may rightly predate `updated_at`.
            raise RuleViolation(
                f"{incident.number} was recorded at {incident.opened_at.isoformat()}: nothing happens before that"
            )
        apply(incident, now)
        if incident.version != read_version:
            await incidents.save(incident, read_version)
            publish(uow, incident, await sla.track_incident(uow.connection, incident))
            await uow.commit()
    return incident


async def _load(incidents: IncidentRepository, cmd: Act) -> Incident:
    incident = await incidents.get(cmd.incident_id, for_update=True)
    if incident is None:
        raise NotFound(f"incident {cmd.incident_id} does not exist")
    if cmd.expected_version is not None and cmd.expected_version != incident.version:
        raise PreconditionFailed(f"{incident.number} is at version {incident.version}, not {cmd.expected_version}")
    return incident


async def add_note(
    cmd: Act, uow: UnitOfWork, *, text: str, visibility: NoteVisibility, major: bool = False
) -> tuple[Incident, Note]:
    """A work note, a comment to the caller, or (`major`) a major incident status update. Notes
    are the timeline's own entries: the incident's version does not change, so they never make
    someone else's If-Match stale."""
    async with uow:
        incidents = IncidentRepository(uow.connection)
        incident = await _load(incidents, cmd)
        now = clock.now()
        if major:
            note = major_update(incident, text=text, author=cmd.actor, now=now, visibility=visibility)
        else:
            note = write_note(incident, text=text, visibility=visibility, author=cmd.actor, now=now)
        await incidents.add_note(note)
        await uow.commit()
    return incident, note


async def close_resolved_incidents(uow: UnitOfWork, policy: IncidentPolicy, now: datetime, *, batch: int) -> int:
    """One batch of the auto-close job: close the incidents resolved for `policy.auto_close_after`
    without the caller's confirmation (a major incident waits for its review). Safe with several
    replicas: candidates are locked with SKIP LOCKED, and each close is a guarded state transition
    (status resolved, same version), so a second replica finds nothing left to do."""
    async with uow:
        incidents = IncidentRepository(uow.connection)
        closed = 0
        for incident in await incidents.claim_resolved_before(now - policy.auto_close_after, batch):
            if not incident.due_for_auto_close(now, policy.auto_close_after):
                continue
            read_version = incident.version
            incident.close_automatically(now, policy.auto_close_after)
            await incidents.save(incident, read_version)
            publish(uow, incident, await sla.track_incident(uow.connection, incident))
            closed += 1
        await uow.commit()
    return closed
