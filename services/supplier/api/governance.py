"""Governance routes under a supplier: the register of processes it operates (4.2) and its
performance reviews (7.2)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Response

from services.supplier.api.deps import POLICY, Caller, CurrentSupplier
from services.supplier.api.performance import scorecard_read
from services.supplier.domain.records import Edit
from services.supplier.schemas.governance import ProcessCreate, ProcessRead, ProcessUpdate, ReviewCreate, ReviewRead
from services.supplier.store.contracts import amendments_from_review
from services.supplier.store.governance import ProcessRepository, ReviewRepository, processes_of, reviews_of
from services.supplier.usecases import governance
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import RequiredIfMatch
from shared.errors import NotFound
from shared.http import created, expected_version, tagged

router = APIRouter(prefix="/api/v1/suppliers", tags=["suppliers"], dependencies=[Depends(POLICY.enforce)])

# ---------------------------------------------------------------------------- process register (4.2)


@router.post("/{supplier_id}/processes", status_code=201, response_model=ProcessRead, tags=["process register"])
async def register_process(
    supplier_id: UUID, body: ProcessCreate, uow: UnitOfWorkDep, response: Response
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
    return created(response, f"{router.prefix}/{supplier_id}/processes/{item.id}", item.version, ProcessRead.of(item))


@router.get("/{supplier_id}/processes", response_model=list[ProcessRead], tags=["process register"])
async def list_processes(supplier: CurrentSupplier, conn: ReadConnectionDep) -> list[ProcessRead]:
    return [ProcessRead.of(p) for p in await processes_of(conn, supplier.id)]


@router.get("/{supplier_id}/processes/{process_id}", response_model=ProcessRead, tags=["process register"])
async def get_process(supplier_id: UUID, process_id: UUID, conn: ReadConnectionDep, response: Response) -> ProcessRead:
    item = await ProcessRepository(conn).get(supplier_id, process_id)
    if item is None:
        raise NotFound(f"supplier {supplier_id} has no process entry {process_id}")
    return tagged(response, item.version, ProcessRead.of(item))


@router.patch("/{supplier_id}/processes/{process_id}", response_model=ProcessRead, tags=["process register"])
async def update_process(
    supplier_id: UUID,
    process_id: UUID,
    body: ProcessUpdate,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> ProcessRead:
    edit = Edit(who.subject, expected_version(if_match))
    item = await governance.update_process(supplier_id, process_id, body.values(), edit, uow)
    return tagged(response, item.version, ProcessRead.of(item))


@router.delete("/{supplier_id}/processes/{process_id}", status_code=204, tags=["process register"])
async def remove_process(
    supplier_id: UUID, process_id: UUID, uow: UnitOfWorkDep, who: Caller, if_match: RequiredIfMatch = None
) -> Response:
    await governance.remove_process(supplier_id, process_id, Edit(who.subject, expected_version(if_match)), uow)
    return Response(status_code=204)


# ---------------------------------------------------------------------------- reviews (7.2)


@router.post("/{supplier_id}/reviews", status_code=201, response_model=ReviewRead, tags=["performance"])
async def record_review(
    supplier_id: UUID,
    body: ReviewCreate,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
) -> ReviewRead:
    review = await governance.record_review(
        governance.RecordReview(
            supplier_id=supplier_id,
            held_on=body.held_on,
            period=body.period,
            participants=tuple(body.participants),
            findings=body.findings,
            actions=governance.review_actions([a.model_dump() for a in body.actions]),
            recorded_by=who.subject,
            contract_id=body.contract_id,
        ),
        uow,
        shown_as=lambda card: scorecard_read(card).model_dump(mode="json"),
    )
    response.headers["Location"] = f"{router.prefix}/{supplier_id}/reviews/{review.id}"
    return ReviewRead.of(review, [])


@router.get("/{supplier_id}/reviews", response_model=list[ReviewRead], tags=["performance"])
async def list_reviews(supplier: CurrentSupplier, conn: ReadConnectionDep) -> list[ReviewRead]:
    return [ReviewRead.of(r, await amendments_from_review(conn, r.id)) for r in await reviews_of(conn, supplier.id)]


@router.get("/{supplier_id}/reviews/{review_id}", response_model=ReviewRead, tags=["performance"])
async def get_review(supplier_id: UUID, review_id: UUID, conn: ReadConnectionDep) -> ReviewRead:
    review = await ReviewRepository(conn).get(review_id)
    if review is None or review.supplier_id != supplier_id:
        raise NotFound(f"supplier {supplier_id} has no review {review_id}")
    return ReviewRead.of(review, await amendments_from_review(conn, review.id))
