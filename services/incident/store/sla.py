"""SLA persistence: the policies, the clocks of each ticket, and the notices the watcher raised."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, case, delete, false, func, null, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain.sla import (
    ClockState,
    Escalation,
    EscalationKind,
    SlaClock,
    SlaPolicy,
    SlaTarget,
    TicketKind,
)
from services.incident.domain.sla_calendars import BusinessCalendar
from services.incident.store.sla_calendars import stored_calendar
from services.incident.store.tables import sla_calendar, sla_clock, sla_notice, sla_policy
from shared.db import record_of, row_values, update_versioned, where_given

# Policies ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyRecord:
    policy: SlaPolicy
    updated_at: datetime


def _escalation_json(escalation: Escalation | None) -> dict[str, Any] | None:
    if escalation is None:
        return None
    return {"kind": escalation.kind.value, "to_group": escalation.to_group, "notify": list(escalation.notify)}


def _escalation(value: dict[str, Any] | None) -> Escalation | None:
    if not value:
        return None
    return Escalation(EscalationKind(value["kind"]), value.get("to_group"), tuple(value.get("notify") or ()))


def _policy_row(policy: SlaPolicy, updated_at: datetime) -> dict[str, Any]:
    return row_values(
        sla_policy,
        policy,
        ticket_kind=policy.ticket_kind.value,
        response_target_s=policy.response_s,
        resolution_target_s=policy.resolution_s,
        warning_share=policy.warn_share,
        on_warning=_escalation_json(policy.on_warning),
        on_breach=_escalation_json(policy.on_breach),
        updated_at=updated_at,
    )


def _policy(row: Any) -> SlaPolicy:
    return record_of(
        SlaPolicy,
        row,
        ticket_kind=TicketKind(row.ticket_kind),
        response_s=row.response_target_s,
        resolution_s=row.resolution_target_s,
        warn_share=row.warning_share,
        on_warning=_escalation(row.on_warning),
        on_breach=_escalation(row.on_breach),
    )


async def add_policy(conn: AsyncConnection, policy: SlaPolicy, at: datetime) -> None:
    await conn.execute(sla_policy.insert(), _policy_row(policy, at))


async def get_policy(conn: AsyncConnection, policy_id: UUID) -> PolicyRecord | None:
    row = (await conn.execute(select(sla_policy).where(sla_policy.c.id == policy_id))).first()
    return PolicyRecord(_policy(row), row.updated_at) if row else None


async def list_policies(
    conn: AsyncConnection, *, ticket_kind: str | None = None, service_id: UUID | None = None
) -> list[PolicyRecord]:
    query = select(sla_policy)
    query = where_given(query, sla_policy, ticket_kind=ticket_kind, service_id=service_id)
    rows = await conn.execute(
        query.order_by(sla_policy.c.ticket_kind, sla_policy.c.service_id, sla_policy.c.priority, sla_policy.c.id)
    )
    return [PolicyRecord(_policy(r), r.updated_at) for r in rows]


async def same_scope_policy(conn: AsyncConnection, policy: SlaPolicy) -> UUID | None:
    """Another policy for the same ticket kind, service (or default), customer (or none) and priority."""
    service = (
        sla_policy.c.service_id.is_(None) if policy.service_id is None else sla_policy.c.service_id == policy.service_id
    )
    customer = (
        sla_policy.c.customer_id.is_(None)
        if policy.customer_id is None
        else sla_policy.c.customer_id == policy.customer_id
    )
    query = select(sla_policy.c.id).where(
        sla_policy.c.ticket_kind == policy.ticket_kind.value,
        sla_policy.c.priority == policy.priority,
        service,
        customer,
        sla_policy.c.id != policy.id,
    )
    found: UUID | None = await conn.scalar(query.limit(1))
    return found


async def replace_policy(conn: AsyncConnection, policy: SlaPolicy, expected_version: int, at: datetime) -> None:
    values = _policy_row(policy, at)
    del values["id"]
    await update_versioned(conn, sla_policy, policy.id, expected_version, values, label=f"policy {policy.name}")


async def delete_policy(conn: AsyncConnection, policy_id: UUID) -> None:
    await conn.execute(delete(sla_policy).where(sla_policy.c.id == policy_id))


async def open_clocks_on_policy(conn: AsyncConnection, policy_id: UUID) -> int:
    query = select(func.count()).where(
        sla_clock.c.policy_id == policy_id, sla_clock.c.state.in_([ClockState.RUNNING, ClockState.PAUSED])
    )
    return int(await conn.scalar(query) or 0)


async def policies_and_calendars(
    conn: AsyncConnection,
    kind: TicketKind,
    priority: int,
    service_id: UUID | None,
    extra_policy_ids: Iterable[UUID],
    customer_id: UUID | None = None,
) -> tuple[list[SlaPolicy], dict[UUID, BusinessCalendar]]:
    """In one query: the policies that may apply to a ticket (its kind and priority, its service's
    or the default, its customer's or none), the policies its clocks are on now, and the calendars
    of all of them."""
    scope = and_(
        sla_policy.c.ticket_kind == kind.value,
        sla_policy.c.priority == priority,
        or_(sla_policy.c.service_id.is_(None), sla_policy.c.service_id == service_id)
        if service_id is not None
        else sla_policy.c.service_id.is_(None),
        or_(sla_policy.c.customer_id.is_(None), sla_policy.c.customer_id == customer_id)
        if customer_id is not None
        else sla_policy.c.customer_id.is_(None),
    )
    extra = list(extra_policy_ids)
    condition = or_(scope, sla_policy.c.id.in_(extra)) if extra else scope
    query = (
        select(
            sla_policy,
            sla_calendar.c.time_zone.label("cal_time_zone"),
            sla_calendar.c.working_hours.label("cal_working_hours"),
            sla_calendar.c.holidays.label("cal_holidays"),
        )
        .join(sla_calendar, sla_calendar.c.id == sla_policy.c.calendar_id)
        .where(condition)
    )
    policies, calendars = [], {}
    for row in await conn.execute(query):
        policies.append(_policy(row))
        if row.calendar_id not in calendars:
            calendars[row.calendar_id] = stored_calendar(row.cal_time_zone, row.cal_working_hours, row.cal_holidays)
    return policies, calendars


async def all_policies(conn: AsyncConnection) -> dict[UUID, SlaPolicy]:
    return {r.id: _policy(r) for r in await conn.execute(select(sla_policy))}


# Clocks ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketRef:
    """The ticket a clock belongs to, as the SLA events describe it."""

    kind: TicketKind
    id: UUID
    number: str
    priority: int
    service_id: UUID | None = None
    assignment_group: str | None = None
    ci_id: UUID | None = None
    supplier_id: UUID | None = None
    customer_id: UUID | None = None
    """The customer whose agreement's policy may apply (not kept on the clock's row)."""


@dataclass
class StoredClock:
    ticket: TicketRef
    clock: SlaClock
    row_id: int | None = None


def _clock_row(stored: StoredClock) -> dict[str, Any]:
    t, c = stored.ticket, stored.clock
    return {
        "ticket_kind": t.kind.value,
        "ticket_id": t.id,
        "target": c.target.value,
        "ticket_number": t.number,
        "priority": t.priority,
        "service_id": t.service_id,
        "assignment_group": t.assignment_group,
        "ci_id": t.ci_id,
        "supplier_id": t.supplier_id,
        "policy_id": c.policy_id,
        "target_s": c.target_s,
        "warn_s": c.warn_s,
        "state": c.state.value,
        "since": c.since,
        "started_at": c.started_at,
        "elapsed_s": c.elapsed_s,
        "warn_at": c.warn_at,
        "due_at": c.due_at,
        "warned": c.warned,
        "breached": c.breached,
        "stopped_at": c.stopped_at,
        "pauses": c.pauses,
        "alert_at": c.next_alert_at,
    }


def stored_clock(row: Any) -> StoredClock:
    ticket = TicketRef(
        kind=TicketKind(row.ticket_kind),
        id=row.ticket_id,
        number=row.ticket_number,
        priority=row.priority,
        service_id=row.service_id,
        assignment_group=row.assignment_group,
        ci_id=row.ci_id,
        supplier_id=row.supplier_id,
    )
    clock = record_of(SlaClock, row, target=SlaTarget(row.target), state=ClockState(row.state))
    return StoredClock(ticket, clock, row.id)


async def clocks_of(conn: AsyncConnection, ticket_id: UUID, *, for_update: bool = False) -> list[StoredClock]:
    query = select(sla_clock).where(sla_clock.c.ticket_id == ticket_id).order_by(sla_clock.c.target.desc())
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return [stored_clock(r) for r in await conn.execute(query)]


_INSERT_CLOCK = sla_clock.insert()


async def save_clocks(conn: AsyncConnection, clocks: Sequence[StoredClock]) -> None:
    new = [_clock_row(c) for c in clocks if c.row_id is None]
    if new:
        await conn.execute(_INSERT_CLOCK, new)
    for stored in clocks:
        if stored.row_id is not None:
            await conn.execute(update(sla_clock).where(sla_clock.c.id == stored.row_id).values(_clock_row(stored)))


class SlaClockRepository:
    """What tracking a ticket's clocks reads and writes (`usecases.sla.track`), on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def clocks_of(self, ticket_id: UUID, *, for_update: bool = False) -> list[StoredClock]:
        return await clocks_of(self._conn, ticket_id, for_update=for_update)

    async def policies_and_calendars(
        self,
        kind: TicketKind,
        priority: int,
        service_id: UUID | None,
        extra_policy_ids: Iterable[UUID],
        customer_id: UUID | None = None,
    ) -> tuple[list[SlaPolicy], dict[UUID, BusinessCalendar]]:
        return await policies_and_calendars(self._conn, kind, priority, service_id, extra_policy_ids, customer_id)

    async def save_clocks(self, clocks: Sequence[StoredClock]) -> None:
        await save_clocks(self._conn, clocks)


# The watcher -------------------------------------------------------------------------------------


def _due(now: datetime) -> Any:
    return sla_clock.c.alert_at < now


async def claim_due_clocks(conn: AsyncConnection, now: datetime, limit: int) -> list[StoredClock]:
    """Clocks whose warning or due instant has passed and was not raised yet, the oldest first,
    locked for this transaction; rows another watcher holds are skipped (PostgreSQL)."""
    query = select(sla_clock).where(_due(now)).order_by(sla_clock.c.alert_at).limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [stored_clock(r) for r in await conn.execute(query)]


async def count_due_clocks(conn: AsyncConnection, now: datetime) -> int:
    return int(await conn.scalar(select(func.count()).select_from(sla_clock).where(_due(now))) or 0)


@dataclass(frozen=True)
class Notice:
    ticket_id: UUID
    target: SlaTarget
    kind: str
    """"warning" or "breached"."""
    ticket_kind: TicketKind
    raised_at: datetime


async def insert_notices(conn: AsyncConnection, notices: Sequence[Notice]) -> set[tuple[UUID, str, str]]:
    """Insert the notices that are not there yet; the keys inserted (those to raise)."""
    if not notices:
        return set()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(sla_notice)
        .on_conflict_do_nothing()
        .returning(sla_notice.c.ticket_id, sla_notice.c.target, sla_notice.c.kind)
    )
    rows = [
        {
            "ticket_id": n.ticket_id,
            "target": n.target.value,
            "kind": n.kind,
            "ticket_kind": n.ticket_kind.value,
            "raised_at": n.raised_at,
        }
        for n in notices
    ]
    result = await conn.execute(statement, rows)
    return {(r.ticket_id, r.target, r.kind) for r in result}


async def mark_raised(conn: AsyncConnection, warned: Sequence[int], breached: Sequence[int]) -> None:
    """Set the flags of what was raised, and move `alert_at` to what is left to raise."""
    c = sla_clock.c
    if warned:
        left = case((c.breached == false(), c.due_at), else_=null())
        await conn.execute(update(sla_clock).where(c.id.in_(warned)).values(warned=True, alert_at=left))
    if breached:
        left = case((and_(c.warned == false(), c.warn_at.is_not(None)), c.warn_at), else_=null())
        await conn.execute(update(sla_clock).where(c.id.in_(breached)).values(breached=True, alert_at=left))


# Policies set from agreements ---------------------------------------------------------------------


async def policies_of_agreement(conn: AsyncConnection, agreement_number: str) -> list[PolicyRecord]:
    """The policies the agreed version of an agreement set (`agreement.agreed.v1`)."""
    rows = await conn.execute(select(sla_policy).where(sla_policy.c.agreement_number == agreement_number))
    return [PolicyRecord(_policy(r), r.updated_at) for r in rows]
