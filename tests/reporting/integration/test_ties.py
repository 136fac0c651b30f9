"""Same-instant ties through the upsert the consumer runs, on PostgreSQL and on SQLite (the
one-machine default): for every fact table with a status (or a capacity level), every pair of
states set by two events at the same instant, applied in both orders, ends in the state later in
the lifecycle.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.domain.facts import FACT_TABLES, Patch
from services.reporting.store import projections as store
from services.reporting.store import tables

pytestmark = pytest.mark.asyncio(loop_scope="session")

T = datetime(2026, 10, 5, tzinfo=UTC)
D = timedelta(days=1)
UNKNOWN = "unheard_of"  # a state reporting does not know (a newer producer): below every known one


def uid(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"itsm-test/ties/{name}")


async def test_a_tie_at_one_instant_goes_to_the_later_state_in_either_order(engine: AsyncEngine) -> None:
    first: list[Patch] = []
    second: list[Patch] = []
    expected: dict[tuple[str, uuid.UUID], str] = {}
    for table in FACT_TABLES:
        for column, states in table.lifecycles.items():
            key, *others = table.key
            fixed = dict.fromkeys(others, "tie")  # a key's other parts (capacity_facts' metric)
            for a in (*states, UNKNOWN):
                for b in (*states, UNKNOWN):
                    if a == b:
                        continue
                    row = uid(f"{table.name}/{a}/{b}")
                    first.append(Patch(table, {key: row, **fixed, column: a}, T, str(uid(f"1/{row}"))))
                    second.append(Patch(table, {key: row, **fixed, column: b}, T, str(uid(f"2/{row}"))))
                    expected[(table.name, row)] = max(a, b, key=lambda s: table.tie_rank(column, s))
            # Time still comes first: a later event with an earlier state wins.
            row = uid(f"{table.name}/later")
            first.append(Patch(table, {key: row, **fixed, column: states[-1]}, T, str(uid(f"1/{row}"))))
            second.append(Patch(table, {key: row, **fixed, column: states[0]}, T + D, str(uid(f"2/{row}"))))
            expected[(table.name, row)] = states[0]
    assert len(expected) > 450
    for batch in (first, second):
        async with engine.begin() as conn:
            await store.apply_patches(conn, batch)
    found: dict[tuple[str, uuid.UUID], str] = {}
    async with engine.connect() as conn:
        for table in FACT_TABLES:
            for column in table.lifecycles:
                facts = tables.FACTS[table.name]
                key, *_ = table.key
                for r in await conn.execute(select(facts.c[key], facts.c[column])):
                    found[(table.name, r[0])] = r[1]
    assert found == expected
    contracts = {v for (name, _), v in expected.items() if name == "contract_facts"}
    assert "active" in contracts  # e.g. drafted and activated at once
    assert expected[("contract_facts", uid("contract_facts/draft/active"))] == "active"
    assert expected[("contract_facts", uid("contract_facts/active/draft"))] == "active"
