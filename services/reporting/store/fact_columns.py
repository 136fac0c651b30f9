"""How a fact table of `domain.facts` becomes a table: each column's type from its name, its
merge rule's shape (a LATEST column's stamp, an ADD counter), the columns reports select by
indexed. `store.tables` declares every fact table through `fact_table`."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Date, Float, Index, Integer, MetaData, String, Table, Uuid
from sqlalchemy.types import TypeEngine

from services.reporting.domain.facts import FactTable, Merge
from shared.db import UtcDateTime

_BOOLEAN = {"major", "response_met", "resolution_met", "fulfilment_met", "response_breached"}
_BOOLEAN |= {"resolution_breached", "fulfilment_breached", "backed_out", "covered"}
_BOOLEAN |= {"estimate_stated", "actual_stated"}
_INTEGER = {"priority", "impact", "urgency", "criticality", "incident_count", "score", "document_version"}
_INTEGER |= {"allocation_version"}
_DAYS = {"period_start", "period_end", "incurred_on"}
_TEXT_IDS = {"finding_id", "breach_id"}
_FLOAT = {"target", "actual", "value", "warning", "critical", "runway_to_critical_s", "availability_pct"}


def _column_type(name: str) -> TypeEngine[Any]:
    if name in _TEXT_IDS:
        return String(36)
    if name.endswith("_id"):
        return Uuid()
    if name.endswith("_at") or name in ("starts_on", "ends_on"):
        return UtcDateTime()
    if name in _DAYS:
        return Date()
    if name.endswith("_cents"):
        return BigInteger()  # money: exact integer cents (domain/costs.py)
    if name == "currency":
        return String(3)
    if name in _BOOLEAN:
        return Boolean()
    if name in _INTEGER:
        return Integer()
    if name in _FLOAT:
        return Float()
    return String(200)


def stamp(column: str) -> str:
    """The column holding when a LATEST column's value happened (the time of its event)."""
    return f"{column}_stamp"


def fact_table(
    spec: FactTable,
    metadata: MetaData,
    indexed: Collection[str] = (),
    indexed_where_set: Collection[str] = (),
) -> Table:
    """`spec` as a table of `metadata`: its key the primary key, a stamp beside each LATEST column,
    the order columns (`updated_at`, `updated_event`) last; `indexed` columns get an index,
    `indexed_where_set` ones a partial index of the rows where they are set."""
    columns: list[Column[Any]] = []
    for name, merge in spec.columns.items():
        if merge is Merge.KEY:
            columns.append(Column(name, _column_type(name), primary_key=True, index=name in indexed))
        elif merge is Merge.ADD:
            columns.append(Column(name, Integer, nullable=False, server_default="0"))
        else:
            columns.append(Column(name, _column_type(name), index=name in indexed))
        if merge is Merge.LATEST:
            columns.append(Column(stamp(name), UtcDateTime))
    columns.append(Column("updated_at", UtcDateTime, nullable=False))
    columns.append(Column("updated_event", String(36), nullable=False))
    table = Table(spec.name, metadata, *columns)
    for name in indexed_where_set:
        column = table.c[name]
        Index(f"ix_{spec.name}_{name}", column, postgresql_where=column.is_not(None), sqlite_where=column.is_not(None))
    return table


def fact_tables(
    specs: Collection[FactTable],
    metadata: MetaData,
    indexed: Mapping[str, Collection[str]],
    indexed_where_set: Mapping[str, Collection[str]],
) -> dict[str, Table]:
    """Every spec as a table (`fact_table`), by name."""
    return {
        spec.name: fact_table(spec, metadata, indexed.get(spec.name, ()), indexed_where_set.get(spec.name, ()))
        for spec in specs
    }
