"""SLA use cases: calendars and policies, and the clocks each ticket action moves (`track`, in the
ticket's own transaction)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain.incidents import Incident
from services.incident.domain.sla import (
    ClockState,
    SlaClock,
    SlaPolicy,
    SlaTarget,
    TicketKind,
    incident_clock_states,
    select_policy,
)
from services.incident.domain.sla_calendars import BusinessCalendar, calendar_of
from services.incident.store import sla as sla_store
from services.incident.store import sla_calendars
from services.incident.store.sla import SlaClockRepository, StoredClock, TicketRef
from services.incident.store.sla_calendars import CalendarRecord
from shared import clock
from shared.errors import Conflict, RuleViolation, check_version, found
from shared.events import incident as contracts
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
        record = CalendarRecord(uuid4(), cmd.name, _calendar(cmd), 1, clock.now())
        await _refuse_duplicate_name(uow.connection, record)
        await sla_calendars.add_calendar(uow.connection, record)
        await uow.commit()
    return record


async def replace_calendar(
    calendar_id: UUID, cmd: CalendarInput, expected_version: int | None, uow: UnitOfWork
) -> CalendarRecord:
    """Replace a calendar. Running clocks follow it from their ticket's next action."""
    async with uow:
        current = await _calendar_record(uow.connection, calendar_id, expected_version)
        record = CalendarRecord(calendar_id, cmd.name, _calendar(cmd), current.version + 1, clock.now())
        await _refuse_duplicate_name(uow.connection, record)
        await sla_calendars.replace_calendar(uow.connection, record, current.version)
        await uow.commit()
    return record


async def delete_calendar(calendar_id: UUID, expected_version: int | None, uow: UnitOfWork) -> None:
    async with uow:
        await _calendar_record(uow.connection, calendar_id, expected_version)
        if used := await sla_calendars.policies_using_calendar(uow.connection, calendar_id):
            raise Conflict(f"{used} SLA policies use this calendar; point them at another one first")
        await sla_calendars.delete_calendar(uow.connection, calendar_id)
        await uow.commit()


def _calendar(cmd: CalendarInput) -> BusinessCalendar:
    if not cmd.name.strip():
        raise RuleViolation("a calendar needs a name", field="name")
    return calendar_of(cmd.time_zone, dict(cmd.working_hours), cmd.holidays)


async def _refuse_duplicate_name(conn: AsyncConnection, record: CalendarRecord) -> None:
    other = await sla_calendars.calendar_named(conn, record.name)
    if other is not None and other != record.id:
        raise Conflict(f"a calendar named {record.name!r} exists already", existing_id=str(other))


async def _calendar_record(conn: AsyncConnection, calendar_id: UUID, expected_version: int | None) -> CalendarRecord:
    current = found(await sla_calendars.get_calendar(conn, calendar_id), f"calendar {calendar_id}")
    check_version(f"calendar {current.name}", current.version, expected_version)
    return current


# Policies ----------------------------------------------------------------------------------------


async def create_policy(policy_of: Callable[[UUID, int], SlaPolicy], uow: UnitOfWork) -> sla_store.PolicyRecord:
    """`policy_of(id, version)` builds the policy (its rules checked by the domain)."""
    async with uow:
        policy = policy_of(uuid4(), 1)
        await _check_policy(uow.connection, policy)
        now = clock.now()
        await sla_store.add_policy(uow.connection, policy, now)
        await uow.commit()
    return sla_store.PolicyRecord(policy, now)


async def replace_policy(
    policy_id: UUID,
    policy_of: Callable[[UUID, int], SlaPolicy],
    expected_version: int | None,
    uow: UnitOfWork,
) -> sla_store.PolicyRecord:
    """Replace a policy. Running clocks take the new targets at their ticket's next action."""
    async with uow:
        current = await _policy_record(uow.connection, policy_id, expected_version)
        policy = policy_of(policy_id, current.policy.version + 1)
        await _check_policy(uow.connection, policy)
        now = clock.now()
        await sla_store.replace_policy(uow.connection, policy, current.policy.version, now)
        await uow.commit()
    return sla_store.PolicyRecord(policy, now)


async def delete_policy(policy_id: UUID, expected_version: int | None, uow: UnitOfWork) -> None:
    async with uow:
        await _policy_record(uow.connection, policy_id, expected_version)
        if running := await sla_store.open_clocks_on_policy(uow.connection, policy_id):
            raise Conflict(f"{running} running or paused SLA clocks follow this policy; replace it instead")
        await sla_store.delete_policy(uow.connection, policy_id)
        await uow.commit()


async def _check_policy(conn: AsyncConnection, policy: SlaPolicy) -> None:
    if await sla_calendars.get_calendar(conn, policy.calendar_id) is None:
        raise RuleViolation(f"calendar {policy.calendar_id} does not exist", field="calendar_id")
    if other := await sla_store.same_scope_policy(conn, policy):
        scope = f"service {policy.service_id}" if policy.service_id else "the default (no service)"
        raise Conflict(
            f"a {policy.ticket_kind} policy for priority {policy.priority} of {scope} exists already",
            existing_id=str(other),
        )


async def _policy_record(
    conn: AsyncConnection, policy_id: UUID, expected_version: int | None
) -> sla_store.PolicyRecord:
    current = found(await sla_store.get_policy(conn, policy_id), f"SLA policy {policy_id}")
    check_version(f"policy {current.policy.name}", current.policy.version, expected_version)
    if current.policy.agreement_number is not None:
        raise Conflict(
            f"policy {current.policy.name} is set by agreement {current.policy.agreement_number}:"
            " change the agreement (a new version, agreed under a change) instead"
        )
    return current


# Tracking: what each ticket action does to the ticket's clocks -----------------------------------


async def track(
    store: SlaClockRepository,
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
    clocks = [] if new else await store.clocks_of(ticket.id, for_update=True)
    policies, calendars = await store.policies_and_calendars(
        ticket.kind, ticket.priority, ticket.service_id, {c.clock.policy_id for c in clocks}, ticket.customer_id
    )
    policy = select_policy(policies, ticket.kind, ticket.service_id, ticket.priority, ticket.customer_id)
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
    await store.save_clocks(list(by_target.values()))
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
        customer_id=incident.customer_id,
    )


async def track_incident(
    store: SlaClockRepository, incident: Incident, *, new: bool = False
) -> list[contracts.SlaResult]:
    """The incident's clocks after an action (call it after each one, before emitting)."""
    states = incident_clock_states(incident.status.value, incident.first_response_at is not None)
    return await track(store, incident_ticket(incident), states, incident.updated_at, new=new)


async def clocks_of(conn: AsyncConnection, ticket_id: UUID) -> list[tuple[StoredClock, datetime | None]]:
    """A ticket's clocks with their due instant as it stands (for reading)."""
    clocks = await sla_store.clocks_of(conn, ticket_id)
    calendars = await sla_calendars.all_calendars(conn) if clocks else {}
    policies = await sla_store.all_policies(conn) if clocks else {}
    out = []
    for stored in clocks:
        policy = policies.get(stored.clock.policy_id)
        calendar = calendars.get(policy.calendar_id) if policy else None
        out.append((stored, stored.clock.due_instant(calendar) if calendar else stored.clock.due_at))
    return out
