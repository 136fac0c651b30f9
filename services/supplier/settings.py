"""Supplier service settings (`SUPPLIER_*`, falling back to `ITSM_*`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SupplierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SUPPLIER_", extra="ignore")

    service_name: ClassVar[str] = "supplier"
    default_port: ClassVar[int] = 8004
