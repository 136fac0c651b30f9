"""Supplier service composition root: `uvicorn --factory services.supplier.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.supplier import api, store, worker
from services.supplier.settings import SupplierSettings
from shared.app import build_app
from shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="supplier",
    title="ITSM supplier service",
    description="Suppliers, contracts and supplier performance (ISO/IEC 20000-1 7.2, 4.2).",
    metadata=store.metadata,
    handlers=worker.HANDLERS,
)


def create_app(settings: SupplierSettings | None = None) -> FastAPI:
    return build_app(SPEC, settings or SupplierSettings(), [api.router])
