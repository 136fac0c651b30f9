"""Supplier routes: validate, call the use case, return a schema."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.supplier import store, usecases
from services.supplier.domain import SupplierCategory, SupplierStatus
from services.supplier.schemas import SupplierCreate, SupplierPage, SupplierRead
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import READ_ROLES, Principal, Role, require_roles
from shared.errors import NotFound

router = APIRouter(prefix="/api/v1/suppliers", tags=["suppliers"])

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
Manager = Annotated[Principal, Depends(require_roles(Role.SUPPLIER_MANAGER))]


@router.post("", status_code=201, response_model=SupplierRead)
async def create_supplier(body: SupplierCreate, uow: UnitOfWorkDep, _: Manager, response: Response) -> SupplierRead:
    supplier = await usecases.register_supplier(usecases.RegisterSupplier(**body.model_dump()), uow)
    response.headers["Location"] = f"{router.prefix}/{supplier.id}"
    response.headers["ETag"] = f'W/"{supplier.version}"'
    return SupplierRead.of(supplier)


@router.get("/{supplier_id}", response_model=SupplierRead)
async def get_supplier(supplier_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> SupplierRead:
    supplier = await store.get_supplier(conn, supplier_id)
    if supplier is None:
        raise NotFound(f"supplier {supplier_id} does not exist")
    response.headers["ETag"] = f'W/"{supplier.version}"'
    return SupplierRead.of(supplier)


@router.get("", response_model=SupplierPage)
async def list_suppliers(
    conn: ReadConnectionDep,
    _: Reader,
    status: SupplierStatus | None = None,
    category: SupplierCategory | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SupplierPage:
    items, total = await store.list_suppliers(
        conn,
        status=status.value if status else None,
        category=category.value if category else None,
        limit=limit,
        offset=offset,
    )
    return SupplierPage(items=[SupplierRead.of(s) for s in items], total=total, limit=limit, offset=offset)
