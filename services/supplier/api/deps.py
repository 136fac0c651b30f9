"""What the supplier routes share: the role that may write, and the records they address, loaded
or 404 (`Reader`, `IfMatch` and `found` come from shared.deps)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends

from services.supplier.domain.contracts import Contract
from services.supplier.domain.disputes import Dispute
from services.supplier.domain.suppliers import Supplier
from services.supplier.store.contracts import get_contract
from services.supplier.store.disputes import DisputeRepository
from services.supplier.store.suppliers import get_supplier
from shared.app import ReadConnectionDep
from shared.auth import Principal, Role, require_roles
from shared.errors import found

Manager = Annotated[Principal, Depends(require_roles(Role.SUPPLIER_MANAGER))]
"""Every write (admin passes every check); reads take `shared.deps.Reader`."""


async def current_supplier(supplier_id: UUID, conn: ReadConnectionDep) -> Supplier:
    return found(await get_supplier(conn, supplier_id), f"supplier {supplier_id}")


async def current_contract(contract_id: UUID, conn: ReadConnectionDep) -> Contract:
    return found(await get_contract(conn, contract_id), f"contract {contract_id}")


async def current_dispute(dispute_id: UUID, conn: ReadConnectionDep) -> Dispute:
    return found(await DisputeRepository(conn).get(dispute_id), f"dispute {dispute_id}")


CurrentSupplier = Annotated[Supplier, Depends(current_supplier)]
CurrentContract = Annotated[Contract, Depends(current_contract)]
CurrentDispute = Annotated[Dispute, Depends(current_dispute)]
