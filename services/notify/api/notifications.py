"""Notification rules (create, list, delete) and the e-mail delivery log (list, filtered)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import PlainTextResponse

from services.notify.api.deps import POLICY, Caller, Settings
from services.notify.domain.notifications import MessageStatus
from services.notify.domain.recipients import Person, Recipient
from services.notify.schemas.notifications import (
    MessagePage,
    MessageRead,
    PersonPage,
    PersonPut,
    PersonRead,
    RuleCreate,
    RulePage,
    RuleRead,
    UserName,
)
from services.notify.store.directory import get_person, list_people
from services.notify.store.notifications import list_messages, list_rules
from services.notify.usecases import notifications as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset
from shared.errors import found

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
        recipients=[Recipient.of(r.kind.value, r.value) for r in body.recipients],
        mandatory=body.mandatory,
    )
    rule = await usecases.create_rule(cmd, who.subject, uow)
    response.headers["Location"] = f"{router.prefix}/rules/{rule.id}"
    return RuleRead.of(rule)


@router.get("/rules", response_model=RulePage)
async def list_all_rules(conn: ReadConnectionDep, limit: Limit = 50, offset: Offset = 0) -> RulePage:
    items, total = await list_rules(conn, limit=limit, offset=offset)
    return RulePage(items=[RuleRead.of(r) for r in items], total=total, limit=limit, offset=offset)


@router.post("/rules/{rule_id}/disable", response_model=RuleRead)
async def disable_rule(rule_id: UUID, uow: UnitOfWorkDep) -> RuleRead:
    """The rule matches no event from now on (kept, with what it queued before); idempotent."""
    return RuleRead.of(await usecases.set_rule_enabled(rule_id, False, uow))


@router.post("/rules/{rule_id}/enable", response_model=RuleRead)
async def enable_rule(rule_id: UUID, uow: UnitOfWorkDep) -> RuleRead:
    """The rule matches events again; idempotent."""
    return RuleRead.of(await usecases.set_rule_enabled(rule_id, True, uow))


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


Username = Annotated[UserName, Path(description="The person's user name (as in their token)")]


@router.put("/directory/{username}", response_model=PersonRead)
async def put_directory_person(username: Username, body: PersonPut, uow: UnitOfWorkDep, who: Caller) -> PersonRead:
    person = Person(
        username=username,
        address=body.address,
        name=body.name,
        groups=tuple(body.groups),
        roles=tuple(body.roles),
        suppliers=tuple(body.suppliers),
        customers=tuple(body.customers),
        locale=body.locale,
        time_zone=body.time_zone,
        quiet_start=body.quiet_start,
        quiet_end=body.quiet_end,
        digest=body.digest.value,
    )
    return PersonRead.of(await usecases.put_person(person, who.subject, uow))


@router.get("/directory", response_model=PersonPage)
async def list_directory(conn: ReadConnectionDep, limit: Limit = 50, offset: Offset = 0) -> PersonPage:
    rows, total = await list_people(conn, limit=limit, offset=offset)
    return PersonPage(items=[PersonRead.of(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/directory/{username}", response_model=PersonRead)
async def get_directory_person(username: Username, conn: ReadConnectionDep) -> PersonRead:
    return PersonRead.of(found(await get_person(conn, username), f"person {username}"))


@router.delete("/directory/{username}", status_code=204)
async def delete_directory_person(username: Username, uow: UnitOfWorkDep) -> Response:
    await usecases.delete_person(username, uow)
    return Response(status_code=204)


unsubscribe_router = APIRouter(prefix="/notifications", tags=["notifications"])
"""Public (see `api/deps.py` PUBLIC): the signed token is the credential. Like the survey pages,
a link a person (or their mail client) follows, outside the API and its document."""


@unsubscribe_router.post("/unsubscribe", status_code=200, response_class=PlainTextResponse, include_in_schema=False)
async def unsubscribe(
    uow: UnitOfWorkDep,
    settings: Settings,
    token: str = Query(min_length=10, max_length=1000, description="The signed token of the mail's link"),
) -> PlainTextResponse:
    """RFC 8058 one-click unsubscribe: a mail client POSTs `List-Unsubscribe=One-Click` to the
    mail's `List-Unsubscribe` URL; the signed token is the credential (no bearer token)."""
    secret = (settings.unsubscribe_secret.get_secret_value() or settings.jwt_secret.get_secret_value()).encode()
    await usecases.unsubscribe(token, secret, uow)
    return PlainTextResponse("You are unsubscribed from these notifications.")
