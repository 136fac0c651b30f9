"""Customer registry actions (ISO/IEC 20000-1 6.1, 7.1): register a customer, update it (If-Match),
record a relationship review. The services a customer consumes are business services of the
catalogue."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.customers import NUMBER_PREFIX, NUMBER_SEQUENCE, Contact, Customer, next_review
from services.config.domain.types import BUSINESS_SERVICE
from services.config.store import customers as store
from services.config.store.items import ConfigItemRepository
from shared import clock
from shared.errors import Conflict, RuleViolation, check_version, found
from shared.numbering import format_number, next_number
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class RegisterCustomer:
    name: str
    relationship_manager: str
    review_interval_days: int
    next_review: date | None = None
    contacts: tuple[Contact, ...] = ()
    service_ids: tuple[UUID, ...] = ()
    user_groups: tuple[str, ...] = ()
    interested_parties: tuple[str, ...] = field(default_factory=tuple)


async def register_customer(cmd: RegisterCustomer, uow: UnitOfWork) -> Customer:
    now = clock.now()
    review = cmd.next_review or next_review(now.date(), cmd.review_interval_days)
    async with uow:
        conn = uow.connection
        record = Customer(
            id=uuid4(),
            number="",
            name=cmd.name,
            relationship_manager=cmd.relationship_manager,
            review_interval_days=cmd.review_interval_days,
            next_review=review,
            created_at=now,
            updated_at=now,
            contacts=cmd.contacts,
            service_ids=cmd.service_ids,
            user_groups=cmd.user_groups,
            interested_parties=cmd.interested_parties,
        )
        await _check(conn, record)
        number = format_number(NUMBER_PREFIX, await next_number(conn, NUMBER_SEQUENCE))
        record = replace(record, number=number)
        await store.add_customer(conn, record)
        await uow.commit()
    return record


async def update_customer(
    customer_id: UUID, values: dict[str, object], expected: int | None, uow: UnitOfWork
) -> Customer:
    async with uow:
        conn = uow.connection
        current = found(await store.get_customer(conn, customer_id, for_update=True), f"customer {customer_id}")
        check_version(f"customer {current.number}", current.version, expected)
        record = current.updated(dict(values), clock.now())
        if record is not current:
            await _check(conn, record)
            await store.replace_customer(conn, record, current.version)
        await uow.commit()
    return record


async def review_customer(customer_id: UUID, on: date, expected: int | None, uow: UnitOfWork) -> Customer:
    """A relationship review held: the next review is set one interval after it."""
    async with uow:
        conn = uow.connection
        current = found(await store.get_customer(conn, customer_id, for_update=True), f"customer {customer_id}")
        check_version(f"customer {current.number}", current.version, expected)
        record = current.reviewed(on, clock.now())
        if record is not current:
            await store.replace_customer(conn, record, current.version)
        await uow.commit()
    return record


async def _check(conn: AsyncConnection, record: Customer) -> None:
    other = await store.customer_named(conn, record.name)
    if other is not None and other != record.id:
        raise Conflict(f"a customer named {record.name!r} exists already", existing_id=str(other))
    await require_services(conn, record.service_ids)


async def require_services(conn: AsyncConnection, service_ids: Iterable[UUID], field: str = "service_ids") -> None:
    """Each id names a business service of the catalogue."""
    items = ConfigItemRepository(conn)
    for index, service_id in enumerate(service_ids):
        item = await items.get(service_id)
        if item is None or item.ci_type != BUSINESS_SERVICE:
            raise RuleViolation(f"{service_id} is not a business service of the catalogue", field=f"{field}.{index}")
