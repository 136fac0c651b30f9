"""What the CMDB consumes: change events, turned into use-case calls (the consumer commits)."""

from __future__ import annotations

from collections.abc import Mapping

from services.config.usecases import change_control, relationships
from shared.events.change import ChangeApproved, ChangeCancelled, ChangeCreated, ChangeFailed, ChangeImplemented
from shared.events.supplier import ContractActivated
from shared.messaging import Handler, data_handlers

HANDLERS: Mapping[str, Handler] = data_handlers(
    (ChangeCreated, change_control.on_change_created),
    (ChangeApproved, change_control.on_change_approved),
    (ChangeImplemented, change_control.apply_implemented_change),
    (ChangeCancelled, change_control.on_change_ended),
    (ChangeFailed, change_control.on_change_ended),
    (ContractActivated, relationships.record_contract_support),
)
"""Consumed routing keys -> handlers; the service's queue is bound to exactly these keys."""
