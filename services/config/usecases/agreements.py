"""Agreement actions (ISO/IEC 20000-1 6.1, 8.3.3): draft an SLA (with a customer) or an OLA (with an
internal group), edit the draft, agree it under an approved change (superseding the version in
force), draft the next version, retire. Each move is published with the version's terms
(`agreement.agreed.v1`, `.superseded.v1`, `.retired.v1`): the incident service sets its SLA
policies from them and reporting measures compliance per customer."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.config import events
from services.config.domain.agreements import (
    NUMBER_SEQUENCE,
    PREFIX,
    Agreement,
    AgreementKind,
    AgreementStatus,
    PriorityTarget,
)
from services.config.domain.items import ChangeWindow
from services.config.store import agreements as store
from services.config.store.change_control import change_window_by_number
from services.config.store.customers import get_customer
from services.config.usecases.customers import require_services
from shared import clock
from shared.errors import Conflict, RuleViolation, check_version, found
from shared.numbering import format_number, next_number
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class DraftAgreement:
    kind: AgreementKind
    title: str
    customer_id: UUID | None
    group: str | None
    service_ids: tuple[UUID, ...]
    targets: tuple[PriorityTarget, ...]
    availability_pct: float
    calendar: str
    review_date: date
    exclusions: tuple[str, ...] = ()


async def draft_agreement(cmd: DraftAgreement, uow: UnitOfWork, actor: str) -> Agreement:
    now = clock.now()
    record = Agreement(
        id=uuid4(),
        number="",
        document_version=1,
        created_at=now,
        created_by=actor,
        updated_at=now,
        **cmd.__dict__,
    )
    async with uow:
        conn = uow.connection
        await _check(conn, record)
        number = format_number(PREFIX[record.kind], await next_number(conn, NUMBER_SEQUENCE))
        record = replace(record, number=number)
        await store.add_agreement(conn, record)
        await uow.commit()
    return record


async def revise_agreement(
    agreement_id: UUID, values: dict[str, Any], expected: int | None, uow: UnitOfWork
) -> Agreement:
    async with uow:
        conn = uow.connection
        current = await _current(conn, agreement_id, expected)
        record = current.revised(values, clock.now())
        await _check(conn, record)
        await store.save_agreement(conn, record, current.version)
        await uow.commit()
    return record


async def agree_agreement(
    agreement_id: UUID, change_number: str | None, expected: int | None, uow: UnitOfWork, actor: str
) -> Agreement:
    """Agree a draft under an approved change; the version in force (if any) is superseded by it."""
    async with uow:
        conn = uow.connection
        current, change = await _under_change(conn, agreement_id, expected, change_number)
        now = clock.now()
        agreed = current.agree(change, change_number, now, actor)
        in_force = [v for v in await store.versions_of(conn, current.number) if v.status is AgreementStatus.AGREED]
        name = await _customer_name(conn, agreed)
        for old in in_force:
            superseded = old.superseded(agreed.id, now)
            await store.save_agreement(conn, superseded, old.version)
            moved = replace(superseded, change_number=change_number)  # the event names the change that moved it
            uow.emit(events.agreement_moved(moved, name, actor), subject=str(old.id))
        await store.save_agreement(conn, agreed, current.version)
        supersedes = in_force[0].id if in_force else None
        uow.emit(events.agreement_moved(agreed, name, actor, supersedes=supersedes), subject=str(agreed.id))
        await uow.commit()
    return agreed


async def retire_agreement(
    agreement_id: UUID, change_number: str | None, expected: int | None, uow: UnitOfWork, actor: str
) -> Agreement:
    async with uow:
        conn = uow.connection
        current, change = await _under_change(conn, agreement_id, expected, change_number)
        retired = current.retire(change, change_number, clock.now())
        await store.save_agreement(conn, retired, current.version)
        if current.status is AgreementStatus.AGREED:
            moved = replace(retired, change_number=change_number)
            uow.emit(events.agreement_moved(moved, await _customer_name(conn, moved), actor), subject=str(moved.id))
        await uow.commit()
    return retired


async def next_version(agreement_id: UUID, uow: UnitOfWork, actor: str) -> Agreement:
    """Draft the next version of an agreed version, with its terms (one draft at a time)."""
    async with uow:
        conn = uow.connection
        current = found(await store.get_agreement(conn, agreement_id), f"agreement {agreement_id}")
        versions = await store.versions_of(conn, current.number)
        if draft := next((v for v in versions if v.status is AgreementStatus.DRAFT), None):
            raise Conflict(f"{draft.number} has a draft already (v{draft.document_version})", existing_id=str(draft.id))
        record = current.next_version(uuid4(), clock.now(), actor)
        record = replace(record, document_version=max(v.document_version for v in versions) + 1)
        await store.add_agreement(conn, record)
        await uow.commit()
    return record


async def _current(conn: AsyncConnection, agreement_id: UUID, expected: int | None) -> Agreement:
    current = found(await store.get_agreement(conn, agreement_id, for_update=True), f"agreement {agreement_id}")
    check_version(f"{current.number} v{current.document_version}", current.version, expected)
    return current


async def _under_change(
    conn: AsyncConnection, agreement_id: UUID, expected: int | None, change_number: str | None
) -> tuple[Agreement, ChangeWindow | None]:
    """The version to move (locked, at the version read) and the change named for the move."""
    change = await change_window_by_number(conn, change_number) if change_number else None
    return await _current(conn, agreement_id, expected), change


async def _check(conn: AsyncConnection, record: Agreement) -> None:
    await require_services(conn, record.service_ids)
    if record.customer_id is None:
        return
    customer = await get_customer(conn, record.customer_id)
    if customer is None:
        raise RuleViolation(f"there is no customer {record.customer_id}", field="customer_id")
    for index, service_id in enumerate(record.service_ids):
        if service_id not in customer.service_ids:
            raise RuleViolation(
                f"{customer.number} does not consume service {service_id}: add it to the customer's services first",
                field=f"service_ids.{index}",
            )


async def _customer_name(conn: AsyncConnection, record: Agreement) -> str | None:
    if record.customer_id is None:
        return None
    customer = await get_customer(conn, record.customer_id)
    return customer.name if customer else None
