"""Notification rules (create, list, delete) and the e-mail delivery log (list, filtered)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.notify.api.deps import POLICY, Caller
from services.notify.domain.notifications import MessageStatus
from services.notify.schemas.notifications import MessagePage, MessageRead, RuleCreate, RulePage, RuleRead
from services.notify.store.notifications import list_messages, list_rules
from services.notify.usecases import notifications as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"], dependencies=[Depends(POLICY.enforce)])


@router.post("/rules", status_code=201, response_model=RuleRead)
async def create_rule(body: RuleCreate, uow: UnitOfWorkDep, who: Caller, response: Response) -> RuleRead:
    cmd = usecases.NewRule(
        name=body.name,
        event_pattern=body.event_pattern,
        template=body.template,
        recipient_fields=list(body.recipient_fields),
        data_filter=dict(body.data_filter),
        enabled=body.enabled,
    )
    rule = await usecases.create_rule(cmd, who.subject, uow)
    response.headers["Location"] = f"{router.prefix}/rules/{rule.id}"
    return RuleRead.of(rule)


@router.get("/rules", response_model=RulePage)
async def list_all_rules(conn: ReadConnectionDep, limit: Limit = 50, offset: Offset = 0) -> RulePage:
    items, total = await list_rules(conn, limit=limit, offset=offset)
    return RulePage(items=[RuleRead.of(r) for r in items], total=total, limit=limit, offset=offset)


@router.delete("/rules/{rule_id}", status_code=204)
async def delete_rule_record(rule_id: UUID, uow: UnitOfWorkDep) -> Response:
    await usecases.delete_rule(rule_id, uow)
    return Response(status_code=204)


@router.get("/messages", response_model=MessagePage)
async def list_all_messages(
    conn: ReadConnectionDep,
    status: MessageStatus | None = None,
    event_id: UUID | None = None,
    recipient: str | None = Query(default=None, max_length=320),
    limit: Limit = 50,
    offset: Offset = 0,
) -> MessagePage:
    rows, total = await list_messages(
        conn,
        status=status.value if status else None,
        event_id=event_id,
        recipient=recipient,
        limit=limit,
        offset=offset,
    )
    return MessagePage(items=[MessageRead.of(r) for r in rows], total=total, limit=limit, offset=offset)
