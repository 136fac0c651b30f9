"""The known error database's routes (ISO/IEC 20000-1 8.2): search, read, enter directly, retire."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.incident.api.deps import POLICY, Caller, CurrentKnownError
from services.incident.domain.known_errors import KnownErrorStatus
from services.incident.schemas.known_errors import KnownErrorCreate, KnownErrorPage, KnownErrorRead
from services.incident.store import known_errors
from services.incident.usecases import known_errors as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset

router = APIRouter(prefix="/api/v1/known-errors", tags=["known errors"], dependencies=[Depends(POLICY.enforce)])
"""Every route is in the service's authorisation table (`api/deps.py`), checked before anything else."""

Text = Annotated[str | None, Query(min_length=1, max_length=200, description="Words in the text, or a number")]
CategoryQuery = Annotated[str | None, Query(min_length=1, max_length=100)]


@router.get("", response_model=KnownErrorPage)
async def search_known_errors(
    conn: ReadConnectionDep,
    q: Text = None,
    ci_id: UUID | None = None,
    service_id: UUID | None = None,
    category: CategoryQuery = None,
    status: KnownErrorStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> KnownErrorPage:
    items, total = await known_errors.search_known_errors(
        conn,
        text_query=q,
        ci_id=ci_id,
        service_id=service_id,
        category=category,
        status=status.value if status else None,
        limit=limit,
        offset=offset,
    )
    return KnownErrorPage(items=[KnownErrorRead.of(k) for k in items], total=total, limit=limit, offset=offset)


@router.post("", status_code=201, response_model=KnownErrorRead)
async def record_known_error(
    body: KnownErrorCreate, uow: UnitOfWorkDep, who: Caller, response: Response
) -> KnownErrorRead:
    record = await usecases.record_known_error(usecases.RecordKnownError(actor=who.subject, **body.model_dump()), uow)
    response.headers["Location"] = f"{router.prefix}/{record.id}"
    return KnownErrorRead.of(record)


@router.get("/{known_error_id}", response_model=KnownErrorRead)
async def get_known_error(record: CurrentKnownError) -> KnownErrorRead:
    return KnownErrorRead.of(record)


@router.post("/{known_error_id}/retire", response_model=KnownErrorRead)
async def retire_known_error(known_error_id: UUID, uow: UnitOfWorkDep) -> KnownErrorRead:
    return KnownErrorRead.of(await usecases.retire_known_error(known_error_id, uow))
