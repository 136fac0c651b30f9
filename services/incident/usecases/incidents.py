"""Incident use cases: one async function per command (open, each lifecycle action, notes, the
auto-close job); only these commit."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from services.incident import events
from services.incident.domain.incident_lifecycle import (
    DEFAULT_POLICY,
    Channel,
    EscalationKind,
    HoldReason,
    IncidentPolicy,
    NoteVisibility,
    PostIncidentReview,
)
from services.incident.domain.incidents import Incident
from services.incident.domain.priority import Impact, PriorityMatrix, Urgency
from services.incident.domain.timeline import Note, major_update, write_note
from services.incident.store.incidents import IdempotencyKeys, IncidentRepository, KnownCIs
from services.incident.store.sla import SlaClockRepository
from services.incident.usecases import sla
from shared import clock
from shared.errors import RuleViolation, check_version, found
from shared.events.incident import SlaResult
from shared.idempotency import IdempotentCreate, Replay
from shared.uow import AnyUnitOfWork


def emit_events(uow: AnyUnitOfWork, incident: Incident, sla_results: Sequence[SlaResult] = ()) -> None:
    """The incident's domain events emitted into the unit of work as contracts (some edits emit none),
    then cleared; the outbox relay publishes them after the commit.
    `sla_results`: its SLA targets as they stand after the action (`sla.track_incident`)."""
    for event in incident.pending_events:
        contract = events.incident_contract(event, incident, sla=sla_results)
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
    customer_id: UUID | None = None


async def open_incident(
    cmd: OpenIncident,
    uow: AnyUnitOfWork,
    policy: IncidentPolicy = DEFAULT_POLICY,
    *,
    once: IdempotentCreate[Incident] | None = None,
) -> Incident | Replay:
    """Record an incident; with `once` (an Idempotency-Key), a retry answers the first response."""
    async with uow:
        keys = uow.repository(IdempotencyKeys)
        if once is not None and (replay := await keys.claim(once)) is not None:
            return replay
        incident = await record_incident(cmd, uow, policy)
        if once is not None:
            await keys.remember(once, incident)
        await uow.commit()
    return incident


async def record_incident(cmd: OpenIncident, uow: AnyUnitOfWork, policy: IncidentPolicy = DEFAULT_POLICY) -> Incident:
    """Record an incident in the caller's open unit of work (which commits): numbered, its SLA
    clocks started, its events emitted. A consumer's handler, which holds the unit of work, calls
    this; `open_incident` is the command of its own transaction."""
    ci = await uow.repository(KnownCIs).affected_ci(cmd.ci_id) if cmd.ci_id is not None else None
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
        customer_id=cmd.customer_id,
        matrix=policy.priority_matrix,
        now=clock.now(),
    )
    await uow.repository(IncidentRepository).add_numbered(incident)
    emit_events(uow, incident, await sla.track_incident(uow.repository(SlaClockRepository), incident, new=True))
    return incident


@dataclass(frozen=True)
class Act:
    """An action on an incident: who, and which version they read (If-Match, optional)."""

    incident_id: UUID
    actor: str
    expected_version: int | None = None


async def act(cmd: Act, uow: AnyUnitOfWork, apply: Callable[[Incident, datetime], None]) -> Incident:
    """Load the incident (locked), check the version read, apply the domain action, save its
    history and publish its events, in one transaction."""
    async with uow:
        incidents = uow.repository(IncidentRepository)
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
            emit_events(uow, incident, await sla.track_incident(uow.repository(SlaClockRepository), incident))
            await uow.commit()
    return incident


# ---------------------------------------------------------------------------- the named actions
# Each is `act` with its domain action; `cmd.actor` is who does it.


async def assign_incident(
    cmd: Act, uow: AnyUnitOfWork, *, group: str, assignee: str | None, reason: str = "", supplier_id: UUID | None = None
) -> Incident:
    return await act(
        cmd,
        uow,
        lambda i, now: i.assign(
            group=group, assignee=assignee, actor=cmd.actor, now=now, reason=reason, supplier_id=supplier_id
        ),
    )


async def start_work(cmd: Act, uow: AnyUnitOfWork) -> Incident:
    return await act(cmd, uow, lambda i, now: i.start(cmd.actor, now))


async def hold_incident(cmd: Act, uow: AnyUnitOfWork, *, reason: HoldReason, note: str = "") -> Incident:
    return await act(cmd, uow, lambda i, now: i.hold(reason, cmd.actor, now, note))


async def resume_incident(cmd: Act, uow: AnyUnitOfWork) -> Incident:
    return await act(cmd, uow, lambda i, now: i.resume(cmd.actor, now))


async def resolve_incident(cmd: Act, uow: AnyUnitOfWork, *, code: str, notes: str) -> Incident:
    return await act(cmd, uow, lambda i, now: i.resolve(code=code, notes=notes, actor=cmd.actor, now=now))


async def close_incident(cmd: Act, uow: AnyUnitOfWork) -> Incident:
    """On the caller's confirmation."""
    return await act(cmd, uow, lambda i, now: i.close(cmd.actor, now))


async def reopen_incident(cmd: Act, uow: AnyUnitOfWork, *, reason: str, window: timedelta) -> Incident:
    return await act(cmd, uow, lambda i, now: i.reopen(reason, cmd.actor, now, window))


async def cancel_incident(cmd: Act, uow: AnyUnitOfWork, *, reason: str) -> Incident:
    return await act(cmd, uow, lambda i, now: i.cancel(reason, cmd.actor, now))


async def update_incident(
    cmd: Act, uow: AnyUnitOfWork, *, values: Mapping[str, object], matrix: PriorityMatrix, reason: str = ""
) -> Incident:
    """Edit the description and classification; a new impact or urgency recomputes the priority."""
    return await act(cmd, uow, lambda i, now: i.update(values, actor=cmd.actor, now=now, matrix=matrix, reason=reason))


async def override_priority(cmd: Act, uow: AnyUnitOfWork, *, priority: int, reason: str) -> Incident:
    return await act(cmd, uow, lambda i, now: i.override_priority(priority, reason=reason, actor=cmd.actor, now=now))


async def escalate_incident(
    cmd: Act,
    uow: AnyUnitOfWork,
    *,
    kind: str,
    to_group: str | None = None,
    notify: Sequence[str] = (),
    supplier_id: UUID | None = None,
    reason: str = "",
) -> Incident:
    """By hand (trigger manual); the SLA watcher escalates through the domain in its own pass."""
    return await act(
        cmd,
        uow,
        lambda i, now: i.escalate(
            EscalationKind(kind),
            actor=cmd.actor,
            now=now,
            to_group=to_group,
            notify=notify,
            supplier_id=supplier_id,
            reason=reason,
        ),
    )


async def declare_major(cmd: Act, uow: AnyUnitOfWork, *, manager: str, reason: str = "") -> Incident:
    return await act(cmd, uow, lambda i, now: i.declare_major(manager=manager, actor=cmd.actor, now=now, reason=reason))


async def record_review(
    cmd: Act, uow: AnyUnitOfWork, *, summary: str, root_cause: str, lessons: str, actions: Sequence[str]
) -> Incident:
    """Record (or revise) the post-incident review of a major incident."""

    def apply(incident: Incident, now: datetime) -> None:
        incident.record_review(
            PostIncidentReview(
                summary=summary,
                root_cause=root_cause,
                lessons=lessons,
                actions=tuple(actions),
                recorded_by=cmd.actor,
                recorded_at=now,
            )
        )

    return await act(cmd, uow, apply)


async def _load(incidents: IncidentRepository, cmd: Act) -> Incident:
    incident = found(await incidents.get(cmd.incident_id, for_update=True), f"incident {cmd.incident_id}")
    check_version(incident.number, incident.version, cmd.expected_version)
    return incident


async def add_note(
    cmd: Act, uow: AnyUnitOfWork, *, text: str, visibility: NoteVisibility, major: bool = False
) -> tuple[Incident, Note]:
    """A work note, a comment to the caller, or (`major`) a major incident status update. Notes
    are the timeline's own entries: the incident's version does not change, so they never make
    someone else's If-Match stale."""
    async with uow:
        incidents = uow.repository(IncidentRepository)
        incident = await _load(incidents, cmd)
        now = clock.now()
        if major:
            note = major_update(incident, text=text, author=cmd.actor, now=now, visibility=visibility)
        else:
            note = write_note(incident, text=text, visibility=visibility, author=cmd.actor, now=now)
        await incidents.add_note(note)
        await uow.commit()
    return incident, note


async def close_resolved_incidents(uow: AnyUnitOfWork, policy: IncidentPolicy, now: datetime, *, batch: int) -> int:
    """One batch of the auto-close job: close the incidents resolved for `policy.auto_close_after`
    without the caller's confirmation (a major incident waits for its review). Safe with several
    replicas: candidates are locked with SKIP LOCKED, and each close is a guarded state transition
    (status resolved, same version), so a second replica finds nothing left to do."""
    async with uow:
        incidents = uow.repository(IncidentRepository)
        closed = 0
        for incident in await incidents.claim_resolved_before(now - policy.auto_close_after, batch):
            if not incident.due_for_auto_close(now, policy.auto_close_after):
                continue
            read_version = incident.version
            incident.close_automatically(now, policy.auto_close_after)
            await incidents.save(incident, read_version)
            emit_events(uow, incident, await sla.track_incident(uow.repository(SlaClockRepository), incident))
            closed += 1
        await uow.commit()
    return closed
