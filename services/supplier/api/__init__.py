"""The supplier service's HTTP API, by area (routes are thin: validate, call a use case, answer)."""

from services.supplier.api import access, contracts, disputes, governance, performance, records_control, suppliers

ROUTERS = [
    suppliers.router,
    governance.router,
    performance.router,
    contracts.router,
    disputes.router,
    access.by_supplier,
    access.router,
    records_control.router,
]
