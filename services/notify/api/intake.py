"""E-mail intake: the log of the messages taken from the desk's mailbox (with their outcome and
attachments), an attachment's content, and the recipients the desk's mail bounced from."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response

from services.notify.api.deps import POLICY
from services.notify.domain.intake import Outcome
from services.notify.schemas.intake import BouncedPage, BouncedRead, IntakePage, IntakeRead
from services.notify.store import intake as store
from services.notify.usecases import intake as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset
from shared.errors import found

router = APIRouter(prefix="/api/v1/mail", tags=["mail intake"], dependencies=[Depends(POLICY.enforce)])

Address = Annotated[str, Path(min_length=3, max_length=320)]


@router.get("/intake", response_model=IntakePage)
async def list_intake_log(
    conn: ReadConnectionDep,
    outcome: Outcome | None = None,
    sender: str | None = Query(default=None, max_length=320),
    limit: Limit = 50,
    offset: Offset = 0,
) -> IntakePage:
    rows, total = await store.list_intake(
        conn, outcome=outcome.value if outcome else None, sender=sender, limit=limit, offset=offset
    )
    attachments = await store.attachments_of(conn, [r.id for r in rows])
    items = [IntakeRead.of(r, [a for a in attachments if a.intake_id == r.id]) for r in rows]
    return IntakePage(items=items, total=total, limit=limit, offset=offset)


@router.get("/intake/{intake_id}", response_model=IntakeRead)
async def get_intake_record(intake_id: UUID, conn: ReadConnectionDep) -> IntakeRead:
    row = found(await store.get_intake(conn, intake_id), f"intake message {intake_id}")
    return IntakeRead.of(row, await store.attachments_of(conn, [row.id]))


@router.get("/attachments/{attachment_id}", response_class=Response)
async def get_attachment_content(attachment_id: UUID, conn: ReadConnectionDep) -> Response:
    """The stored content of an attachment (refused ones have none: 404)."""
    row = await store.get_attachment(conn, attachment_id)
    row = found(row if row is not None and row.content is not None else None, f"stored attachment {attachment_id}")
    safe_name = "".join(c for c in row.filename if c.isalnum() or c in "._- ")[:100] or "attachment"
    headers = {
        "Content-Disposition": f'attachment; filename="{safe_name}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",  # an SVG opened anyway runs nothing
    }
    return Response(content=row.content, media_type=row.content_type, headers=headers)


@router.get("/bounces", response_model=BouncedPage)
async def list_bounced_recipients(conn: ReadConnectionDep, limit: Limit = 50, offset: Offset = 0) -> BouncedPage:
    rows, total = await store.list_bounced(conn, limit=limit, offset=offset)
    return BouncedPage(items=[BouncedRead.of(r) for r in rows], total=total, limit=limit, offset=offset)


@router.delete("/bounces/{address}", status_code=204)
async def clear_bounced_recipient(address: Address, uow: UnitOfWorkDep) -> Response:
    """Forget a bounce (the address was fixed): the messages held for it are sent again. 204 also
    when the address is not (or no longer) bounced: the state asked for holds."""
    await usecases.clear_bounce(address, uow)
    return Response(status_code=204)
