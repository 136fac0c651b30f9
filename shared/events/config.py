"""Events published by the configuration (CMDB) service."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventData


class ConfigItemCreated(EventData):
    routing_key: ClassVar[str] = "ci.created.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "A configuration item was registered in the CMDB (ISO/IEC 20000-1 9.1)."

    ci_id: UUID
    number: str = Field(examples=["CI0000001"])
    name: str
    type: str
    status: str
    criticality: int = Field(ge=1, le=4)
    created_at: datetime
