"""What the supplier service publishes: its domain events turned into the published contracts."""

from __future__ import annotations

from services.supplier.domain import Supplier, SupplierRegistered
from shared.events import EventData
from shared.events.supplier import SupplierCreated


def to_contract(event: SupplierRegistered, supplier: Supplier) -> EventData:
    return SupplierCreated(
        supplier_id=event.supplier_id,
        number=supplier.number,
        name=supplier.name,
        category=supplier.category.value,
        status=supplier.status.value,
        created_at=supplier.created_at,
    )
