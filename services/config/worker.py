"""What the CMDB consumes: change events, turned into use-case calls (the consumer commits)."""

from __future__ import annotations

from collections.abc import Mapping

from services.config.usecases import change_control, relationships
from shared.events import CloudEvent
from shared.events.change import ChangeApproved, ChangeCreated, ChangeImplemented
from shared.events.supplier import ContractActivated
from shared.messaging import Handler
from shared.uow import UnitOfWork


async def on_change_created(event: CloudEvent, uow: UnitOfWork) -> None:
    await change_control.on_change_created(event.data_as(ChangeCreated), uow)


async def on_change_approved(event: CloudEvent, uow: UnitOfWork) -> None:
    await change_control.on_change_approved(event.data_as(ChangeApproved), uow)


async def on_change_implemented(event: CloudEvent, uow: UnitOfWork) -> None:
    await change_control.apply_implemented_change(event.data_as(ChangeImplemented), uow)


async def on_contract_activated(event: CloudEvent, uow: UnitOfWork) -> None:
    await relationships.record_contract_support(event.data_as(ContractActivated), uow)


HANDLERS: Mapping[str, Handler] = {
    ChangeCreated.routing_key: on_change_created,
    ChangeApproved.routing_key: on_change_approved,
    ChangeImplemented.routing_key: on_change_implemented,
    ContractActivated.routing_key: on_contract_activated,
}
"""Consumed routing keys -> handlers; the service's queue is bound to exactly these keys."""
