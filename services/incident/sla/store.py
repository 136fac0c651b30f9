"""SLA persistence: calendars, policies, the clocks of each ticket and the notices raised.

The tables join the incident service's metadata (`services.incident.store.metadata`), so the
migrations, the unit of work and the tests see one schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    and_,
    case,
    delete,
    false,
    func,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.sla.domain import (
    WEEKDAYS,
    BusinessCalendar,
    ClockState,
    Escalation,
    EscalationKind,
    SlaClock,
    SlaPolicy,
    SlaTarget,
    TicketKind,
    WorkingWindow,
)
from services.incident.store import metadata
from shared.db import BigIntKey, UtcDateTime, update_versioned

sla_calendar = Table(
    "sla_calendar",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("time_zone", String(64), nullable=False),
    Column("working_hours", JSON, nullable=False),
    Column("holidays", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

sla_policy = Table(
    "sla_policy",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("ticket_kind", String(10), nullable=False),
    Column("service_id", Uuid),
    Column("priority", Integer, nullable=False),
    Column("response_target_s", Integer, nullable=False),
    Column("resolution_target_s", Integer, nullable=False),
    Column("calendar_id", Uuid, ForeignKey("sla_calendar.id"), nullable=False, index=True),
    Column("warning_share", Float),
    Column("on_warning", JSON),
    Column("on_breach", JSON),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_sla_policy_kind_priority", "ticket_kind", "priority"),
)

sla_clock = Table(
    "sla_clock",
    metadata,
    Column("id", BigIntKey, primary_key=True, autoincrement=True),
    Column("ticket_kind", String(10), nullable=False),
    Column("ticket_id", Uuid, nullable=False),
    Column("target", String(12), nullable=False),
    # where the ticket stands (the watcher's events carry it without reading the ticket)
    Column("ticket_number", String(20), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("service_id", Uuid),
    Column("assignment_group", String(100)),
    Column("ci_id", Uuid),
    Column("supplier_id", Uuid),
    # the clock
    Column("policy_id", Uuid, nullable=False, index=True),
    Column("target_s", Integer, nullable=False),
    Column("warn_s", Integer),
    Column("state", String(12), nullable=False),
    Column("since", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("elapsed_s", Integer, nullable=False),
    Column("warn_at", UtcDateTime),
    Column("due_at", UtcDateTime),
    Column("warned", Boolean, nullable=False),
    Column("breached", Boolean, nullable=False),
    Column("stopped_at", UtcDateTime),
    Column("pauses", Integer, nullable=False),
    # The watcher's one question: the earliest instant with a warning or breach still to raise
    # (null: nothing left). One indexed range; the planner sees its real distribution, where
    # flags and instants in separate columns made it read every open clock.
    Column("alert_at", UtcDateTime, index=True),
    UniqueConstraint("ticket_id", "target", name="uq_sla_clock_ticket_target"),
)

sla_notice = Table(
    "sla_notice",
    metadata,
    Column("ticket_id", Uuid, nullable=False),
    Column("target", String(12), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("ticket_kind", String(10), nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
    # Exactly once per ticket, target and kind: a second watcher's insert conflicts.
    PrimaryKeyConstraint("ticket_id", "target", "kind", name="pk_sla_notice"),
)


# Calendars ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarRecord:
    id: UUID
    name: str
    calendar: BusinessCalendar
    version: int
    updated_at: datetime


def working_hours_json(calendar: BusinessCalendar) -> dict[str, list[str]]:
    return {WEEKDAYS[day]: list(w.as_text()) for day, w in sorted(calendar.windows.items())}


def calendar_of(
    time_zone: str, working_hours: dict[str, Sequence[str]], holidays: Iterable[str | date]
) -> BusinessCalendar:
    windows = {WEEKDAYS.index(day): WorkingWindow.parse(*hours) for day, hours in working_hours.items()}
    days = frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in holidays)
    return BusinessCalendar(time_zone, windows, days)


def _calendar_row(record: CalendarRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "time_zone": record.calendar.time_zone,
        "working_hours": working_hours_json(record.calendar),
        "holidays": sorted(d.isoformat() for d in record.calendar.holidays),
        "version": record.version,
        "updated_at": record.updated_at,
    }


def _calendar_record(row: Any) -> CalendarRecord:
    return CalendarRecord(
        id=row.id,
        name=row.name,
        calendar=calendar_of(row.time_zone, row.working_hours, row.holidays),
        version=row.version,
        updated_at=row.updated_at,
    )


async def add_calendar(conn: AsyncConnection, record: CalendarRecord) -> None:
    await conn.execute(sla_calendar.insert(), _calendar_row(record))


async def get_calendar(conn: AsyncConnection, calendar_id: UUID) -> CalendarRecord | None:
    row = (await conn.execute(select(sla_calendar).where(sla_calendar.c.id == calendar_id))).first()
    return _calendar_record(row) if row else None


async def calendar_named(conn: AsyncConnection, name: str) -> UUID | None:
    found: UUID | None = await conn.scalar(select(sla_calendar.c.id).where(sla_calendar.c.name == name))
    return found


async def list_calendars(conn: AsyncConnection) -> list[CalendarRecord]:
    rows = await conn.execute(select(sla_calendar).order_by(sla_calendar.c.name))
    return [_calendar_record(r) for r in rows]


async def replace_calendar(conn: AsyncConnection, record: CalendarRecord, expected_version: int) -> None:
    values = _calendar_row(record)
    del values["id"]
    await update_versioned(conn, sla_calendar, record.id, expected_version, values, label=f"calendar {record.name}")


async def delete_calendar(conn: AsyncConnection, calendar_id: UUID) -> None:
    await conn.execute(delete(sla_calendar).where(sla_calendar.c.id == calendar_id))


async def policies_using_calendar(conn: AsyncConnection, calendar_id: UUID) -> int:
    count = await conn.scalar(select(func.count()).where(sla_policy.c.calendar_id == calendar_id))
    return int(count or 0)


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
    return {
        "id": policy.id,
        "name": policy.name,
        "ticket_kind": policy.ticket_kind.value,
        "service_id": policy.service_id,
        "priority": policy.priority,
        "response_target_s": policy.response_s,
        "resolution_target_s": policy.resolution_s,
        "calendar_id": policy.calendar_id,
        "warning_share": policy.warn_share,
        "on_warning": _escalation_json(policy.on_warning),
        "on_breach": _escalation_json(policy.on_breach),
        "version": policy.version,
        "updated_at": updated_at,
    }


def _policy(row: Any) -> SlaPolicy:
    return SlaPolicy(
        id=row.id,
        name=row.name,
        ticket_kind=TicketKind(row.ticket_kind),
        service_id=row.service_id,
        priority=row.priority,
        response_s=row.response_target_s,
        resolution_s=row.resolution_target_s,
        calendar_id=row.calendar_id,
        warn_share=row.warning_share,
        on_warning=_escalation(row.on_warning),
        on_breach=_escalation(row.on_breach),
        version=row.version,
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
    if ticket_kind is not None:
        query = query.where(sla_policy.c.ticket_kind == ticket_kind)
    if service_id is not None:
        query = query.where(sla_policy.c.service_id == service_id)
    rows = await conn.execute(
        query.order_by(sla_policy.c.ticket_kind, sla_policy.c.service_id, sla_policy.c.priority, sla_policy.c.id)
    )
    return [PolicyRecord(_policy(r), r.updated_at) for r in rows]


async def same_scope_policy(conn: AsyncConnection, policy: SlaPolicy) -> UUID | None:
    """Another policy for the same ticket kind, service (or default) and priority."""
    service = (
        sla_policy.c.service_id.is_(None) if policy.service_id is None else sla_policy.c.service_id == policy.service_id
    )
    query = select(sla_policy.c.id).where(
        sla_policy.c.ticket_kind == policy.ticket_kind.value,
        sla_policy.c.priority == policy.priority,
        service,
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
    conn: AsyncConnection, kind: TicketKind, priority: int, service_id: UUID | None, extra_policy_ids: Iterable[UUID]
) -> tuple[list[SlaPolicy], dict[UUID, BusinessCalendar]]:
    """In one query: the policies that may apply to a ticket (its kind and priority, its service's
    or the default), the policies its clocks are on now, and the calendars of all of them."""
    scope = and_(
        sla_policy.c.ticket_kind == kind.value,
        sla_policy.c.priority == priority,
        or_(sla_policy.c.service_id.is_(None), sla_policy.c.service_id == service_id)
        if service_id is not None
        else sla_policy.c.service_id.is_(None),
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
            calendars[row.calendar_id] = calendar_of(row.cal_time_zone, row.cal_working_hours, row.cal_holidays)
    return policies, calendars


async def all_policies(conn: AsyncConnection) -> dict[UUID, SlaPolicy]:
    return {r.id: _policy(r) for r in await conn.execute(select(sla_policy))}


async def all_calendars(conn: AsyncConnection) -> dict[UUID, BusinessCalendar]:
    return {r.id: _calendar_record(r).calendar for r in await conn.execute(select(sla_calendar))}


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
    clock = SlaClock(
        target=SlaTarget(row.target),
        policy_id=row.policy_id,
        target_s=row.target_s,
        warn_s=row.warn_s,
        state=ClockState(row.state),
        since=row.since,
        started_at=row.started_at,
        elapsed_s=row.elapsed_s,
        warn_at=row.warn_at,
        due_at=row.due_at,
        warned=row.warned,
        breached=row.breached,
        stopped_at=row.stopped_at,
        pauses=row.pauses,
    )
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
