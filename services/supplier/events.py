"""What the supplier service publishes (domain event -> contract) and consumes (none yet)."""

from __future__ import annotations

from collections.abc import Mapping

from services.supplier.domain import Supplier, SupplierRegistered
from shared.events import EventData
from shared.events.supplier import SupplierCreated
from shared.messaging import Handler


def to_contract(event: SupplierRegistered, supplier: Supplier) -> EventData:
    return SupplierCreated(
        supplier_id=event.supplier_id,
        number=supplier.number,
        name=supplier.name,
        category=supplier.category.value,
        status=supplier.status.value,
        created_at=supplier.created_at,
    )


HANDLERS: Mapping[str, Handler] = {}
"""Consumed routing keys -> handlers; the service's queue is bound to exactly these keys."""
