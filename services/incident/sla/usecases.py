"""SLA use cases: calendars and policies, the clocks each ticket action moves (`track`), and the
watcher that raises warnings and breaches exactly once and escalates (`watch`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident import events
from services.incident.domain import TRANSITIONS, Incident, IncidentStatus
from services.incident.domain.incident import EscalationKind as IncidentEscalationKind
from services.incident.domain.incident import EscalationTrigger
from services.incident.sla import store
from services.incident.sla.domain import (
    BusinessCalendar,
    ClockState,
    Escalation,
    EscalationKind,
    SlaClock,
    SlaPolicy,
    SlaTarget,
    TicketKind,
    incident_clock_states,
    select_policy,
)
from services.incident.sla.store import CalendarRecord, Notice, StoredClock, TicketRef
from services.incident.store import IncidentRepository
from shared.errors import Conflict, NotFound, PreconditionFailed, RuleViolation
from shared.events import incident as contracts
from shared.periodic import JobContext
from shared.uow import UnitOfWork

WATCHER = "sla-watcher"
"""The actor of what the watcher does (escalations in the incident history)."""


# Calendars ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarInput:
    name: str
    time_zone: str
    working_hours: dict[str, tuple[str, str]]
    holidays: Sequence[date] = ()


async def create_calendar(cmd: CalendarInput, uow: UnitOfWork) -> CalendarRecord:
    async with uow:
        record = CalendarRecord(uuid4(), cmd.name, _calendar(cmd), 1, datetime.now(UTC))
        await _refuse_duplicate_name(uow.connection, record)
        await store.add_calendar(uow.connection, record)
        await uow.commit()
    return record


async def replace_calendar(
    calendar_id: UUID, cmd: CalendarInput, expected_version: int | None, uow: UnitOfWork
) -> CalendarRecord:
    """Replace a calendar. Running clocks follow it from their ticket's next action."""
    async with uow:
        current = await _calendar_record(uow.connection, calendar_id, expected_version)
        record = CalendarRecord(calendar_id, cmd.name, _calendar(cmd), current.version + 1, datetime.now(UTC))
        await _refuse_duplicate_name(uow.connection, record)
        await store.replace_calendar(uow.connection, record, current.version)
        await uow.commit()
    return record


async def delete_calendar(calendar_id: UUID, expected_version: int | None, uow: UnitOfWork) -> None:
    async with uow:
        await _calendar_record(uow.connection, calendar_id, expected_version)
        if used := await store.policies_using_calendar(uow.connection, calendar_id):
            raise Conflict(f"{used} SLA policies use this calendar; point them at another one first")
        await store.delete_calendar(uow.connection, calendar_id)
        await uow.commit()


def _calendar(cmd: CalendarInput) -> BusinessCalendar:
    if not cmd.name.strip():
        raise RuleViolation("a calendar needs a name", field="name")
    return store.calendar_of(cmd.time_zone, dict(cmd.working_hours), cmd.holidays)


async def _refuse_duplicate_name(conn: AsyncConnection, record: CalendarRecord) -> None:
    other = await store.calendar_named(conn, record.name)
    if other is not None and other != record.id:
        raise Conflict(f"a calendar named {record.name!r} exists already", existing_id=str(other))


async def _calendar_record(conn: AsyncConnection, calendar_id: UUID, expected_version: int | None) -> CalendarRecord:
    current = await store.get_calendar(conn, calendar_id)
    if current is None:
        raise NotFound(f"calendar {calendar_id} does not exist")
    if expected_version is not None and expected_version != current.version:
        raise PreconditionFailed(f"calendar {current.name} is at version {current.version}, not {expected_version}")
    return current


# Policies ----------------------------------------------------------------------------------------


async def create_policy(policy_of: Callable[[UUID, int], SlaPolicy], uow: UnitOfWork) -> store.PolicyRecord:
    """`policy_of(id, version)` builds the policy (its rules checked by the domain)."""
    async with uow:
        policy = policy_of(uuid4(), 1)
        await _check_policy(uow.connection, policy)
        now = datetime.now(UTC)
        await store.add_policy(uow.connection, policy, now)
        await uow.commit()
    return store.PolicyRecord(policy, now)


async def replace_policy(
    policy_id: UUID,
    policy_of: Callable[[UUID, int], SlaPolicy],
    expected_version: int | None,
    uow: UnitOfWork,
) -> store.PolicyRecord:
    """Replace a policy. Running clocks take the new targets at their ticket's next action."""
    async with uow:
        current = await _policy_record(uow.connection, policy_id, expected_version)
        policy = policy_of(policy_id, current.policy.version + 1)
        await _check_policy(uow.connection, policy)
        now = datetime.now(UTC)
        await store.replace_policy(uow.connection, policy, current.policy.version, now)
        await uow.commit()
    return store.PolicyRecord(policy, now)


async def delete_policy(policy_id: UUID, expected_version: int | None, uow: UnitOfWork) -> None:
    async with uow:
        await _policy_record(uow.connection, policy_id, expected_version)
        if running := await store.open_clocks_on_policy(uow.connection, policy_id):
            raise Conflict(f"{running} running or paused SLA clocks follow this policy; replace it instead")
        await store.delete_policy(uow.connection, policy_id)
        await uow.commit()


async def _check_policy(conn: AsyncConnection, policy: SlaPolicy) -> None:
    if await store.get_calendar(conn, policy.calendar_id) is None:
        raise RuleViolation(f"calendar {policy.calendar_id} does not exist", field="calendar_id")
    if other := await store.same_scope_policy(conn, policy):
        scope = f"service {policy.service_id}" if policy.service_id else "the default (no service)"
        raise Conflict(
            f"a {policy.ticket_kind} policy for priority {policy.priority} of {scope} exists already",
            existing_id=str(other),
        )


async def _policy_record(conn: AsyncConnection, policy_id: UUID, expected_version: int | None) -> store.PolicyRecord:
    current = await store.get_policy(conn, policy_id)
    if current is None:
        raise NotFound(f"SLA policy {policy_id} does not exist")
    if expected_version is not None and expected_version != current.policy.version:
        raise PreconditionFailed(
            f"policy {current.policy.name} is at version {current.policy.version}, not {expected_version}"
        )
    return current


# Tracking: what each ticket action does to the ticket's clocks -----------------------------------


async def track(
    conn: AsyncConnection,
    ticket: TicketRef,
    states: dict[SlaTarget, ClockState],
    at: datetime,
    *,
    new: bool = False,
) -> list[contracts.SlaResult]:
    """Bring the ticket's clocks to what its state asks, at `at`, under the policy for its kind,
    service and priority now (a priority change retargets them, the time used is kept). Starts
    them on the first call when a policy applies; the caller holds the ticket's row lock.
    `new`: the ticket was just created (it has no clocks yet; saves a query)."""
    clocks = [] if new else await store.clocks_of(conn, ticket.id, for_update=True)
    policies, calendars = await store.policies_and_calendars(
        conn, ticket.kind, ticket.priority, ticket.service_id, {c.clock.policy_id for c in clocks}
    )
    policy = select_policy(policies, ticket.kind, ticket.service_id, ticket.priority)
    by_id = {p.id: p for p in policies}
    if policy is None and not clocks:
        return []
    by_target = {c.clock.target: c for c in clocks}
    for target, state in states.items():
        stored = by_target.get(target)
        applies = policy or (by_id.get(stored.clock.policy_id) if stored else None)
        if applies is None:
            continue  # the policy of this clock is gone and none applies now: left as it is
        calendar = calendars[applies.calendar_id]
        if stored is None:
            if state in (ClockState.STOPPED, ClockState.CANCELLED):
                continue  # never started (e.g. a policy created after the ticket's response)
            stored = StoredClock(ticket, SlaClock.start(target, applies, calendar, at, state))
            by_target[target] = stored
        else:
            stored.ticket = ticket
            stored.clock.retarget(calendar, applies, at)
            stored.clock.move(calendar, state, at)
    await store.save_clocks(conn, list(by_target.values()))
    return [_result(c.clock, by_id.get(c.clock.policy_id), calendars) for c in by_target.values()]


def _result(clock: SlaClock, policy: SlaPolicy | None, calendars: dict[UUID, BusinessCalendar]) -> contracts.SlaResult:
    calendar = calendars.get(policy.calendar_id) if policy else None
    return contracts.SlaResult(
        target=clock.target.value,
        policy_id=clock.policy_id,
        target_business_s=clock.target_s,
        elapsed_business_s=clock.elapsed_s,
        due_at=clock.due_instant(calendar) if calendar else clock.due_at,
        met=clock.met(),
    )


def incident_ticket(incident: Incident) -> TicketRef:
    # service_id and supplier_id arrive on the incident record with the categories and CI work
    # (issue 3, incident record); until then they are None.
    return TicketRef(
        kind=TicketKind.INCIDENT,
        id=incident.id,
        number=incident.number,
        priority=incident.priority,
        service_id=getattr(incident, "service_id", None),
        assignment_group=incident.assignment_group,
        ci_id=incident.ci_id,
        supplier_id=getattr(incident, "supplier_id", None),
    )


async def track_incident(conn: AsyncConnection, incident: Incident, *, new: bool = False) -> list[contracts.SlaResult]:
    """The incident's clocks after an action (call it after each one, before emitting)."""
    states = incident_clock_states(incident.status.value, incident.first_response_at is not None)
    return await track(conn, incident_ticket(incident), states, incident.updated_at, new=new)


async def clocks_of(conn: AsyncConnection, ticket_id: UUID) -> list[tuple[StoredClock, datetime | None]]:
    """A ticket's clocks with their due instant as it stands (for reading)."""
    clocks = await store.clocks_of(conn, ticket_id)
    calendars = await store.all_calendars(conn) if clocks else {}
    policies = await store.all_policies(conn) if clocks else {}
    out = []
    for stored in clocks:
        policy = policies.get(stored.clock.policy_id)
        calendar = calendars.get(policy.calendar_id) if policy else None
        out.append((stored, stored.clock.due_instant(calendar) if calendar else stored.clock.due_at))
    return out


# The watcher -------------------------------------------------------------------------------------

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
                policies = await store.all_policies(uow.connection)
                calendars = await store.all_calendars(uow.connection)
            claimed = await store.claim_due_clocks(uow.connection, now, batch)
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
    inserted = await store.insert_notices(conn, notices)
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
    await store.mark_raised(
        conn,
        [s.row_id for s, kind in due if kind == WARNING and s.row_id is not None],
        [s.row_id for s, kind in due if kind == BREACHED and s.row_id is not None],
    )
    for incident in incidents.values():
        if incident.version != read_versions[incident.id]:
            await repository.save(incident, read_versions[incident.id])
            sla_results = await track_incident(conn, incident)  # the clocks carry the new assignment group
            uow.emit_pending(incident, partial(events.to_contract, sla=sla_results))
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
