"""Supplier routes: register, read, list and edit a supplier, and its field history."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.supplier.api.deps import POLICY, Caller, CurrentSupplier
from services.supplier.domain.records import Edit
from services.supplier.domain.suppliers import SupplierCategory, SupplierStatus
from services.supplier.schemas.history import HistoryEntry
from services.supplier.schemas.suppliers import SupplierCreate, SupplierPage, SupplierRead, SupplierUpdate
from services.supplier.store import suppliers as store
from services.supplier.store.history import history_of
from services.supplier.usecases import suppliers as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset, RequiredIfMatch
from shared.http import created, expected_version, tagged

router = APIRouter(prefix="/api/v1/suppliers", tags=["suppliers"], dependencies=[Depends(POLICY.enforce)])


@router.post("", status_code=201, response_model=SupplierRead)
async def create_supplier(body: SupplierCreate, uow: UnitOfWorkDep, who: Caller, response: Response) -> SupplierRead:
    cmd = usecases.RegisterSupplier(
        name=body.name,
        category=body.category,
        status=body.status,
        risk_rating=body.risk_rating,
        supplier_manager=body.supplier_manager,
        contact_email=body.contact_email,
        contacts=tuple(c.to_domain() for c in body.contacts),
        service_ids=tuple(body.service_ids),
        ci_ids=tuple(body.ci_ids),
        lead_supplier_id=body.lead_supplier_id,
        actor=who.subject,
    )
    supplier = await usecases.register_supplier(cmd, uow)
    return created(response, f"{router.prefix}/{supplier.id}", supplier.version, SupplierRead.of(supplier))


@router.get("/{supplier_id}", response_model=SupplierRead)
async def get_supplier(supplier: CurrentSupplier, response: Response) -> SupplierRead:
    return tagged(response, supplier.version, SupplierRead.of(supplier))


@router.patch("/{supplier_id}", response_model=SupplierRead)
async def update_supplier(
    supplier_id: UUID,
    body: SupplierUpdate,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> SupplierRead:
    edit = Edit(who.subject, expected_version(if_match))
    supplier = await usecases.update_supplier(supplier_id, body.values(), edit, uow)
    return tagged(response, supplier.version, SupplierRead.of(supplier))


@router.get("", response_model=SupplierPage)
async def list_suppliers(
    conn: ReadConnectionDep,
    status: SupplierStatus | None = None,
    category: SupplierCategory | None = None,
    lead_supplier_id: Annotated[UUID | None, Query(description="Only the direct sub-contractors of this lead")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> SupplierPage:
    items, total = await store.list_suppliers(
        conn,
        status=status.value if status else None,
        category=category.value if category else None,
        lead_supplier_id=lead_supplier_id,
        limit=limit,
        offset=offset,
    )
    return SupplierPage(items=[SupplierRead.of(s) for s in items], total=total, limit=limit, offset=offset)


@router.get("/{supplier_id}/history", response_model=list[HistoryEntry])
async def supplier_history(supplier: CurrentSupplier, conn: ReadConnectionDep) -> list[HistoryEntry]:
    return [HistoryEntry.of(r) for r in await history_of(conn, "supplier", supplier.id)]
