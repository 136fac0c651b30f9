"""Supplier routes: the record, its history, the process register, scorecard and reviews."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from services.supplier import store, usecases
from services.supplier.api.common import IfMatch, Manager, Reader
from services.supplier.domain import SupplierCategory, SupplierStatus
from services.supplier.domain.performance import check_period, period_of
from services.supplier.schemas import (
    ContractCardRead,
    HistoryEntry,
    PeriodTotals,
    PriorityRead,
    ProcessCreate,
    ProcessRead,
    ProcessUpdate,
    ReviewCreate,
    ReviewRead,
    ScorecardRead,
    SubcontractorRead,
    SupplierCreate,
    SupplierPage,
    SupplierRead,
    SupplierUpdate,
    TotalsRead,
)
from services.supplier.store.contracts import amendments_from_review
from services.supplier.store.governance import ReviewRepository, processes_of, reviews_of
from services.supplier.store.history import history_of
from services.supplier.usecases import governance, performance
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.errors import NotFound
from shared.http import etag, expected_version

router = APIRouter(prefix="/api/v1/suppliers", tags=["suppliers"])


@router.post("", status_code=201, response_model=SupplierRead)
async def create_supplier(body: SupplierCreate, uow: UnitOfWorkDep, who: Manager, response: Response) -> SupplierRead:
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
    response.headers["Location"] = f"{router.prefix}/{supplier.id}"
    response.headers["ETag"] = etag(supplier.version)
    return SupplierRead.of(supplier)


@router.get("/{supplier_id}", response_model=SupplierRead)
async def get_supplier(supplier_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> SupplierRead:
    supplier = await store.get_supplier(conn, supplier_id)
    if supplier is None:
        raise NotFound(f"supplier {supplier_id} does not exist")
    response.headers["ETag"] = etag(supplier.version)
    return SupplierRead.of(supplier)


@router.patch("/{supplier_id}", response_model=SupplierRead)
async def update_supplier(
    supplier_id: UUID,
    body: SupplierUpdate,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    if_match: IfMatch = None,
) -> SupplierRead:
    edit = usecases.Edit(who.subject, expected_version(if_match))
    supplier = await usecases.update_supplier(supplier_id, body.values(), edit, uow)
    response.headers["ETag"] = etag(supplier.version)
    return SupplierRead.of(supplier)


@router.get("", response_model=SupplierPage)
async def list_suppliers(
    conn: ReadConnectionDep,
    _: Reader,
    status: SupplierStatus | None = None,
    category: SupplierCategory | None = None,
    lead_supplier_id: Annotated[UUID | None, Query(description="Only the direct sub-contractors of this lead")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
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
async def supplier_history(supplier_id: UUID, conn: ReadConnectionDep, _: Reader) -> list[HistoryEntry]:
    if await store.get_supplier(conn, supplier_id) is None:
        raise NotFound(f"supplier {supplier_id} does not exist")
    return [HistoryEntry.of(r) for r in await history_of(conn, "supplier", supplier_id)]


# ---------------------------------------------------------------------------- process register (4.2)


@router.post("/{supplier_id}/processes", status_code=201, response_model=ProcessRead, tags=["process register"])
async def register_process(
    supplier_id: UUID, body: ProcessCreate, uow: UnitOfWorkDep, _: Manager, response: Response
) -> ProcessRead:
    item = await governance.register_process(
        governance.RegisterProcess(
            supplier_id=supplier_id,
            process=body.process,
            scope=body.scope,
            measurement=body.measurement,
            process_owner=body.process_owner,
            contract_id=body.contract_id,
            kpis=tuple(body.kpis),
        ),
        uow,
    )
    response.headers["Location"] = f"{router.prefix}/{supplier_id}/processes/{item.id}"
    response.headers["ETag"] = etag(item.version)
    return ProcessRead.of(item)


@router.get("/{supplier_id}/processes", response_model=list[ProcessRead], tags=["process register"])
async def list_processes(supplier_id: UUID, conn: ReadConnectionDep, _: Reader) -> list[ProcessRead]:
    if await store.get_supplier(conn, supplier_id) is None:
        raise NotFound(f"supplier {supplier_id} does not exist")
    return [ProcessRead.of(p) for p in await processes_of(conn, supplier_id)]


@router.get("/{supplier_id}/processes/{process_id}", response_model=ProcessRead, tags=["process register"])
async def get_process(
    supplier_id: UUID, process_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response
) -> ProcessRead:
    item = await store.ProcessRepository(conn).get(supplier_id, process_id)
    if item is None:
        raise NotFound(f"supplier {supplier_id} has no process entry {process_id}")
    response.headers["ETag"] = etag(item.version)
    return ProcessRead.of(item)


@router.patch("/{supplier_id}/processes/{process_id}", response_model=ProcessRead, tags=["process register"])
async def update_process(
    supplier_id: UUID,
    process_id: UUID,
    body: ProcessUpdate,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    if_match: IfMatch = None,
) -> ProcessRead:
    edit = usecases.Edit(who.subject, expected_version(if_match))
    item = await governance.update_process(supplier_id, process_id, body.values(), edit, uow)
    response.headers["ETag"] = etag(item.version)
    return ProcessRead.of(item)


@router.delete("/{supplier_id}/processes/{process_id}", status_code=204, tags=["process register"])
async def remove_process(
    supplier_id: UUID, process_id: UUID, uow: UnitOfWorkDep, who: Manager, if_match: IfMatch = None
) -> Response:
    await governance.remove_process(
        supplier_id, process_id, usecases.Edit(who.subject, expected_version(if_match)), uow
    )
    return Response(status_code=204)


# ---------------------------------------------------------------------------- performance (7.2)


async def _scorecard(conn: ReadConnectionDep, supplier_id: UUID, period: str, trend: int) -> ScorecardRead:
    card = await performance.scorecard(conn, supplier_id, check_period(period), trend)
    return ScorecardRead(
        supplier_id=card.supplier.id,
        number=card.supplier.number,
        name=card.supplier.name,
        role=card.supplier.role,
        period=card.period,
        contracts=[
            ContractCardRead(
                contract_id=c.contract.id,
                number=c.contract.number,
                title=c.contract.title,
                status=c.contract.status,
                availability_target_pct=c.contract.availability_pct,
                targets=[PriorityRead.of(line) for line in c.lines],
                totals=TotalsRead.of(c.totals),
            )
            for c in card.contracts
        ],
        totals=TotalsRead.of(card.totals),
        trend=[PeriodTotals(period=p, totals=TotalsRead.of(t)) for p, t in card.trend],
        subcontractors=[
            SubcontractorRead(
                supplier_id=s.supplier.id,
                number=s.supplier.number,
                name=s.supplier.name,
                lead_supplier_id=s.supplier.lead_supplier_id,
                totals=TotalsRead.of(s.totals),
            )
            for s in card.subcontractors
        ],
        rollup=TotalsRead.of(card.rollup),
        rollup_trend=[PeriodTotals(period=p, totals=TotalsRead.of(t)) for p, t in card.rollup_trend],
    )


@router.get("/{supplier_id}/scorecard", response_model=ScorecardRead, tags=["performance"])
async def scorecard(
    supplier_id: UUID,
    conn: ReadConnectionDep,
    _: Reader,
    period: Annotated[str | None, Query(description="The month, YYYY-MM (default: this month, UTC)")] = None,
    trend: Annotated[int, Query(ge=0, le=24, description="How many earlier months to show")] = 6,
) -> ScorecardRead:
    return await _scorecard(conn, supplier_id, period or period_of(datetime.now(UTC)), trend)


@router.post("/{supplier_id}/reviews", status_code=201, response_model=ReviewRead, tags=["performance"])
async def record_review(
    supplier_id: UUID,
    body: ReviewCreate,
    conn: ReadConnectionDep,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
) -> ReviewRead:
    # The figures as they stand now are kept with the review (they may move as late events arrive).
    figures = (await _scorecard(conn, supplier_id, body.period, 3)).model_dump(mode="json")
    review = await governance.record_review(
        governance.RecordReview(
            supplier_id=supplier_id,
            held_on=body.held_on,
            period=body.period,
            participants=tuple(body.participants),
            findings=body.findings,
            actions=governance.review_actions([a.model_dump() for a in body.actions]),
            figures=figures,
            recorded_by=who.subject,
            contract_id=body.contract_id,
        ),
        uow,
    )
    response.headers["Location"] = f"{router.prefix}/{supplier_id}/reviews/{review.id}"
    return ReviewRead.of(review, [])


@router.get("/{supplier_id}/reviews", response_model=list[ReviewRead], tags=["performance"])
async def list_reviews(supplier_id: UUID, conn: ReadConnectionDep, _: Reader) -> list[ReviewRead]:
    if await store.get_supplier(conn, supplier_id) is None:
        raise NotFound(f"supplier {supplier_id} does not exist")
    return [ReviewRead.of(r, await amendments_from_review(conn, r.id)) for r in await reviews_of(conn, supplier_id)]


@router.get("/{supplier_id}/reviews/{review_id}", response_model=ReviewRead, tags=["performance"])
async def get_review(supplier_id: UUID, review_id: UUID, conn: ReadConnectionDep, _: Reader) -> ReviewRead:
    review = await ReviewRepository(conn).get(review_id)
    if review is None or review.supplier_id != supplier_id:
        raise NotFound(f"supplier {supplier_id} has no review {review_id}")
    return ReviewRead.of(review, await amendments_from_review(conn, review.id))
