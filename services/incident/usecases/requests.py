"""Service request use cases: submitting a request and each action on it; every action moves the
request's SLA clocks in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from services.incident import events
from services.incident.domain.requests import ServiceRequest
from services.incident.domain.sla import TicketKind, request_clock_states
from services.incident.store.catalogue import CatalogueRepository
from services.incident.store.requests import RequestRepository
from services.incident.store.sla import SlaClockRepository, TicketRef
from services.incident.usecases import sla
from shared import clock
from shared.errors import RuleViolation, check_version, found
from shared.events import incident as contracts
from shared.uow import AnyUnitOfWork


@dataclass(frozen=True)
class SubmitRequest:
    catalogue_item_id: UUID
    requester: str
    title: str = ""
    description: str = ""
    requested_for: str | None = None
    priority: int | None = None


async def submit_request(cmd: SubmitRequest, uow: AnyUnitOfWork) -> ServiceRequest:
    async with uow:
        request = await record_request(cmd, uow)
        await uow.commit()
    return request


async def record_request(cmd: SubmitRequest, uow: AnyUnitOfWork) -> ServiceRequest:
    """Record a request in the caller's open unit of work (which commits); a consumer's handler
    calls this, `submit_request` is the command of its own transaction."""
    listed = await uow.repository(CatalogueRepository).get(cmd.catalogue_item_id)
    if listed is None:
        raise RuleViolation(f"catalogue item {cmd.catalogue_item_id} does not exist", field="catalogue_item_id")
    request = ServiceRequest.submit(
        request_id=uuid4(),
        item=listed[0],
        title=cmd.title,
        description=cmd.description,
        requester=cmd.requester,
        requested_for=cmd.requested_for,
        priority=cmd.priority,
        now=clock.now(),
    )
    await uow.repository(RequestRepository).add_numbered(request)
    await track_request(uow.repository(SlaClockRepository), request, new=True)
    uow.emit_pending(request, events.request_contract)
    return request


@dataclass(frozen=True)
class Act:
    """An action on a request: who (with their roles), and which version they read (optional)."""

    request_id: UUID
    actor: str
    roles: Collection[str] = ()
    expected_version: int | None = None


async def _act(cmd: Act, uow: AnyUnitOfWork, apply: Callable[[ServiceRequest, datetime], None]) -> ServiceRequest:
    async with uow:
        requests = uow.repository(RequestRepository)
        request = found(await requests.get(cmd.request_id, for_update=True), f"request {cmd.request_id}")
        check_version(request.number, request.version, cmd.expected_version)
        read_version = request.version
        apply(request, clock.now())
        await requests.save(request, read_version)
        sla_results = await track_request(uow.repository(SlaClockRepository), request)
        uow.emit_pending(request, lambda event, r: events.request_contract(event, r, sla=sla_results))
        await uow.commit()
    return request


# ---------------------------------------------------------------------------- the named actions
# Each is `_act` with its domain action; `cmd.actor` (holding `cmd.roles`) is who does it.


async def approve_request(cmd: Act, uow: AnyUnitOfWork, *, reason: str = "") -> ServiceRequest:
    """The item's approver role; never the requester or the person it is for (403)."""
    return await _act(cmd, uow, lambda r, now: r.approve(cmd.actor, cmd.roles, now, reason))


async def reject_request(cmd: Act, uow: AnyUnitOfWork, *, reason: str) -> ServiceRequest:
    return await _act(cmd, uow, lambda r, now: r.reject(cmd.actor, cmd.roles, now, reason))


async def start_fulfilment(cmd: Act, uow: AnyUnitOfWork, *, assignee: str | None = None) -> ServiceRequest:
    return await _act(cmd, uow, lambda r, now: r.start(cmd.actor, now, assignee))


async def fulfil_request(cmd: Act, uow: AnyUnitOfWork, *, notes: str = "") -> ServiceRequest:
    return await _act(cmd, uow, lambda r, now: r.fulfil(cmd.actor, now, notes))


async def close_request(cmd: Act, uow: AnyUnitOfWork) -> ServiceRequest:
    return await _act(cmd, uow, lambda r, now: r.close(cmd.actor, now))


async def cancel_request(cmd: Act, uow: AnyUnitOfWork, *, reason: str) -> ServiceRequest:
    return await _act(cmd, uow, lambda r, now: r.cancel(cmd.actor, now, reason))


async def track_request(
    store: SlaClockRepository, request: ServiceRequest, *, new: bool = False
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
    return await sla.track(store, ticket, states, request.updated_at, new=new)
