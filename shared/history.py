"""Field history (ISO/IEC 20000-1 4.3.3 evidence): one table shape and one row builder for every record
that keeps who changed which field, when, from what to what and why (incidents, problems, service
requests, suppliers' records), and the API body of one entry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, Text, Uuid

from shared.db import BigIntKey, UtcDateTime
from shared.http import ApiModel


class FieldChanges(Protocol):
    """What a record's change event carries (IncidentChanged, ProblemChanged, RequestChanged)."""

    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> Enum: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def changes(self) -> Mapping[str, tuple[Any, Any]]: ...


def field_history_table(
    metadata: MetaData, name: str, key_column: str, *extra: Column[Any], action_length: int = 20
) -> Table:
    """`<record>_history`: one row per changed field, keyed by the record's id column `key_column`;
    `extra` columns (a record type, an amendment number) follow the common ones."""
    return Table(
        name,
        metadata,
        Column("id", BigIntKey, primary_key=True, autoincrement=True),
        Column(key_column, Uuid, nullable=False, index=True),
        Column("version", Integer, nullable=False),
        Column("at", UtcDateTime, nullable=False),
        Column("actor", String(200), nullable=False),
        Column("action", String(action_length), nullable=False),
        Column("field", String(50), nullable=False),
        Column("old", JSON),
        Column("new", JSON),
        Column("reason", Text, nullable=False, server_default=""),
        *extra,
    )


def history_rows(
    key_column: str, record_id: UUID, version: int, at: datetime, events: Iterable[FieldChanges]
) -> list[dict[str, Any]]:
    return [
        {
            key_column: record_id,
            "version": version,
            "at": at,
            "actor": e.actor,
            "action": e.action.value,
            "field": name,
            "old": old,
            "new": new,
            "reason": e.reason,
        }
        for e in events
        for name, (old, new) in e.changes.items()
    ]


class FieldChangeEntry(ApiModel):
    """The fields of one history entry in an API answer; each record's history body subclasses it
    under its own schema name."""

    version: int
    at: datetime
    actor: str
    action: str
    field: str
    old: Any
    new: Any
    reason: str
