"""CMDB store, customers (ISO/IEC 20000-1 6.1): the customer registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.customers import Contact, Customer
from services.config.store.tables import customer
from shared.db import page, record_of, row_by_id, row_values, update_versioned


def _row(record: Customer) -> dict[str, Any]:
    return row_values(
        customer,
        record,
        contacts=[{"name": c.name, "email": c.email, "role": c.role} for c in record.contacts],
        service_ids=[str(s) for s in record.service_ids],
        user_groups=list(record.user_groups),
        interested_parties=list(record.interested_parties),
    )


def customer_of(row: Any) -> Customer:
    return record_of(
        Customer,
        row,
        contacts=tuple(Contact(**c) for c in row.contacts),
        service_ids=tuple(UUID(s) for s in row.service_ids),
        user_groups=tuple(row.user_groups),
        interested_parties=tuple(row.interested_parties),
    )


async def add_customer(conn: AsyncConnection, record: Customer) -> None:
    await conn.execute(customer.insert(), _row(record))


async def replace_customer(conn: AsyncConnection, record: Customer, expected_version: int) -> None:
    values = _row(record)
    del values["id"]
    await update_versioned(conn, customer, record.id, expected_version, values, label=f"customer {record.number}")


async def get_customer(conn: AsyncConnection, customer_id: UUID, *, for_update: bool = False) -> Customer | None:
    row = await row_by_id(conn, customer, customer_id, for_update=for_update)
    return customer_of(row) if row is not None else None


async def customer_named(conn: AsyncConnection, name: str) -> UUID | None:
    found: UUID | None = await conn.scalar(select(customer.c.id).where(func.lower(customer.c.name) == name.lower()))
    return found


async def page_of_customers(
    conn: AsyncConnection, *, q: str | None, review_due_by: Any, limit: int, offset: int
) -> tuple[Sequence[Customer], int]:
    query = select(customer)
    if q:
        query = query.where(func.lower(customer.c.name).contains(q.lower(), autoescape=True))
    if review_due_by is not None:
        query = query.where(customer.c.next_review <= review_due_by)
    rows, total = await page(conn, query, customer.c.name, customer.c.id, limit=limit, offset=offset)
    return [customer_of(r) for r in rows], total
