"""SLA calendar persistence: the calendars clocks measure business time in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain.sla_calendars import BusinessCalendar, calendar_of, working_hours_json
from services.incident.store.tables import sla_calendar, sla_policy
from shared.db import update_versioned


@dataclass(frozen=True)
class CalendarRecord:
    id: UUID
    name: str
    calendar: BusinessCalendar
    version: int
    updated_at: datetime


def stored_calendar(
    time_zone: str, working_hours: Mapping[str, Sequence[str]], holidays: Iterable[str | date]
) -> BusinessCalendar:
    """A calendar as stored (its row's columns), parsed once per distinct content: every create
    reads its policy's calendar, and the same few calendars come back each time. The key is the
    content itself, so an edited calendar is a new key and never answered from the old entry."""
    hours = tuple(sorted((day, tuple(window)) for day, window in working_hours.items()))
    return _parsed_calendar(time_zone, hours, tuple(holidays))


@lru_cache(maxsize=256)
def _parsed_calendar(
    time_zone: str, hours: tuple[tuple[str, tuple[str, ...]], ...], holidays: tuple[str | date, ...]
) -> BusinessCalendar:
    return calendar_of(time_zone, {day: list(window) for day, window in hours}, holidays)


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
        calendar=stored_calendar(row.time_zone, row.working_hours, row.holidays),
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


async def all_calendars(conn: AsyncConnection) -> dict[UUID, BusinessCalendar]:
    return {r.id: _calendar_record(r).calendar for r in await conn.execute(select(sla_calendar))}
