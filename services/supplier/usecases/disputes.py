"""Dispute use cases (7.2): open one, and each step of its lifecycle (one transaction each)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID, uuid4

from services.supplier import events
from services.supplier.domain.disputes import Dispute, DisputeAction
from services.supplier.domain.records import Edit
from services.supplier.store.disputes import DisputeRepository
from services.supplier.usecases.contracts import check_contract_of
from services.supplier.usecases.suppliers import require_supplier
from shared import clock
from shared.errors import found
from shared.numbering import format_number
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class OpenDispute:
    supplier_id: UUID
    title: str
    owner: str
    description: str = ""
    contract_id: UUID | None = None
    amount: Decimal | None = None
    currency: str | None = None


def _emit(uow: UnitOfWork, item: Dispute) -> None:
    for event in item.pending_events:
        data = events.dispute_to_contract(event, item)
        if data is not None:
            uow.emit(data, subject=str(item.id))
    item.pending_events.clear()


async def open_dispute(cmd: OpenDispute, actor: str, uow: UnitOfWork) -> Dispute:
    async with uow:
        conn = uow.connection
        await require_supplier(conn, cmd.supplier_id, field="supplier_id")
        await check_contract_of(conn, cmd.contract_id, cmd.supplier_id)
        disputes = DisputeRepository(conn)
        item = Dispute.open(
            dispute_id=uuid4(),
            number=format_number("DSP", await disputes.next_number()),
            supplier_id=cmd.supplier_id,
            contract_id=cmd.contract_id,
            title=cmd.title,
            description=cmd.description,
            owner=cmd.owner,
            amount=cmd.amount,
            currency=cmd.currency,
            actor=actor,
            now=clock.now(),
        )
        await disputes.add(item)
        _emit(uow, item)
        await uow.commit()
    return item


async def act_on_dispute(
    dispute_id: UUID, action: DisputeAction, note: str, resolution: str | None, edit: Edit, uow: UnitOfWork
) -> Dispute:
    async with uow:
        disputes = DisputeRepository(uow.connection)
        item = found(await disputes.get(dispute_id, for_update=True), f"dispute {dispute_id}")
        edit.check(item.number, item.version)
        item.act(action, note=note, actor=edit.actor, now=clock.now(), resolution=resolution)
        await disputes.save(item)
        _emit(uow, item)
        await uow.commit()
    return item
