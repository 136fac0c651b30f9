"""Human-friendly record numbers beside UUIDs: `INC0000001`, `CHG0000311`, `CI0000042`.

PostgreSQL draws them from a sequence (no lock held until commit, so concurrent creates do not
queue); SQLite, which serialises writers anyway, from a counter row. Numbers may skip after a
rollback, never repeat.
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, Sequence, String, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import BigIntKey


def number_sequence_table(metadata: MetaData) -> Table:
    return Table(
        "number_sequence",
        metadata,
        Column("name", String(50), primary_key=True),
        Column("value", BigIntKey, nullable=False),
    )


def sequence_name(name: str) -> str:
    return f"{name}_number_seq"


def postgres_sequence(name: str) -> Sequence:
    return Sequence(sequence_name(name), start=1)


async def next_number(conn: AsyncConnection, name: str) -> int:
    if conn.dialect.name == "postgresql":
        value = await conn.scalar(text(f"SELECT nextval('{sequence_name(name)}')"))
    else:
        await conn.execute(
            text("INSERT INTO number_sequence (name, value) VALUES (:n, 0) ON CONFLICT (name) DO NOTHING"), {"n": name}
        )
        value = await conn.scalar(
            text("UPDATE number_sequence SET value = value + 1 WHERE name = :n RETURNING value"), {"n": name}
        )
    return int(value)


async def next_numbers(conn: AsyncConnection, name: str, count: int) -> list[int]:
    """`count` numbers in one round trip (bulk creates: discovery, imports)."""
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = await conn.execute(
            text(f"SELECT nextval('{sequence_name(name)}') FROM generate_series(1, :n)"), {"n": count}
        )
        return [int(r[0]) for r in rows]
    last = await next_number(conn, name)
    if count > 1:
        await conn.execute(
            text("UPDATE number_sequence SET value = value + :k WHERE name = :n"), {"k": count - 1, "n": name}
        )
    return list(range(last, last + count))


def format_number(prefix: str, value: int) -> str:
    return f"{prefix}{value:07d}"
