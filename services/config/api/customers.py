"""CMDB routes, customers (ISO/IEC 20000-1 6.1, 7.1): the customer registry beside the catalogue."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.config.api.deps import POLICY
from services.config.schemas.customers import CustomerCreate, CustomerPage, CustomerRead, CustomerReview, CustomerUpdate
from services.config.store.customers import get_customer as load_customer
from services.config.store.customers import page_of_customers
from services.config.usecases import customers
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset, RequiredIfMatch
from shared.errors import found
from shared.http import created, expected_version, tagged

router = APIRouter(prefix="/api/v1/customers", tags=["customers"], dependencies=[Depends(POLICY.enforce)])


@router.post("", status_code=201, response_model=CustomerRead)
async def create_customer(body: CustomerCreate, uow: UnitOfWorkDep, response: Response) -> CustomerRead:
    record = await customers.register_customer(customers.RegisterCustomer(**body.values()), uow)
    return created(response, f"{router.prefix}/{record.id}", record.version, CustomerRead.of(record))


@router.get("", response_model=CustomerPage)
async def list_customers(
    conn: ReadConnectionDep,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="Part of the name, any case")] = None,
    review_due_by: Annotated[date | None, Query(description="Only those whose next review is on or before")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> CustomerPage:
    records, total = await page_of_customers(conn, q=q, review_due_by=review_due_by, limit=limit, offset=offset)
    return CustomerPage(items=[CustomerRead.of(r) for r in records], total=total, limit=limit, offset=offset)


@router.get("/{customer_id}", response_model=CustomerRead)
async def get_customer(customer_id: UUID, conn: ReadConnectionDep, response: Response) -> CustomerRead:
    record = found(await load_customer(conn, customer_id), f"customer {customer_id}")
    return tagged(response, record.version, CustomerRead.of(record))


@router.patch("/{customer_id}", response_model=CustomerRead)
async def update_customer(
    customer_id: UUID, body: CustomerUpdate, uow: UnitOfWorkDep, response: Response, if_match: RequiredIfMatch = None
) -> CustomerRead:
    record = await customers.update_customer(customer_id, body.values(), expected_version(if_match), uow)
    return tagged(response, record.version, CustomerRead.of(record))


@router.post("/{customer_id}/reviews", response_model=CustomerRead)
async def review_customer(
    customer_id: UUID, body: CustomerReview, uow: UnitOfWorkDep, response: Response, if_match: RequiredIfMatch = None
) -> CustomerRead:
    """A relationship review was held: the next review falls one interval after it."""
    record = await customers.review_customer(customer_id, body.reviewed_on, expected_version(if_match), uow)
    return tagged(response, record.version, CustomerRead.of(record))
