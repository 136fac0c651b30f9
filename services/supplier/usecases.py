"""Supplier use cases: one async function per command; only these commit."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

from services.supplier import events
from services.supplier.domain import RiskRating, Supplier, SupplierCategory, SupplierStatus
from services.supplier.store import SupplierRepository
from shared import clock
from shared.errors import Conflict
from shared.numbering import format_number
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class RegisterSupplier:
    name: str
    category: SupplierCategory
    status: SupplierStatus = SupplierStatus.ACTIVE
    risk_rating: RiskRating = RiskRating.MEDIUM
    supplier_manager: str | None = None
    contact_email: str | None = None


async def register_supplier(cmd: RegisterSupplier, uow: UnitOfWork) -> Supplier:
    async with uow:
        suppliers = SupplierRepository(uow.connection)
        existing = await suppliers.get_by_name(cmd.name)
        if existing is not None:
            raise Conflict(
                f"supplier {existing.number} is already named {existing.name!r}", supplier_id=str(existing.id)
            )
        supplier = Supplier.register(
            supplier_id=uuid4(),
            number=format_number("SUP", await suppliers.next_number()),
            name=cmd.name,
            category=cmd.category,
            status=cmd.status,
            risk_rating=cmd.risk_rating,
            supplier_manager=cmd.supplier_manager,
            contact_email=cmd.contact_email,
            now=clock.now(),
        )
        await suppliers.add(supplier)
        uow.emit_pending(supplier, events.to_contract)
        await uow.commit()
    return supplier
