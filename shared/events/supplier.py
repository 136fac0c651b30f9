"""Events published by the supplier service."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventData


class SupplierCreated(EventData):
    routing_key: ClassVar[str] = "supplier.created.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = "A supplier was registered (ISO/IEC 20000-1 7.2)."

    supplier_id: UUID
    number: str = Field(examples=["SUP0000001"])
    name: str
    category: str
    status: str
    created_at: datetime
