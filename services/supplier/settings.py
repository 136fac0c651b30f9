"""Supplier service settings (`SUPPLIER_*`, falling back to `ITSM_*`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SupplierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SUPPLIER_", extra="ignore")

    service_name: ClassVar[str] = "supplier"
    default_port: ClassVar[int] = 8004

    contract_expiry_warning_days: int = Field(
        default=30, ge=0, description="Raise contract.expiring.v1 this many days before a contract's notice deadline"
    )
    contract_watch_interval_s: float = Field(default=60.0, gt=0, description="Seconds between expiry watcher passes")
    access_watch_interval_s: float = Field(
        default=300.0, gt=0, description="Seconds between access watcher passes (access reviews due, grants expired)"
    )
