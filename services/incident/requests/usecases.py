"""Service request use cases: the catalogue, submitting a request and each action on it; every
action moves the request's SLA clocks in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.requests import events, store
from services.incident.requests.domain import CatalogueItem, ServiceRequest
from services.incident.requests.store import RequestRepository
from services.incident.sla import usecases as sla
from services.incident.sla.domain import TicketKind, request_clock_states
from services.incident.sla.store import TicketRef
from shared.errors import Conflict, NotFound, PreconditionFailed, RuleViolation
from shared.events import incident as contracts
from shared.uow import UnitOfWork

# The catalogue -----------------------------------------------------------------------------------


async def create_item(item_of: Callable[[UUID, int], CatalogueItem], uow: UnitOfWork) -> tuple[CatalogueItem, datetime]:
    """`item_of(id, version)` builds the item (its rules checked by the domain)."""
    async with uow:
        item, now = item_of(uuid4(), 1), datetime.now(UTC)
        await _refuse_duplicate_name(uow.connection, item)
        await store.add_item(uow.connection, item, now)
        await uow.commit()
    return item, now


async def replace_item(
    item_id: UUID, item_of: Callable[[UUID, int], CatalogueItem], expected_version: int | None, uow: UnitOfWork
) -> tuple[CatalogueItem, datetime]:
    """Replace an item; requests made from it keep what they were submitted with."""
    async with uow:
        current = await _item(uow.connection, item_id, expected_version)
        item, now = item_of(item_id, current.version + 1), datetime.now(UTC)
        await _refuse_duplicate_name(uow.connection, item)
        await store.replace_item(uow.connection, item, current.version, now)
        await uow.commit()
    return item, now


async def delete_item(item_id: UUID, expected_version: int | None, uow: UnitOfWork) -> None:
    async with uow:
        await _item(uow.connection, item_id, expected_version)
        if used := await store.requests_for_item(uow.connection, item_id):
            raise Conflict(f"{used} requests were made from this item; withdraw it (active: false) instead")
        await store.delete_item(uow.connection, item_id)
        await uow.commit()


async def _item(conn: AsyncConnection, item_id: UUID, expected_version: int | None) -> CatalogueItem:
    found = await store.get_item(conn, item_id)
    if found is None:
        raise NotFound(f"catalogue item {item_id} does not exist")
    item = found[0]
    if expected_version is not None and expected_version != item.version:
        raise PreconditionFailed(f"catalogue item {item.name} is at version {item.version}, not {expected_version}")
    return item


async def _refuse_duplicate_name(conn: AsyncConnection, item: CatalogueItem) -> None:
    other = await store.item_named(conn, item.name)
    if other is not None and other != item.id:
        raise Conflict(f"a catalogue item named {item.name!r} exists already", existing_id=str(other))


# Requests ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitRequest:
    catalogue_item_id: UUID
    requester: str
    title: str = ""
    description: str = ""
    requested_for: str | None = None
    priority: int | None = None


async def submit_request(cmd: SubmitRequest, uow: UnitOfWork) -> ServiceRequest:
    async with uow:
        found = await store.get_item(uow.connection, cmd.catalogue_item_id)
        if found is None:
            raise RuleViolation(f"catalogue item {cmd.catalogue_item_id} does not exist", field="catalogue_item_id")
        request = ServiceRequest.submit(
            request_id=uuid4(),
            item=found[0],
            title=cmd.title,
            description=cmd.description,
            requester=cmd.requester,
            requested_for=cmd.requested_for,
            priority=cmd.priority,
            now=datetime.now(UTC),
        )
        await RequestRepository(uow.connection).add_numbered(request)
        await track_request(uow.connection, request, new=True)
        uow.emit_pending(request, events.to_contract)
        await uow.commit()
    return request


@dataclass(frozen=True)
class Act:
    """An action on a request: who (with their roles), and which version they read (optional)."""

    request_id: UUID
    actor: str
    roles: Collection[str] = ()
    expected_version: int | None = None


async def act(cmd: Act, uow: UnitOfWork, apply: Callable[[ServiceRequest, datetime], None]) -> ServiceRequest:
    async with uow:
        requests = RequestRepository(uow.connection)
        request = await requests.get(cmd.request_id, for_update=True)
        if request is None:
            raise NotFound(f"request {cmd.request_id} does not exist")
        if cmd.expected_version is not None and cmd.expected_version != request.version:
            raise PreconditionFailed(f"{request.number} is at version {request.version}, not {cmd.expected_version}")
        read_version = request.version
        apply(request, datetime.now(UTC))
        await requests.save(request, read_version)
        sla_results = await track_request(uow.connection, request)
        uow.emit_pending(request, lambda event, r: events.to_contract(event, r, sla=sla_results))
        await uow.commit()
    return request


async def track_request(
    conn: AsyncConnection, request: ServiceRequest, *, new: bool = False
) -> list[contracts.SlaResult]:
    """The request's SLA clocks after an action (policies for ticket kind `request`)."""
    ticket = TicketRef(
        kind=TicketKind.REQUEST,
        id=request.id,
        number=request.number,
        priority=request.priority,
        service_id=request.service_id,
        assignment_group=request.assignment_group,
    )
    states = request_clock_states(request.status.value, request.needs_approval)
    return await sla.track(conn, ticket, states, request.updated_at, new=new)
