"""Repair of records that earlier versions stored but the current code cannot read back or would
refuse as input (`itsm repair`): free-form JSON beyond the bounds of `shared.json_limits`, NULL
where a read model requires text.

Each service declares what to check as data (`RepairTarget`: which table, which column, which
rule) and a use case that writes the fix with its evidence (field history, an update event);
this module finds the damage and hands each damaged record to that use case.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Table, Text, cast, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.json_limits import MAX_JSON_BYTES, MAX_JSON_DEPTH, cut_at_depth, json_bound_broken, json_size
from shared.uow import AnyUnitOfWork

REPAIR_ACTOR = "itsm-repair"
"""Who the evidence of a repair names."""
CUT_MARKER = f"[cut by itsm repair: nested deeper than {MAX_JSON_DEPTH} levels]"
"""What stands where a branch nested too deep was cut off."""
REPLACED_KEY = "_itsm_repair"
"""The one key of an object that replaced a value too large (or unreadable) to keep."""


@dataclass(frozen=True)
class Rule:
    """What a column must hold: `diagnose` says why a value breaks it (None: it does not),
    `repaired` gives the value to store instead."""

    name: str
    diagnose: Callable[[Any], str | None]
    repaired: Callable[[Any], Any]


class Unreadable:
    """A stored JSON text that cannot even be parsed here (nested too deep for the decoder)."""

    def __init__(self, size: int) -> None:
        self.size = size


def _object_problem(value: Any) -> str | None:
    if isinstance(value, Unreadable):
        return f"cannot be parsed ({value.size} bytes, nested too deep)"
    if not isinstance(value, dict):
        return f"not a JSON object ({'NULL' if value is None else type(value).__name__})"
    return json_bound_broken(value)


def _object_repaired(value: Any) -> Any:
    if isinstance(value, Unreadable):
        return {REPLACED_KEY: f"replaced by itsm repair: {value.size} bytes that could not be parsed"}
    if not isinstance(value, dict):
        return {}
    cut = cut_at_depth(value, MAX_JSON_DEPTH, CUT_MARKER)
    size = json_size(cut)
    if size > MAX_JSON_BYTES:
        return {REPLACED_KEY: f"replaced by itsm repair: {size} bytes, over the {MAX_JSON_BYTES}-byte limit"}
    return cut


FREE_JSON_OBJECT = Rule("free-form JSON object", _object_problem, _object_repaired)
"""A client's free-form object (`shared.json_limits.FreeJson`): an object, within its depth and size."""
REQUIRED_TEXT = Rule(
    "required text",
    lambda value: "NULL in a field the record requires" if value is None else None,
    lambda value: "",
)
"""Text the read model requires (an empty text is a value it accepts)."""

Fix = Callable[[AnyUnitOfWork, Any, dict[str, Any], dict[str, str]], Awaitable[None]]
"""A service's repair use case: (unit of work, record key, field -> repaired value, field -> why);
it opens the unit of work, writes the values with their evidence and commits."""


@dataclass(frozen=True)
class RepairTarget:
    """One table to check: `label` is the column that names a record to people (its number),
    `key` the one that finds it again (its primary key)."""

    table: Table
    label: str
    rules: Mapping[str, Rule]
    fix: Fix
    key: str = "id"


@dataclass(frozen=True)
class Finding:
    table: str
    record_key: Any
    record: str
    field: str
    why: str
    repaired: Any


def decoded_json(text: str | None) -> Any:
    """A stored JSON text parsed, or `Unreadable` when it nests beyond what the parser takes."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except RecursionError:
        return Unreadable(len(text.encode()))


async def find_damage(conn: AsyncConnection, target: RepairTarget) -> list[Finding]:
    """Every value of the target's columns that breaks its rule. JSON is read as text and parsed
    here, so a value too deep for the driver's decoder is found too."""
    table = target.table
    json_columns = {name for name in target.rules if isinstance(table.c[name].type, JSON)}
    columns = [
        cast(table.c[name], Text).label(name) if name in json_columns else table.c[name] for name in target.rules
    ]
    key = table.c[target.key]
    query = select(key.label("record_key"), table.c[target.label].label("record_label"), *columns).order_by(key)
    findings = []
    # Streamed, so a large table is checked in bounded memory.
    async for row in await conn.stream(query.execution_options(yield_per=1000)):
        for name, rule in target.rules.items():
            value = decoded_json(row._mapping[name]) if name in json_columns else row._mapping[name]
            why = rule.diagnose(value)
            if why is not None:
                findings.append(
                    Finding(table.name, row.record_key, str(row.record_label), name, why, rule.repaired(value))
                )
    return findings


async def repair(unit_of_work: Callable[[], AnyUnitOfWork], target: RepairTarget, findings: list[Finding]) -> int:
    """Fix each damaged record in a transaction of its own; returns how many records were fixed."""
    by_record: dict[Any, list[Finding]] = {}
    for finding in findings:
        by_record.setdefault(finding.record_key, []).append(finding)
    for key, found in by_record.items():
        await target.fix(unit_of_work(), key, {f.field: f.repaired for f in found}, {f.field: f.why for f in found})
    return len(by_record)
