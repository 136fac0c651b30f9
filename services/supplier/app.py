"""Supplier service composition root: `uvicorn --factory services.supplier.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.supplier import worker
from services.supplier.api import ROUTERS
from services.supplier.settings import SupplierSettings
from services.supplier.store.records_control import DISPOSABLES
from services.supplier.store.tables import metadata, retention
from services.supplier.usecases import access
from services.supplier.usecases.contracts import JOB_NAME, watch_contract_expiry
from shared.app import build_app
from shared.periodic import PeriodicJob
from shared.retention_store import disposal_job
from shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="supplier",
    title="ITSM supplier service",
    description=(
        "Suppliers, the processes they operate, contracts and their lifecycle, supplier performance measured"
        " from incident, SLA and change events, reviews and disputes (ISO/IEC 20000-1 7.2, 4.2), and the register"
        " of the access suppliers have to the organisation's services and information (6.6.2)."
    ),
    metadata=metadata,
    handlers=worker.HANDLERS,
    periodic=(
        PeriodicJob(JOB_NAME, watch_contract_expiry, lambda s: s.contract_watch_interval_s),
        # Supplier access grants whose review has fallen due or whose expiry has come (6.6.2).
        PeriodicJob(access.JOB_NAME, access.watch_access, lambda s: s.access_watch_interval_s),
        # Disputes past their retention period (ISO/IEC 20000-1 4.3.3).
        disposal_job(retention, DISPOSABLES),
    ),
)


def create_app(settings: SupplierSettings | None = None) -> FastAPI:
    return build_app(SPEC, settings or SupplierSettings(), ROUTERS)
