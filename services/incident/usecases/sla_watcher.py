"""The SLA watcher job: raises warnings and breaches exactly once per ticket, target and kind, and
escalates incidents as their policy says (`watch`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

from services.incident import events
from services.incident.domain.incident_lifecycle import TRANSITIONS, EscalationTrigger, IncidentStatus
from services.incident.domain.incident_lifecycle import EscalationKind as IncidentEscalationKind
from services.incident.domain.incidents import Incident
from services.incident.domain.sla import (
    Escalation,
    EscalationKind,
    SlaPolicy,
    SlaTarget,
    TicketKind,
)
from services.incident.domain.sla_calendars import BusinessCalendar
from services.incident.store import sla as sla_store
from services.incident.store import sla_calendars
from services.incident.store.incidents import IncidentRepository
from services.incident.store.sla import Notice, SlaClockRepository, StoredClock
from services.incident.usecases.sla import WATCHER, track_incident
from shared.events import incident as contracts
from shared.periodic import JobContext
from shared.uow import UnitOfWork

WARNING, BREACHED = "warning", "breached"
OPEN_STATUSES = frozenset(s for s, actions in TRANSITIONS.items() if s is not IncidentStatus.RESOLVED and actions)


@dataclass
class PassReport:
    claimed: int = 0
    warnings: int = 0
    breaches: int = 0
    escalations: int = 0


async def watch(ctx: JobContext) -> None:
    """The `sla-watcher` job: one pass (see `watch_pass`)."""
    await watch_pass(ctx.unit_of_work, ctx.now, batch=getattr(ctx.settings, "sla_watch_batch", 1000))


async def watch_pass(unit_of_work: Callable[[], UnitOfWork], now: datetime, *, batch: int = 1000) -> PassReport:
    """Raise `sla.warning.v1` / `sla.breached.v1` for every clock whose warning or due instant
    passed before `now`, exactly once per ticket, target and kind, also with several watchers:
    each batch of clocks is claimed with `FOR UPDATE SKIP LOCKED`, and each notice is a unique key
    (`sla_notice`) inserted in the transaction that writes the event to the outbox and sets the
    clock's flag. Escalates incidents as their policy says."""
    report = PassReport()
    policies: dict[UUID, SlaPolicy] | None = None
    calendars: dict[UUID, BusinessCalendar] = {}
    while True:
        async with unit_of_work() as uow:
            if policies is None:
                policies = await sla_store.all_policies(uow.connection)
                calendars = await sla_calendars.all_calendars(uow.connection)
            claimed = await sla_store.claim_due_clocks(uow.connection, now, batch)
            handled = await _raise(uow, claimed, now, policies, calendars, report)
            await uow.commit()
        report.claimed += len(claimed)
        if len(claimed) < batch or not handled:
            return report


async def _raise(
    uow: UnitOfWork,
    claimed: list[StoredClock],
    now: datetime,
    policies: dict[UUID, SlaPolicy],
    calendars: dict[UUID, BusinessCalendar],
    report: PassReport,
) -> int:
    conn = uow.connection
    due: list[tuple[StoredClock, str]] = []
    for stored in claimed:
        clock = stored.clock
        if not clock.warned and clock.warn_at is not None and clock.warn_at < now:
            due.append((stored, WARNING))
        if not clock.breached and clock.due_at is not None and clock.due_at < now:
            due.append((stored, BREACHED))

    # Incidents to escalate are locked first; one another transaction holds is left for the next
    # pass (its clocks are not marked), so the watcher never waits on an agent's action.
    def escalation(stored: StoredClock, kind: str) -> Escalation | None:
        policy = policies.get(stored.clock.policy_id)
        return policy.escalation(kind == BREACHED) if policy and stored.ticket.kind is TicketKind.INCIDENT else None

    wanted = {s.ticket.id for s, kind in due if escalation(s, kind)}
    repository = IncidentRepository(conn)
    incidents = await repository.lock_available(wanted)
    due = [(s, kind) for s, kind in due if s.ticket.id not in wanted or s.ticket.id in incidents]

    notices = [Notice(s.ticket.id, s.clock.target, kind, s.ticket.kind, now) for s, kind in due]
    inserted = await sla_store.insert_notices(conn, notices)
    read_versions = {i.id: i.version for i in incidents.values()}
    escalations = 0
    for stored, kind in due:
        if (stored.ticket.id, stored.clock.target.value, kind) not in inserted:
            continue  # raised before (another watcher): nothing again
        policy = policies.get(stored.clock.policy_id)
        calendar = calendars.get(policy.calendar_id) if policy else None
        uow.emit(_sla_event(stored, kind, calendar), subject=str(stored.ticket.id))
        if kind == WARNING:
            report.warnings += 1
        else:
            report.breaches += 1
        rule, incident = escalation(stored, kind), incidents.get(stored.ticket.id)
        if rule is None or incident is None or incident.status not in OPEN_STATUSES:
            continue
        if _escalate(incident, rule, stored.clock.target, kind, now):
            escalations += 1
    await sla_store.mark_raised(
        conn,
        [s.row_id for s, kind in due if kind == WARNING and s.row_id is not None],
        [s.row_id for s, kind in due if kind == BREACHED and s.row_id is not None],
    )
    for incident in incidents.values():
        if incident.version != read_versions[incident.id]:
            await repository.save(incident, read_versions[incident.id])
            # the clocks carry the new assignment group
            sla_results = await track_incident(uow.repository(SlaClockRepository), incident)
            uow.emit_pending(incident, partial(events.incident_contract, sla=sla_results))
    report.escalations += escalations
    return len(due)


def _sla_event(stored: StoredClock, kind: str, calendar: BusinessCalendar | None) -> contracts.SlaEvent:
    ticket, clock = stored.ticket, stored.clock
    warning = kind == WARNING
    threshold = (clock.warn_s or 0) if warning else clock.target_s
    crossed = clock.warn_at if warning else clock.due_at
    assert crossed is not None
    due = clock.due_instant(calendar) if calendar else clock.due_at
    common: dict[str, Any] = {
        "ticket_kind": ticket.kind.value,
        "ticket_id": ticket.id,
        "ticket_number": ticket.number,
        "target": clock.target.value,
        "policy_id": clock.policy_id,
        "service_id": ticket.service_id,
        "priority": ticket.priority,
        "assignment_group": ticket.assignment_group,
        "supplier_id": ticket.supplier_id,
        "ci_id": ticket.ci_id,
        "target_business_s": clock.target_s,
        "elapsed_business_s": threshold,
        "due_at": due or crossed,
        # when the share or the target was reached, not when this pass noticed it
        "occurred_at": crossed,
    }
    if warning:
        return contracts.SlaWarning(**common, share_used=threshold / clock.target_s if clock.target_s else 0)
    return contracts.SlaBreached(**common)


def _escalate(incident: Incident, rule: Escalation, target: SlaTarget, kind: str, now: datetime) -> bool:
    """Escalate through the incident's own action (`Incident.escalate`, trigger sla_warning or
    sla_breached): its history and `incident.escalated.v1` follow. False when there is nothing to
    do (a functional escalation finds the incident with that group already)."""
    if rule.kind is EscalationKind.FUNCTIONAL and rule.to_group == incident.assignment_group:
        return False
    incident.escalate(
        IncidentEscalationKind(rule.kind.value),
        actor=WATCHER,
        now=now,
        trigger=EscalationTrigger.SLA_WARNING if kind == WARNING else EscalationTrigger.SLA_BREACHED,
        to_group=rule.to_group,
        notify=rule.notify,
        reason=f"SLA {target.value} target {'at risk' if kind == WARNING else 'breached'}",
    )
    return True
