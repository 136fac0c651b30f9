"""The link fields problem management and alert intake write on an incident (problem, known error,
workaround, probable-cause change), as new versions with history, and its work notes from alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.store.tables import (
    incident,
    incident_history,
)


async def link_incident_fields(
    conn: AsyncConnection, incident_id: UUID, values: dict[str, Any], *, actor: str, action: str, now: datetime
) -> bool:
    """Set link fields on an incident: a new version and a history entry per field changed, as
    for any change of the record (an agent holding the old ETag gets 412). False: no such incident."""
    row = (
        await conn.execute(
            select(incident).where(incident.c.id == incident_id).with_for_update()
            if conn.dialect.name == "postgresql"
            else select(incident).where(incident.c.id == incident_id)
        )
    ).first()
    if row is None:
        return False
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not changed:
        return True
    version = row.version + 1
    await conn.execute(
        update(incident).where(incident.c.id == incident_id).values(**changed, version=version, updated_at=now)
    )
    await conn.execute(
        incident_history.insert(),
        [
            {
                "incident_id": incident_id,
                "version": version,
                "at": now,
                "actor": actor,
                "action": action,
                "field": name,
                "old": _json(getattr(row, name)),
                "new": _json(value),
                "reason": "",
            }
            for name, value in changed.items()
        ],
    )
    return True


async def add_incident_note(
    conn: AsyncConnection, incident_id: UUID, note: str, *, actor: str, now: datetime, version: int
) -> None:
    """A work note in the incident's history (the record keeps no separate timeline yet)."""
    await conn.execute(
        incident_history.insert(),
        {
            "incident_id": incident_id,
            "version": version,
            "at": now,
            "actor": actor,
            "action": "note",
            "field": "work_note",
            "old": None,
            "new": note,
            "reason": "",
        },
    )


async def history_actors(conn: AsyncConnection, incident_id: UUID) -> list[str]:
    query = select(incident_history.c.actor).where(incident_history.c.incident_id == incident_id).distinct()
    return list((await conn.scalars(query)).all())


def _json(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
